// Logit lens: for one position, the top next-token guesses read out after each layer, and
// the final distribution, which a temperature slider re-weights (softmax(logits / T) over
// the top candidates the engine sent).
import { el, type Ctx, type View } from './context';
import { showPiece } from './data';

export class LensView implements View {
  readonly root = el('div', { class: 'view lens-view' });
  private readonly controls = el('div', { class: 'controls' });
  private readonly position = el('select', { 'aria-label': 'Position' });
  private readonly table = el('table', { class: 'lens-table' });
  private readonly temp = el('input', { type: 'range', min: '0.05', max: '2', step: '0.05', 'aria-label': 'Temperature' });
  private readonly tempLabel = el('span');
  private readonly dist = el('div', { class: 'dist' });

  constructor(private readonly ctx: Ctx) {
    const { data } = ctx;
    for (const t of data.meta.lensPositions) {
      this.position.append(el('option', { value: String(t) }, `${t}: “${showPiece(data.piece(t))}” → next`));
    }
    this.position.addEventListener('change', () => this.ctx.set({ token: Number(this.position.value) }));
    this.temp.addEventListener('input', () => this.ctx.set({ temperature: Number(this.temp.value) }));
    const posLabel = el('label', {}, 'Position ');
    posLabel.append(this.position);
    const tempLabel = el('label', {}, 'Temperature ');
    tempLabel.append(this.temp, this.tempLabel);
    this.controls.append(posLabel);
    const note = data.meta.lensPositions.length < data.T ? el('span', { class: 'muted' }, ` (read out for the last ${data.meta.lensPositions.length} positions)`) : null;
    if (note) this.controls.append(note);
    this.root.append(this.controls, this.table, el('h3', {}, 'Final distribution'), tempLabel, this.dist);
  }

  /** Index into lensPositions of the position shown. */
  private index(): number {
    const pos = this.ctx.data.meta.lensPositions;
    let best = pos.length - 1;
    for (let i = 0; i < pos.length; i++) if (pos[i] === this.ctx.ui.token) best = i;
    return best;
  }

  render(): void {
    const { data, ui } = this.ctx;
    const m = data.meta;
    const i = this.index();
    if (i < 0) return;
    const t = m.lensPositions[i]!;
    this.position.value = String(t);
    const L = data.L;
    const K = m.lensK;
    this.table.replaceChildren();
    const head = el('tr');
    head.append(el('th', {}, 'after'));
    for (let k = 0; k < K; k++) head.append(el('th', {}, `#${k + 1}`));
    this.table.append(head);
    const actual = t + 1 < data.T ? m.ids[t + 1]! : -1;
    for (let r = 0; r <= L; r++) {
      const tr = el('tr');
      tr.append(el('th', {}, r === 0 ? 'embedding' : r === L ? `layer ${r - 1} (output)` : `layer ${r - 1}`));
      for (let k = 0; k < K; k++) {
        const o = (i * (L + 1) + r) * K + k;
        const id = m.lensIds[o]!;
        const p = m.lensProbs[o]!;
        const td = el('td', { title: `id ${id}: ${(p * 100).toFixed(1)}%` });
        td.append(el('code', {}, showPiece(data.vocabPiece(id))), el('small', {}, ` ${(p * 100).toFixed(1)}%`));
        td.style.setProperty('--p', String(p));
        if (id === actual) td.classList.add('actual');
        tr.append(td);
      }
      this.table.append(tr);
    }
    this.temp.value = String(ui.temperature);
    this.tempLabel.textContent = ` ${ui.temperature.toFixed(2)}`;
    const N = m.finalN;
    const logits = m.finalLogits.subarray(i * N, (i + 1) * N);
    const probs = softmaxT(logits, ui.temperature);
    this.dist.replaceChildren();
    const show = Math.min(N, 20);
    for (let k = 0; k < show; k++) {
      const row = el('div', { class: 'bar-row' });
      const bar = el('div', { class: 'bar' });
      bar.style.width = `${(probs[k]! * 100).toFixed(1)}%`;
      row.append(el('code', {}, showPiece(data.vocabPiece(m.finalIds[i * N + k]!))), bar, el('small', {}, `${(probs[k]! * 100).toFixed(1)}%`));
      this.dist.append(row);
    }
    this.dist.append(el('div', { class: 'muted' }, `Probabilities among the ${N} most likely tokens.`));
  }
}

/** softmax(logits / temperature), over the given logits only. */
export function softmaxT(logits: ArrayLike<number>, temperature: number): Float32Array {
  const t = Math.max(1e-3, temperature);
  const out = new Float32Array(logits.length);
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]! / t);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += out[i] = Math.exp(logits[i]! / t - m);
  for (let i = 0; i < logits.length; i++) out[i] = out[i]! / s;
  return out;
}
