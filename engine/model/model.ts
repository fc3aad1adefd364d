// A loaded model: its config, the parameter layout and the one buffer holding every weight.
import type { ModelConfig } from './config';
import { buildLayout, paramViews, type ParamLayout, type ParamViews } from './layout';

export interface Model {
  config: ModelConfig;
  layout: ParamLayout;
  params: Float32Array; // (layout.total)
  views: ParamViews;
  /** Folder it was loaded from, or null for a model made in memory. */
  dir: string | null;
}

export function createModel(config: ModelConfig, params?: Float32Array, dir: string | null = null): Model {
  const layout = buildLayout(config);
  const buffer = params ?? new Float32Array(layout.total);
  return { config, layout, params: buffer, views: paramViews(layout, buffer), dir };
}
