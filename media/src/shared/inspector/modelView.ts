// Model view: every head of every layer as a small heatmap (rows: layers, columns: heads),
// drawn on one canvas. Click (or Enter on the focused cell) opens that head's heatmap.
import { el, type Ctx, type View } from './context';
import { drawMatrix } from './matrix';
import { fitCanvas } from './theme';

const GAP = 4;
const LABEL = 28;

export class ModelView implements View {
  readonly root = el('div', { class: 'view model-view' });
  private readonly canvas = el('canvas', { tabindex: '0', 'aria-label': 'All heads; arrow keys choose one, Enter opens it' });
  private readonly caption = el('div', { class: 'readout', 'aria-live': 'polite' });
  private cell = 48;

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
    new ResizeObserver(() => this.render()).observe(this.root);
  }

  private hit(e: MouseEvent): { layer: number; head: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const head = Math.floor((e.clientX - r.left - LABEL) / (this.cell + GAP));
    const layer = Math.floor((e.clientY - r.top - LABEL) / (this.cell + GAP));
    const { L, NH } = this.ctx.data;
    return layer >= 0 && layer < L && head >= 0 && head < NH ? { layer, head } : null;
  }

  render(): void {
    const { data, ui, theme } = this.ctx;
    const { L, NH, T } = data;
    this.cell = Math.max(16, Math.min(96, Math.floor((this.root.clientWidth - LABEL - 8) / NH) - GAP));
    const W = LABEL + NH * (this.cell + GAP);
    const H = LABEL + L * (this.cell + GAP);
    const g = fitCanvas(this.canvas, W, H);
    g.clearRect(0, 0, W, H);
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round(this.cell * dpr);
    const img = g.createImageData(px, px);
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
          drawMatrix(img, m, T, theme.heat, theme.heat[0]!);
          g.putImageData(img, Math.round(x * dpr), Math.round(y * dpr));
        } else {
          g.fillText('…', x + this.cell / 2, y + this.cell / 2);
        }
      }
    }
    g.strokeStyle = theme.accent;
    g.lineWidth = 2;
    g.strokeRect(LABEL + ui.head * (this.cell + GAP) - 1, LABEL + ui.layer * (this.cell + GAP) - 1, this.cell + 2, this.cell + 2);
  }
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}
