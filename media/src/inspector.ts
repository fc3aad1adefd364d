// The attention inspector's webview: receives one inspection (metadata first, then the
// attention of each layer), and shows it through switchable views. The UI state is saved
// with setState on every change, so a hidden-then-shown or reloaded panel comes back as it was.
import type { HostToWebview, InspectorPersistedState, InspectorSource, InspectorUiState, InspectorViewId, WebviewToHost } from './shared/inspectorProtocol';
import { el, type Ctx, type View } from './shared/inspector/context';
import { InspectorData } from './shared/inspector/data';
import { EXPLAIN, KV_GROUPS_TEXT } from './shared/inspector/explain';
import { HeadView } from './shared/inspector/headView';
import { HeatmapView } from './shared/inspector/heatmapView';
import { LensView } from './shared/inspector/lensView';
import { ModelView } from './shared/inspector/modelView';
import { PositionsView } from './shared/inspector/positionsView';
import { StepperView } from './shared/inspector/stepperView';
import { readTheme } from './shared/inspector/theme';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): InspectorPersistedState | undefined;
  setState(state: InspectorPersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const VIEWS: InspectorViewId[] = ['heads', 'model', 'heatmap', 'aggregate', 'stepper', 'lens', 'positions'];

const saved = vscode.getState();
let source: InspectorSource | null = saved?.source ?? null;
let ctx: Ctx | null = null;
let highlighted = new Set<number>();
const views = new Map<InspectorViewId, View>();
// Measured for the benchmark: from the data's arrival to the first frame that shows it.
let metaAt = 0;
let firstPaint = false;

const app = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
const tabs = el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' });
const toolbar = el('div', { class: 'toolbar' });
const layerSelect = el('select', { 'aria-label': 'Layer' });
const threshold = el('input', { type: 'range', min: '0', max: '0.5', step: '0.01', 'aria-label': 'Hide lines weaker than' });
const topK = el('input', { type: 'number', min: '0', max: '64', step: '1', 'aria-label': 'Lines per token and head (0: all)' });
const explain = el('details', { class: 'explain', open: '' });
const stage = el('main', { class: 'stage' });
const status = el('div', { class: 'status', role: 'status', 'aria-live': 'polite' }, 'Waiting for the model…');

for (const id of VIEWS) {
  const b = el('button', { role: 'tab', id: `tab-${id}`, 'data-view': id, 'aria-selected': 'false', tabindex: '-1' }, EXPLAIN[id].title);
  b.addEventListener('click', () => ctx?.set({ view: id }));
  tabs.append(b);
}
tabs.addEventListener('keydown', (e) => {
  if (!ctx || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
  const i = VIEWS.indexOf(ctx.ui.view);
  const next = VIEWS[(i + (e.key === 'ArrowLeft' ? VIEWS.length - 1 : 1)) % VIEWS.length]!;
  ctx.set({ view: next });
  document.getElementById(`tab-${next}`)?.focus();
});
const layerLabel = el('label', {}, 'Layer ');
layerLabel.append(layerSelect);
const thresholdLabel = el('label', { title: 'Hide attention lines weaker than this' }, 'Min weight ');
thresholdLabel.append(threshold);
const topKLabel = el('label', { title: 'Draw at most this many lines per token and head (0: all)' }, 'Top-k lines ');
topKLabel.append(topK);
toolbar.append(layerLabel, thresholdLabel, topKLabel);
app.append(tabs, toolbar, explain, stage, status);
// Until data arrives, the page explains what it will show instead of offering empty controls.
app.classList.add('waiting');
explain.replaceChildren(el('summary', {}, 'What this panel shows'), el('p', {}, EXPLAIN.heads.text));
layerSelect.addEventListener('change', () => ctx?.set({ layer: Number(layerSelect.value) }));
threshold.addEventListener('input', () => ctx?.set({ threshold: Number(threshold.value) }));
topK.addEventListener('change', () => ctx?.set({ topK: Math.max(0, Math.floor(Number(topK.value) || 0)) }));
document.addEventListener('keydown', (e) => {
  if (!ctx || (e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT') return;
  if (e.key === '[' || e.key === ']') ctx.set({ layer: Math.max(0, Math.min(ctx.data.L - 1, ctx.ui.layer + (e.key === '[' ? -1 : 1))) });
});

function defaultUi(data: InspectorData): InspectorUiState {
  return {
    view: 'heads',
    layer: 0,
    head: 0,
    heads: new Array(data.NH).fill(true),
    token: data.T - 1,
    threshold: 0.05,
    topK: data.T > 256 ? 3 : 8,
    aggregate: 'mean',
    temperature: 1,
  };
}

/** A saved state fits only the same shape of data; anything else starts fresh. */
function fitUi(ui: InspectorUiState | null, data: InspectorData): InspectorUiState {
  const d = defaultUi(data);
  if (!ui || !Array.isArray(ui.heads) || ui.heads.length !== data.NH) return d;
  return {
    ...d,
    ...ui,
    layer: Math.min(Math.max(0, ui.layer | 0), data.L - 1),
    head: Math.min(Math.max(0, ui.head | 0), data.NH - 1),
    token: Math.min(Math.max(0, ui.token | 0), data.T - 1),
    view: VIEWS.includes(ui.view) ? ui.view : d.view,
  };
}

function save(): void {
  vscode.setState({ ui: ctx?.ui ?? saved?.ui ?? null, source });
}

function viewFor(id: InspectorViewId, c: Ctx): View {
  let v = views.get(id);
  if (!v) {
    if (id === 'heads') v = new HeadView(c);
    else if (id === 'model') v = new ModelView(c);
    else if (id === 'heatmap') v = new HeatmapView(c, false);
    else if (id === 'aggregate') v = new HeatmapView(c, true);
    else if (id === 'stepper') v = new StepperView(c);
    else if (id === 'lens') v = new LensView(c);
    else v = new PositionsView(c);
    views.set(id, v);
  }
  return v;
}

function render(): void {
  if (!ctx) return;
  const started = performance.now();
  const { ui, data } = ctx;
  tabs.querySelectorAll<HTMLButtonElement>('[role=tab]').forEach((b) => {
    const on = b.dataset.view === ui.view;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  });
  layerSelect.value = String(ui.layer);
  threshold.value = String(ui.threshold);
  topK.value = String(ui.topK);
  const lines = ui.view === 'heads';
  thresholdLabel.hidden = !lines;
  topKLabel.hidden = !lines;
  layerLabel.hidden = ui.view === 'model' || ui.view === 'lens' || ui.view === 'positions';
  const groups = data.grouped && (ui.view === 'heads' || ui.view === 'model') ? ` ${KV_GROUPS_TEXT}` : '';
  explain.replaceChildren(el('summary', {}, `What am I looking at? (${EXPLAIN[ui.view].title})`), el('p', {}, EXPLAIN[ui.view].text + groups));
  const view = viewFor(ui.view, ctx);
  if (stage.firstChild !== view.root) {
    stage.replaceChildren(view.root);
    view.root.setAttribute('role', 'tabpanel');
    view.root.setAttribute('aria-labelledby', `tab-${ui.view}`);
  }
  view.render();
  const loaded = Array.from({ length: data.L }, (_, l) => data.hasLayer(l)).filter(Boolean).length;
  if (loaded === data.L) status.textContent = `${source?.label ?? 'Inspection'}: ${data.T} tokens (${data.meta.promptLength} prompt), ${data.L} layers × ${headsText(data)}, ${data.meta.model.modelType}.`;
  // Canvas drawing happens in the next animation frame; time to the end of that frame.
  requestAnimationFrame(() => {
    const ms = performance.now() - started;
    document.body.dataset.lastRenderMs = ms.toFixed(1);
    if (!firstPaint && data.hasLayer(ui.layer)) {
      firstPaint = true;
      document.body.dataset.firstPaintMs = (performance.now() - metaAt).toFixed(1);
      warmLayers();
    }
  });
}

/** "12 heads", or with grouped-query attention "14 query heads sharing 2 key/value heads (groups of 7)". */
function headsText(data: InspectorData): string {
  if (!data.grouped) return `${data.NH} heads`;
  const kv = data.NKV === 1 ? '1 key/value head' : `${data.NKV} key/value heads`;
  return `${data.NH} query heads sharing ${kv} (groups of ${data.groupSize})`;
}

/** After the first paint, decodes the other layers one task at a time, between frames. */
function warmLayers(): void {
  const c = ctx;
  setTimeout(() => {
    if (c !== null && c === ctx && c.data.warm()) warmLayers();
  }, 0);
}

function start(meta: Extract<HostToWebview, { type: 'meta' }>): void {
  metaAt = performance.now();
  firstPaint = false;
  app.classList.remove('waiting');
  const data = new InspectorData(meta.meta);
  source = meta.source;
  views.clear();
  highlighted = new Set();
  layerSelect.replaceChildren(...Array.from({ length: data.L }, (_, l) => el('option', { value: String(l) }, String(l))));
  const c: Ctx = {
    data,
    ui: fitUi(ctx?.ui ?? saved?.ui ?? null, data),
    theme: readTheme(),
    get highlighted() {
      return highlighted;
    },
    set(patch) {
      c.ui = { ...c.ui, ...patch };
      save();
      render();
    },
    hover: (token) => vscode.postMessage({ type: 'hoverToken', token }),
    reveal: (token) => vscode.postMessage({ type: 'revealToken', token }),
  };
  ctx = c;
  save();
  render();
}

window.addEventListener('message', (e: MessageEvent<HostToWebview>) => {
  const m = e.data;
  if (m.type === 'status') {
    status.textContent = m.message;
    app.classList.toggle('busy', m.busy);
  } else if (m.type === 'meta') {
    start(m);
  } else if (m.type === 'layer' && ctx) {
    ctx.data.setLayer(m.layer, m.data);
    if (firstPaint) warmLayers();
    if (m.layer === ctx.ui.layer || ctx.ui.view === 'model') render();
    else status.textContent = `Receiving attention: layer ${m.layer + 1} of ${ctx.data.L}…`;
    if (m.layer === ctx.data.L - 1) render();
  } else if (m.type === 'highlightTokens' && ctx) {
    highlighted = new Set(m.tokens);
    const first = m.tokens[0];
    const head = views.get('heads');
    if (first !== undefined && head instanceof HeadView) head.scrollToToken(first);
    render();
  }
});

// The theme changes by rewriting the body's class and style: re-read the colours then.
new MutationObserver(() => {
  if (!ctx) return;
  ctx.theme = readTheme();
  views.clear();
  render();
}).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });

vscode.postMessage({ type: 'ready' });
