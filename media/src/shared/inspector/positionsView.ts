// Position view: how the model encodes order (learned position similarity for GPT-2,
// rotary frequencies and their decay with distance for Llama), and how attention actually
// falls off with distance in this run, one curve per layer.
import { el, onResize, type Ctx, type View } from './context';
import { fitCanvas } from './theme';

export class PositionsView implements View {
  readonly root = el('div', { class: 'view positions-view' });
  private readonly left = el('canvas', { role: 'img' });
  private readonly right = el('canvas', { role: 'img', 'aria-label': 'Attention by distance per layer' });
  private readonly captionLeft = el('div', { class: 'readout' });
  private readonly captionRight = el('div', { class: 'readout' });

  constructor(private readonly ctx: Ctx) {
    const a = el('figure');
    a.append(this.left, this.captionLeft);
    const b = el('figure');
    b.append(this.right, this.captionRight);
    this.root.append(a, b);
    onResize(this.root, () => this.render());
  }

  render(): void {
    const { data, theme } = this.ctx;
    const pos = data.meta.positions;
    const size = Math.max(160, Math.min(360, this.root.clientWidth / 2 - 24));
    if (pos.kind === 'learned' && pos.similarity) {
      this.left.setAttribute('aria-label', 'Cosine similarity of learned position embeddings');
      const g = fitCanvas(this.left, size, size);
      const P = pos.P;
      const img = new ImageData(P, P);
      const px = new Uint32Array(img.data.buffer);
      for (let i = 0; i < P * P; i++) px[i] = theme.diverging[Math.max(0, Math.min(255, Math.round((pos.similarity[i]! + 1) * 127.5)))]!;
      const tmp = document.createElement('canvas');
      tmp.width = P;
      tmp.height = P;
      tmp.getContext('2d')!.putImageData(img, 0, 0);
      g.imageSmoothingEnabled = false;
      g.drawImage(tmp, 0, 0, size, size);
      this.captionLeft.textContent = `Similarity of the learned position vectors 0–${P - 1} (orange: alike, blue: opposite). Nearby positions are alike, so the model can tell near from far.`;
    } else if (pos.frequencies && pos.ropeDecay) {
      this.left.setAttribute('aria-label', 'Rotary position encoding: score of a perfect match by distance');
      const g = fitCanvas(this.left, size, size);
      g.clearRect(0, 0, size, size);
      plot(g, size, size, [pos.ropeDecay], theme.accent, theme.muted, -1, 1);
      this.captionLeft.textContent =
        `RoPE rotates ${pos.frequencies.length} pairs of dimensions, the fastest by ${pos.frequencies[0]!.toFixed(2)} rad per token, the slowest once every ${Math.round((2 * Math.PI) / pos.frequencies[pos.frequencies.length - 1]!)} tokens. ` +
        `The curve is how well a query and key that match perfectly still score at distance 0–${pos.ropeDecay.length - 1}: the score falls off with distance.`;
    }
    const D = Math.min(pos.D, 128);
    const curves: Float32Array[] = [];
    for (let l = 0; l < data.L; l++) curves.push(pos.byDistance.subarray(l * pos.D, l * pos.D + D));
    const g = fitCanvas(this.right, size * 1.4, size);
    g.clearRect(0, 0, size * 1.4, size);
    let max = 0;
    for (const c of curves) for (const v of c) max = Math.max(max, v);
    curves.forEach((c, l) => plot(g, size * 1.4, size, [c], theme.headColor(l, data.L), theme.muted, 0, max || 1));
    this.captionRight.textContent = `Mean attention to the token d back (d = 0–${D - 1}), one colour per layer: sharp peaks at d = 1 are previous-token heads; weight at the far end is often the first token, a resting place.`;
  }
}

function plot(g: CanvasRenderingContext2D, W: number, H: number, series: Float32Array[], colour: string, axis: string, lo: number, hi: number): void {
  const pad = 20;
  g.strokeStyle = axis;
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad, pad);
  g.lineTo(pad, H - pad);
  g.lineTo(W - pad / 2, H - pad);
  g.stroke();
  g.strokeStyle = colour;
  g.lineWidth = 1.5;
  for (const s of series) {
    g.beginPath();
    for (let i = 0; i < s.length; i++) {
      const x = pad + ((W - 1.5 * pad) * i) / Math.max(1, s.length - 1);
      const y = H - pad - ((H - 2 * pad) * (s[i]! - lo)) / (hi - lo);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
    g.stroke();
  }
}
