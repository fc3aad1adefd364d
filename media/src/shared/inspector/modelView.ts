// Model view: every head of every layer as a small heatmap (rows: layers, columns: heads),
// drawn on one canvas. Click (or Enter on the focused cell) opens that head's heatmap.
// Thumbnails are drawn a few milliseconds' worth per task and kept, so the grid appears at once
// and fills in, and every later redraw is a copy. With grouped-query attention the heads that
// share a key/value head stand together: a gap and a dashed divider between groups, "kv g" above.
import { el, onResize, type Ctx, type View } from './context';
import { drawMatrix } from './matrix';
import { fitCanvas } from './theme';

const GAP = 4;
const FRAME_BUDGET_MS = 12;
const LABEL = 28;
/** Extra space between key/value groups, and the row above the head labels that names them. */
const GROUP_GAP = 12;
const GROUP_LABEL = 16;

export class ModelView implements View {
  readonly root = el('div', { class: 'view model-view' });
  private readonly canvas = el('canvas', { tabindex: '0', 'aria-label': 'All heads; arrow keys choose one, Enter opens it' });
  private readonly caption = el('div', { class: 'readout', 'aria-live': 'polite' });
  private cell = 48;
  /** Drawn thumbnails by "layer,head", for the current cell size (the data never changes). */
  private readonly thumbs = new Map<string, ImageData>();
  private thumbPx = 0;
  private pending = 0;

