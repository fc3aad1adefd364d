// Generation stepper: one generated token at a time, with the text before it tinted by how
// much attention the model paid to each token just before writing it (the query is the
// token before the one written). Without generated tokens, every position is a step.
import { DEQUANT } from '../../../../engine/inspect/format';
import { el, type Ctx, type View } from './context';
import { showPiece } from './data';

export class StepperView implements View {
  readonly root = el('div', { class: 'view stepper-view' });
  private readonly bar = el('div', { class: 'controls' });
  private readonly slider = el('input', { type: 'range', min: '0', 'aria-label': 'Step' });
  private readonly label = el('span', { class: 'step-label', 'aria-live': 'polite' });
  private readonly flow = el('div', { class: 'token-flow', tabindex: '0', 'aria-label': 'Text; left and right arrows step through the tokens' });
  private readonly spans: HTMLSpanElement[] = [];

  constructor(private readonly ctx: Ctx) {
    const prev = el('button', { title: 'Previous token (←)' }, '◀');
    const next = el('button', { title: 'Next token (→)' }, '▶');
    prev.addEventListener('click', () => this.go(-1));
    next.addEventListener('click', () => this.go(1));
    this.slider.addEventListener('input', () => this.ctx.set({ token: this.first() + Number(this.slider.value) }));
    this.bar.append(prev, this.slider, next, this.label);
    this.root.append(this.bar, this.flow);
    this.root.addEventListener('keydown', (e) => {
      // The slider moves itself with the arrow keys.
      if (e.target === this.slider) return;
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        e.preventDefault();
        this.go(e.key === 'ArrowLeft' ? -1 : 1);
      }
    });
    const { data } = ctx;
    for (let t = 0; t < data.T; t++) {
      const s = el('span', { class: data.isGenerated(t) ? 'tok generated' : 'tok', 'data-t': String(t) }, data.piece(t));
      this.spans.push(s);
    }
    this.flow.append(...this.spans);
    this.flow.addEventListener('mouseover', (e) => {
      const t = (e.target as HTMLElement).dataset.t;
      if (t !== undefined) this.ctx.hover(Number(t));
    });
    this.flow.addEventListener('mouseleave', () => this.ctx.hover(null));
    this.flow.addEventListener('click', (e) => {
      const t = (e.target as HTMLElement).dataset.t;
      if (t !== undefined) this.ctx.reveal(Number(t));
    });
  }

  /** The first token that is a step: the first generated one, or token 1. */
  private first(): number {
    const { data } = this.ctx;
    return data.meta.promptLength < data.T ? data.meta.promptLength : 1;
  }

  private current(): number {
    const t = this.ctx.ui.token;
    return Math.max(this.first(), Math.min(this.ctx.data.T - 1, t));
  }

  private go(d: number): void {
    this.ctx.set({ token: Math.max(this.first(), Math.min(this.ctx.data.T - 1, this.current() + d)) });
  }

  render(): void {
    const { data, ui, theme } = this.ctx;
    if (data.T < 2) {
      this.label.textContent = 'One token: nothing to step through.';
      return;
    }
    const first = this.first();
    const t = this.current();
    const q = t - 1;
    this.slider.max = String(data.T - 1 - first);
    this.slider.value = String(t - first);
    const bytes = data.aggRow(ui.aggregate, ui.layer, q);
    if (!bytes) {
      this.label.textContent = `Layer ${ui.layer} is still arriving…`;
      return;
    }
    let max = 0;
    for (let k = 0; k <= q; k++) max = Math.max(max, DEQUANT[bytes[k]!]!);
    const generated = data.isGenerated(t);
    this.label.textContent =
      `Step ${t - first + 1} of ${data.T - first}: ${generated ? 'the model wrote' : 'next token'} “${showPiece(data.piece(t))}” ` +
      `(layer ${ui.layer}, ${ui.aggregate === 'rollout' ? 'rollout' : 'mean of heads'}; brighter = more attention)`;
    for (let k = 0; k < data.T; k++) {
      const s = this.spans[k]!;
      s.classList.toggle('current', k === t);
      s.classList.toggle('future', k > t);
      s.classList.toggle('highlighted', this.ctx.highlighted.has(k));
      if (k <= q) {
        const p = DEQUANT[bytes[k]!]!;
        const a = max > 0 ? p / max : 0;
        s.style.backgroundColor = a > 0.02 ? `color-mix(in srgb, ${theme.accent} ${Math.round(a * 85)}%, transparent)` : '';
        s.title = `token ${k}: attention ${p.toFixed(3)}`;
      } else {
        s.style.backgroundColor = '';
        s.title = `token ${k}`;
      }
    }
  }
}
