// Model view: every head of every layer as a small heatmap (rows: layers, columns: heads),
// drawn on one canvas. Click (or Enter on the focused cell) opens that head's heatmap.
// Thumbnails are drawn a few milliseconds' worth per task and kept, so the grid appears at once
// and fills in, and every later redraw is a copy.
import { el, onResize, type Ctx, type View } from './context';
import { drawMatrix } from './matrix';
import { fitCanvas } from './theme';

const GAP = 4;
const FRAME_BUDGET_MS = 12;
const LABEL = 28;

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
    this.root.append(this.canvas, this.caption);
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hit(e);
      if (hit) this.ctx.set({ layer: hit.layer, head: hit.head, view: 'heatmap' });
    });
    this.canvas.addEventListener('mousemove', (e) => {
      const hit = this.hit(e);
      this.caption.textContent = hit ? `layer ${hit.layer}, head ${hit.head}: click to open` : 'Rows are layers, columns are heads.';
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

  private hit(e: MouseEvent): { layer: number; head: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const head = Math.floor((e.clientX - r.left - LABEL) / (this.cell + GAP));
    const layer = Math.floor((e.clientY - r.top - LABEL) / (this.cell + GAP));
    const { L, NH } = this.ctx.data;
    return layer >= 0 && layer < L && head >= 0 && head < NH ? { layer, head } : null;
  }

  render(): void {
    if (this.pending) {
      clearTimeout(this.pending);
      this.pending = 0;
    }
    const started = performance.now();
    let missing = false;
    const { data, ui, theme } = this.ctx;
    const { L, NH, T } = data;
    this.cell = Math.max(16, Math.min(96, Math.floor((this.root.clientWidth - LABEL - 8) / NH) - GAP));
    const W = LABEL + NH * (this.cell + GAP);
    const H = LABEL + L * (this.cell + GAP);
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
    for (let h = 0; h < NH; h++) g.fillText(`h${h}`, LABEL + h * (this.cell + GAP) + this.cell / 2, LABEL / 2);
    for (let l = 0; l < L; l++) {
      g.fillStyle = theme.muted;
      g.fillText(`L${l}`, LABEL / 2, LABEL + l * (this.cell + GAP) + this.cell / 2);
      for (let h = 0; h < NH; h++) {
        const x = LABEL + h * (this.cell + GAP);
        const y = LABEL + l * (this.cell + GAP);
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
    g.strokeRect(LABEL + ui.head * (this.cell + GAP) - 1, LABEL + ui.layer * (this.cell + GAP) - 1, this.cell + 2, this.cell + 2);
    // The rest in later tasks, so the browser paints in between.
    if (missing && this.root.isConnected) {
      this.pending = window.setTimeout(() => {
        this.pending = 0;
        this.render();
      }, 0);
    }
  }
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}