  constructor(private readonly ctx: Ctx) {
    const { data } = ctx;
    if (data.grouped) {
      this.canvas.setAttribute('aria-label', `All heads, ${groupsText(data.NH, data.NKV)}; arrow keys choose one, Enter opens it`);
      this.caption.textContent = this.restingCaption();
    }
    this.root.append(this.canvas, this.caption);
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hit(e);
      if (hit) this.ctx.set({ layer: hit.layer, head: hit.head, view: 'heatmap' });
    });
    this.canvas.addEventListener('mousemove', (e) => {
      const hit = this.hit(e);
      const kv = this.ctx.data.grouped && hit ? ` (key/value group ${this.ctx.data.kvHead(hit.head)})` : '';
      this.caption.textContent = hit ? `layer ${hit.layer}, head ${hit.head}${kv}: click to open` : this.restingCaption();
    });
    this.canvas.addEventListener('keydown', (e) => {
      const { layer, head } = this.ctx.ui;
      const { L, NH } = this.ctx.data;
      const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (d[e.key]) {
        e.preventDefault();
        this.ctx.set({ layer: clamp(layer + d[e.key]![0], L), head: clamp(head + d[e.key]![1], NH) });
      } else if (e.key === 'Enter') this.ctx.set({ view: 'heatmap' });
    });
    onResize(this.root, () => this.render());
  }

  private restingCaption(): string {
    const { data } = this.ctx;
    if (!data.grouped) return 'Rows are layers, columns are heads.';
    return `Rows are layers, columns are heads: ${groupsText(data.NH, data.NKV)} (dashed lines divide the groups; the heads of a group share their keys and values).`;
  }

  /** Left edge of head h's column. */
  private colX(h: number): number {
    const { data } = this.ctx;
    return LABEL + h * (this.cell + GAP) + (data.grouped ? data.kvHead(h) * GROUP_GAP : 0);
  }

  /** Top edge of the first row. */
  private top(): number {
    return LABEL + (this.ctx.data.grouped ? GROUP_LABEL : 0);
  }

  private hit(e: MouseEvent): { layer: number; head: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    const layer = Math.floor((e.clientY - r.top - this.top()) / (this.cell + GAP));
    const { L, NH } = this.ctx.data;
    let head = -1;
    for (let h = 0; h < NH && head < 0; h++) if (x >= this.colX(h) && x < this.colX(h) + this.cell + GAP) head = h;
    return layer >= 0 && layer < L && head >= 0 ? { layer, head } : null;
  }

  render(): void {
    if (this.pending) {
      clearTimeout(this.pending);
      this.pending = 0;
    }
    const started = performance.now();
    let missing = false;
    const { data, ui, theme } = this.ctx;
    const { L, NH, NKV, T } = data;
    const groupGaps = data.grouped ? (NKV - 1) * GROUP_GAP : 0;
    this.cell = Math.max(16, Math.min(96, Math.floor((this.root.clientWidth - LABEL - 8 - groupGaps) / NH) - GAP));
    const top = this.top();
    const W = LABEL + NH * (this.cell + GAP) + groupGaps;
    const H = top + L * (this.cell + GAP);
    const g = fitCanvas(this.canvas, W, H);
    g.clearRect(0, 0, W, H);
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round(this.cell * dpr);
    if (px !== this.thumbPx) {
      this.thumbs.clear();
      this.thumbPx = px;
    }
    g.fillStyle = theme.muted;
    g.font = '10px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    for (let h = 0; h < NH; h++) g.fillText(`h${h}`, this.colX(h) + this.cell / 2, top - LABEL / 2);
    if (data.grouped) this.drawGroups(g, H);
    for (let l = 0; l < L; l++) {
      g.fillStyle = theme.muted;
      g.fillText(`L${l}`, LABEL / 2, top + l * (this.cell + GAP) + this.cell / 2);
      for (let h = 0; h < NH; h++) {
        const x = this.colX(h);
        const y = top + l * (this.cell + GAP);
        const m = data.matrix(l, h);
        if (m) {
          let img = this.thumbs.get(`${l},${h}`);
          if (!img && performance.now() - started < FRAME_BUDGET_MS) {
            img = g.createImageData(px, px);
            drawMatrix(img, m, T, theme.heat, theme.heat[0]!);
            this.thumbs.set(`${l},${h}`, img);
          }
          if (img) g.putImageData(img, Math.round(x * dpr), Math.round(y * dpr));
          else missing = true;
        } else {
          g.fillText('…', x + this.cell / 2, y + this.cell / 2);
        }
      }
    }
    g.strokeStyle = theme.accent;
    g.lineWidth = 2;
    g.strokeRect(this.colX(ui.head) - 1, top + ui.layer * (this.cell + GAP) - 1, this.cell + 2, this.cell + 2);
    // The rest in later tasks, so the browser paints in between.
    if (missing && this.root.isConnected) {
      this.pending = window.setTimeout(() => {
        this.pending = 0;
        this.render();
      }, 0);
    }
  }

  /** Above each key/value group its name over a bracket; between groups a dashed line down the grid. */
  private drawGroups(g: CanvasRenderingContext2D, H: number): void {
    const { data, theme } = this.ctx;
    const dividers: number[] = [];
    g.save();
    g.strokeStyle = theme.muted;
    g.fillStyle = theme.muted;
    g.lineWidth = 1;
    for (let kv = 0; kv < data.NKV; kv++) {
      const [first, last] = data.groupHeads(kv);
      const x0 = this.colX(first);
      const x1 = this.colX(last) + this.cell;
      g.fillText(`kv${kv}`, (x0 + x1) / 2, GROUP_LABEL / 2 - 1);
      g.beginPath();
      g.moveTo(x0 + 0.5, GROUP_LABEL - 1);
      g.lineTo(x0 + 0.5, GROUP_LABEL - 4);
      g.lineTo(x1 - 0.5, GROUP_LABEL - 4);
      g.lineTo(x1 - 0.5, GROUP_LABEL - 1);
      g.stroke();
      if (kv > 0) dividers.push(Math.round(x0 - (GAP + GROUP_GAP) / 2) + 0.5);
    }
    g.setLineDash([4, 3]);
    for (const x of dividers) {
      g.beginPath();
      g.moveTo(x, 2);
      g.lineTo(x, H - GAP);
      g.stroke();
    }
    g.restore();
    this.canvas.dataset.dividers = dividers.join(',');
  }
}

function groupsText(NH: number, NKV: number): string {
  return `${NH} query heads in ${NKV} key/value ${NKV === 1 ? 'group' : 'groups'}`;
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}
