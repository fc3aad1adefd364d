// One attention matrix as a heatmap: a head of a layer, or an aggregate (mean over heads,
// rollout). Axis labels name tokens at readable intervals; hovering or moving the cell
// cursor with the arrow keys reads out the exact weight.
import { DEQUANT, triRow } from '../../../../engine/inspect/format';
import { el, onResize, type Ctx, type View } from './context';
import { showPiece } from './data';
import { drawMatrix } from './matrix';
import { fitCanvas } from './theme';

const LABEL_W = 90;
const LABEL_H = 70;

export class HeatmapView implements View {
  readonly root = el('div', { class: 'view heatmap-view' });
  private readonly controls = el('div', { class: 'controls' });
  private readonly canvas = el('canvas', { tabindex: '0', 'aria-label': 'Attention heatmap; arrow keys move the cell cursor' });
  private readonly readout = el('div', { class: 'readout', 'aria-live': 'polite' });
  private cursor: { q: number; k: number } | null = null;
  private size = 0;
  /** The last matrix drawn, reused while only the cursor moves. */
  private image: { key: string; img: ImageData } | null = null;

  /** aggregate: shows the mean over heads or the rollout instead of one head. */
  constructor(
    private readonly ctx: Ctx,
    private readonly aggregate: boolean,
  ) {
    this.root.append(this.controls, this.canvas, this.readout);
    if (aggregate) {
      for (const kind of ['mean', 'rollout'] as const) {
        const b = el('button', { class: 'choice', 'data-kind': kind }, kind === 'mean' ? 'Mean over heads' : 'Rollout through layers');
        b.addEventListener('click', () => this.ctx.set({ aggregate: kind }));
        this.controls.append(b);
      }
    } else {
      const label = el('label', {}, 'Head ');
      const select = el('select', { class: 'head-select', 'aria-label': 'Head' });
      for (let h = 0; h < ctx.data.NH; h++) select.append(el('option', { value: String(h) }, ctx.data.grouped ? `${h} (kv${ctx.data.kvHead(h)})` : String(h)));
      select.addEventListener('change', () => this.ctx.set({ head: Number(select.value) }));
      label.append(select);
      this.controls.append(label);
    }
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.cursor = null;
      this.ctx.hover(null);
      this.render();
    });
    this.canvas.addEventListener('click', () => {
      if (this.cursor) {
        this.ctx.set({ token: this.cursor.q });
        this.ctx.reveal(this.cursor.k);
      }
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    onResize(this.root, () => this.render());
  }

  private matrix(): Uint8Array | null {
    const { data, ui } = this.ctx;
    return this.aggregate ? data.matrix(ui.layer, ui.aggregate === 'mean' ? -1 : -2) : data.matrix(ui.layer, ui.head);
  }

  render(): void {
    const { data, ui, theme } = this.ctx;
    this.controls.querySelectorAll<HTMLButtonElement>('.choice').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.kind === ui.aggregate)));
    const select = this.controls.querySelector<HTMLSelectElement>('.head-select');
    if (select) select.value = String(ui.head);
    const avail = Math.max(120, Math.min(this.root.clientWidth - LABEL_W - 16, this.root.clientHeight - LABEL_H - this.controls.offsetHeight - 40, 900));
    this.size = avail;
    const W = LABEL_W + avail;
    const H = LABEL_H + avail;
    const g = fitCanvas(this.canvas, W, H);
    g.clearRect(0, 0, W, H);
    const T = data.T;
    const m = this.matrix();
    if (m) {
      const dpr = window.devicePixelRatio || 1;
      const px = Math.round(avail * dpr);
      const key = `${ui.layer},${this.aggregate ? ui.aggregate : ui.head},${px}`;
      if (this.image?.key !== key) {
        const img = g.createImageData(px, px);
        drawMatrix(img, m, T, theme.heat, 0);
        this.image = { key, img };
      }
      g.putImageData(this.image.img, Math.round(LABEL_W * dpr), Math.round(LABEL_H * dpr));
    } else {
      g.fillStyle = theme.muted;
      g.fillText(`layer ${ui.layer} is still arriving…`, LABEL_W + 10, LABEL_H + 20);
    }
    // Axis labels at an interval that keeps them about 12 px apart.
    const cell = avail / T;
    const every = Math.max(1, Math.ceil(12 / cell));
    g.font = `10px ${getComputedStyle(document.body).getPropertyValue('--vscode-editor-font-family') || 'monospace'}`;
    g.fillStyle = theme.fg;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (let t = 0; t < T; t += every) g.fillText(showPiece(data.piece(t)), LABEL_W - 4, LABEL_H + (t + 0.5) * cell, LABEL_W - 6);
    g.save();
    g.translate(LABEL_W, LABEL_H - 4);
    g.rotate(-Math.PI / 2);
    g.textAlign = 'left';
    for (let t = 0; t < T; t += every) g.fillText(showPiece(data.piece(t)), 0, (t + 0.5) * cell, LABEL_H - 6);
    g.restore();
    g.fillStyle = theme.muted;
    g.textAlign = 'left';
    g.fillText('looked at →', 4, 10);
    g.fillText('looking ↓', 4, 24);
    if (this.cursor) {
      g.strokeStyle = theme.accent;
      g.lineWidth = 1;
      g.strokeRect(LABEL_W + this.cursor.k * cell, LABEL_H + this.cursor.q * cell, Math.max(2, cell), Math.max(2, cell));
    }
    this.updateReadout(m);
  }

  private updateReadout(m: Uint8Array | null): void {
    const c = this.cursor;
    const { data, ui } = this.ctx;
    const what = this.aggregate ? (ui.aggregate === 'mean' ? `layer ${ui.layer}, mean over heads` : `rollout through layer ${ui.layer}`) : `layer ${ui.layer}, head ${ui.head}${data.grouped ? ` (key/value group ${data.kvHead(ui.head)})` : ''}`;
    if (!c || !m) {
      this.readout.textContent = `${what}. Hover a cell (or focus the map and use the arrow keys) to read its weight.`;
      return;
    }
    const p = c.k <= c.q ? DEQUANT[m[triRow(c.q) + c.k]!]! : 0;
    this.readout.textContent = `${what}: token ${c.q} “${showPiece(data.piece(c.q))}” → token ${c.k} “${showPiece(data.piece(c.k))}”: ${p.toFixed(3)}`;
  }

  private onMove(e: MouseEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const cell = this.size / this.ctx.data.T;
    const k = Math.floor((e.clientX - r.left - LABEL_W) / cell);
    const q = Math.floor((e.clientY - r.top - LABEL_H) / cell);
    const T = this.ctx.data.T;
    const next = q >= 0 && q < T && k >= 0 && k < T ? { q, k } : null;
    if (next?.q === this.cursor?.q && next?.k === this.cursor?.k) return;
    this.cursor = next;
    this.ctx.hover(next ? next.k : null);
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const step = d[e.key];
    if (!step) return;
    e.preventDefault();
    const T = this.ctx.data.T;
    const c = this.cursor ?? { q: Math.max(0, this.ctx.ui.token), k: 0 };
    const q = Math.max(0, Math.min(T - 1, c.q + step[0]));
    const k = Math.max(0, Math.min(q, c.k + step[1]));
    this.cursor = { q, k };
    this.ctx.hover(k);
    this.render();
  }
}
