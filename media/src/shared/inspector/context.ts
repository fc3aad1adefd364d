// What every view gets: the data, the UI state, the theme, and the ways to change them.
import type { InspectorUiState } from '../inspectorProtocol';
import type { InspectorData } from './data';
import type { Theme } from './theme';

export interface Ctx {
  data: InspectorData;
  ui: InspectorUiState;
  theme: Theme;
  /** Tokens selected in the editor. */
  highlighted: ReadonlySet<number>;
  /** Changes the UI state, saves it and redraws the current view. */
  set(patch: Partial<InspectorUiState>): void;
  /** A token under the pointer (null: none): the editor highlights its range. */
  hover(token: number | null): void;
  /** A token clicked: the editor reveals it. */
  reveal(token: number): void;
}

export interface View {
  readonly root: HTMLElement;
  /** Redraws from ctx; called after every state change and when data arrives. */
  render(): void;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Calls redraw when el changes size. The first observation (made when el is attached, just
 * after the view drew itself) is skipped, so opening a view draws it once, not twice.
 */
export function onResize(el: HTMLElement, redraw: () => void): void {
  let seen = false;
  new ResizeObserver(() => {
    if (seen) redraw();
    seen = true;
  }).observe(el);
}
