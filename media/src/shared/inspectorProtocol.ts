// Messages between the inspector panel (extension host) and its webview. Both sides import
// these types, so a renamed field is a compile error on both ends of the channel.
import type { InspectionMetaWire, LayerWire } from '../../../engine/inspect/wire';

export type InspectorViewId = 'heads' | 'model' | 'heatmap' | 'aggregate' | 'stepper' | 'lens' | 'positions';

/** What the user was looking at; kept with getState/setState and by the panel serializer. */
export interface InspectorUiState {
  view: InspectorViewId;
  layer: number;
  head: number;
  /** Heads drawn in the head view (one flag per head). */
  heads: boolean[];
  /** The query token the head view, stepper and logit lens focus on (-1: none). */
  token: number;
  /** Lines weaker than this are not drawn. */
  threshold: number;
  /** At most this many lines per query token and head (0: no limit). */
  topK: number;
  aggregate: 'mean' | 'rollout';
  temperature: number;
}

/** Where the inspected tokens came from, so a reloaded panel can ask for them again. */
export interface InspectorSource {
  label: string;
  documentUri: string | null;
  ids: number[];
  promptLength: number;
  segments: { textStart: number; length: number; docOffset: number }[];
}

export interface InspectorPersistedState {
  ui: InspectorUiState | null;
  source: InspectorSource | null;
}

export type InspectionMeta = InspectionMetaWire;

export type HostToWebview =
  | { type: 'status'; message: string; busy: boolean }
  | { type: 'meta'; meta: InspectionMeta; source: InspectorSource }
  | { type: 'layer'; layer: number; data: LayerWire }
  | { type: 'highlightTokens'; tokens: number[] };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'hoverToken'; token: number | null }
  | { type: 'revealToken'; token: number };

export function isWebviewToHost(m: unknown): m is WebviewToHost {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  if (o.type === 'hoverToken') return o.token === null || (typeof o.token === 'number' && Number.isInteger(o.token));
  if (o.type === 'revealToken') return typeof o.token === 'number' && Number.isInteger(o.token);
  return false;
}
