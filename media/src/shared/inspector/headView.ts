// Head view (after bertviz): tokens twice, queries on the left and keys on the right, a line
// from each query to each key it attends to, opacity = weight, one colour per head. The token
// columns are virtualised: only rows inside the scrolled window are drawn, so 1,024 tokens
// cost what 40 do.
import { DEQUANT } from '../../../../engine/inspect/format';
import { filterLines } from '../../../../engine/inspect/filter';
import { el, type Ctx, type View } from './context';
import { showPiece } from './data';
import { fitCanvas } from './theme';

const ROW = 18;

export class HeadView implements View {
  readonly root = el('div', { class: 'view head-view' });
  private readonly toggles = el('div', { class: 'head-toggles', role: 'group', 'aria-label': 'Heads' });
  private readonly scroller = el('div', { class: 'scroller', tabindex: '0', 'aria-label': 'Tokens; arrow keys move the selected token' });
  private readonly spacer = el('div', { class: 'spacer' });
  private readonly canvas = el('canvas');
  private hoverRow: { t: number; side: 'query' | 'key' } | null = null;
  private frame = 0;
  private row = new Float32Array(0);
  private readonly headButtons: HTMLButtonElement[] = [];
  /** One per key/value group; none for multi-head attention. */
  private readonly groupButtons: HTMLButtonElement[] = [];

  constructor(private readonly ctx: Ctx) {
    this.scroller.append(this.canvas, this.spacer);
    this.root.append(this.toggles, this.scroller);
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null));
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hit(e);
      if (hit) {
        this.ctx.set({ token: hit.t });
        this.ctx.reveal(hit.t);
      }
    });
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
    this.buildToggles();
  }

  private buildToggles(): void {
    const { data } = this.ctx;
    const { NH } = data;
    let box: HTMLElement = this.toggles;
    for (let h = 0; h < NH; h++) {
      const g = data.kvHead(h);
      if (data.grouped && h === data.groupHeads(g)[0]) box = this.buildGroup(g);
      const title = data.grouped ? `Query head ${h} of ${NH}, shares key/value head ${g} with heads ${span(data.groupHeads(g))}` : `Head ${h}`;
      const b = el('button', { class: 'head-toggle', title: `${title}: click to show or hide, double-click to show alone` }, String(h));
      if (data.grouped) b.dataset.kv = String(g);
      b.style.setProperty('--head-color', this.ctx.theme.headColor(h, NH));
      b.addEventListener('click', () => {
        const heads = this.ctx.ui.heads.slice();
        heads[h] = !heads[h];
        this.ctx.set({ heads });
      });
      b.addEventListener('dblclick', () => this.ctx.set({ heads: heads(NH, h, h), head: h }));
      b.addEventListener('keydown', (e) => {
        if (e.key === 's' || e.key === 'S') this.ctx.set({ heads: heads(NH, h, h), head: h });
      });
      box.append(b);
      this.headButtons.push(b);
    }
    const all = el('button', { class: 'head-toggle all', title: 'Show every head' }, 'all');
    all.addEventListener('click', () => this.ctx.set({ heads: new Array(NH).fill(true) }));
    this.toggles.append(all);
  }

  /**
   * One key/value group's box: a framed run of its query heads, led by a button that shows
   * or hides them all. The stylesheet knows nothing of groups, so the box is styled here
   * (through the CSSOM, which the page's Content-Security-Policy allows).
   */
  private buildGroup(g: number): HTMLElement {
    const { NH } = this.ctx.data;
    const [first, last] = this.ctx.data.groupHeads(g);
    const box = el('div', { class: 'kv-group', role: 'group', 'aria-label': `Key/value group ${g}: query heads ${span([first, last])}`, 'data-kv': String(g) });
    Object.assign(box.style, {
      display: 'inline-flex',
      flexWrap: 'wrap',
      alignItems: 'center',
      gap: '3px',
      padding: '2px 4px',
      marginRight: '6px',
      border: '1px solid var(--vscode-descriptionForeground)',
      borderRadius: '4px',
    });
    const b = el(
      'button',
      {
        class: 'kv-toggle',
        'data-kv': String(g),
        title: `Key/value head ${g}, shared by query heads ${span([first, last])}: click to show or hide the whole group, double-click to show it alone`,
      },
      `kv${g}`,
    );
    Object.assign(b.style, { fontSize: '85%', padding: '1px 5px' });
    const alone = (): void => this.ctx.set({ heads: heads(NH, first, last), head: first });
    b.addEventListener('click', () => {
      const shown = this.ctx.ui.heads.slice();
      shown.fill(!shown.slice(first, last + 1).every(Boolean), first, last + 1);
      this.ctx.set({ heads: shown });
    });
    b.addEventListener('dblclick', alone);
    b.addEventListener('keydown', (e) => {
      if (e.key === 's' || e.key === 'S') alone();
    });
    box.append(b);
    this.groupButtons.push(b);
    this.toggles.append(box);
    return box;
  }

  render(): void {
    const { ui, theme } = this.ctx;
    this.headButtons.forEach((b, h) => {
      b.setAttribute('aria-pressed', String(!!ui.heads[h]));
      b.style.setProperty('--head-color', theme.headColor(h, this.ctx.data.NH));
    });
    this.groupButtons.forEach((b, g) => {
      const [first, last] = this.ctx.data.groupHeads(g);
      const shown = ui.heads.slice(first, last + 1).filter(Boolean).length;
      b.setAttribute('aria-pressed', shown === 0 ? 'false' : shown === last - first + 1 ? 'true' : 'mixed');
    });
    this.spacer.style.height = `${this.ctx.data.T * ROW}px`;
    this.schedule();
  }

  /** Scrolls the selected token into view. */
  scrollToToken(t: number): void {
    const top = t * ROW;
    if (top < this.scroller.scrollTop || top + ROW > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = Math.max(0, top - this.scroller.clientHeight / 2);
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private geometry(): { W: number; H: number; colW: number; leftX: number; rightX: number } {
    const W = this.scroller.clientWidth;
    const H = this.scroller.clientHeight;
    const colW = Math.max(60, Math.min(220, W * 0.28));
    return { W, H, colW, leftX: 8, rightX: W - colW - 8 };
  }

  draw(): void {
    const { data, ui, theme, highlighted } = this.ctx;
    const { W, H, colW, leftX, rightX } = this.geometry();
    if (W === 0 || H === 0) return;
    const top = this.scroller.scrollTop;
    this.canvas.style.top = `${top}px`;
    const g = fitCanvas(this.canvas, W, H);
    g.clearRect(0, 0, W, H);
    const first = Math.max(0, Math.floor(top / ROW));
    const last = Math.min(data.T - 1, Math.ceil((top + H) / ROW));
    const y = (t: number): number => t * ROW - top + ROW / 2;
    // Lines first, tokens on top.
    g.lineWidth = 1.5;
    const hover = this.hoverRow;
    const drawLines = (q: number): void => {
      for (let h = 0; h < data.NH; h++) {
        if (!ui.heads[h]) continue;
        const bytes = data.headRow(ui.layer, h, q);
        if (!bytes) continue;
        const row = this.probs(bytes);
        g.strokeStyle = theme.headColor(h, data.NH);
        for (const k of filterLines(row, ui.threshold, ui.topK)) {
          g.globalAlpha = Math.min(1, row[k]!);
          g.beginPath();
          g.moveTo(leftX + colW, y(q));
          g.lineTo(rightX, y(k));
          g.stroke();
        }
      }
    };
    // Lines into a hovered key: from the visible queries that give it at least the threshold.
    const drawInto = (k: number): void => {
      for (let q = Math.max(k, first); q <= last; q++) {
        for (let h = 0; h < data.NH; h++) {
          const bytes = ui.heads[h] ? data.headRow(ui.layer, h, q) : null;
          const p = bytes ? DEQUANT[bytes[k]!]! : 0;
          if (p <= 0 || p < ui.threshold) continue;
          g.strokeStyle = theme.headColor(h, data.NH);
          g.globalAlpha = Math.min(1, p);
          g.beginPath();
          g.moveTo(leftX + colW, y(q));
          g.lineTo(rightX, y(k));
          g.stroke();
        }
      }
    };
    if (hover?.side === 'query') drawLines(hover.t);
    else if (hover?.side === 'key') drawInto(hover.t);
    else for (let q = first; q <= last; q++) drawLines(q);
    g.globalAlpha = 1;
    g.font = `12px ${getComputedStyle(document.body).getPropertyValue('--vscode-editor-font-family') || 'monospace'}`;
    g.textBaseline = 'middle';
    for (let t = first; t <= last; t++) {
      const yy = y(t);
      const selected = t === ui.token;
      if (highlighted.has(t)) {
        g.fillStyle = theme.highlight;
        g.fillRect(leftX, yy - ROW / 2, colW, ROW);
        g.fillRect(rightX, yy - ROW / 2, colW, ROW);
      }
      if (selected || hover?.t === t) {
        g.strokeStyle = theme.accent;
        g.lineWidth = selected ? 2 : 1;
        g.strokeRect(leftX + 1, yy - ROW / 2 + 1, colW - 2, ROW - 2);
        g.lineWidth = 1.5;
      }
      g.fillStyle = data.isGenerated(t) ? theme.accent : theme.fg;
      const label = showPiece(data.piece(t));
      g.textAlign = 'right';
      g.fillText(label, leftX + colW - 6, yy, colW - 36);
      g.textAlign = 'left';
      g.fillText(label, rightX + 6, yy, colW - 36);
      g.fillStyle = theme.muted;
      g.fillText(String(t), leftX + 2, yy, 30);
      g.textAlign = 'right';
      g.fillText(String(t), rightX + colW - 2, yy, 30);
    }
    if (!data.hasLayer(ui.layer)) {
      g.fillStyle = theme.muted;
      g.textAlign = 'center';
      g.fillText(`layer ${ui.layer} is still arriving…`, W / 2, H / 2);
    }
  }

  private probs(bytes: Uint8Array): Float32Array {
    if (this.row.length < bytes.length) this.row = new Float32Array(this.ctx.data.T);
    const row = this.row;
    for (let k = 0; k < bytes.length; k++) row[k] = DEQUANT[bytes[k]!]!;
    return row.subarray(0, bytes.length);
  }

  private hit(e: MouseEvent): { t: number; side: 'query' | 'key' } | null {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    const t = Math.floor((e.clientY - r.top + this.scroller.scrollTop) / ROW);
    const { colW, leftX, rightX } = this.geometry();
    if (t < 0 || t >= this.ctx.data.T) return null;
    if (x >= leftX && x <= leftX + colW) return { t, side: 'query' };
    if (x >= rightX && x <= rightX + colW) return { t, side: 'key' };
    return null;
  }

  private onMove(e: MouseEvent): void {
    this.setHover(this.hit(e));
  }

  private setHover(hit: { t: number; side: 'query' | 'key' } | null): void {
    if (hit?.t === this.hoverRow?.t && hit?.side === this.hoverRow?.side) return;
    this.hoverRow = hit;
    this.ctx.hover(hit ? hit.t : null);
    this.schedule();
  }

  private onKey(e: KeyboardEvent): void {
    const T = this.ctx.data.T;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -T, End: T };
    if (e.key in moves) {
      e.preventDefault();
      const t = Math.max(0, Math.min(T - 1, (this.ctx.ui.token < 0 ? 0 : this.ctx.ui.token) + moves[e.key]!));
      this.ctx.set({ token: t });
      this.scrollToToken(t);
      this.ctx.hover(t);
      this.hoverRow = { t, side: 'query' };
    } else if (e.key === 'Enter' && this.ctx.ui.token >= 0) {
      this.ctx.reveal(this.ctx.ui.token);
    } else if (e.key === 'Escape') {
      this.setHover(null);
    }
  }
}

/** Heads first..last shown, the rest hidden. */
function heads(NH: number, first: number, last: number): boolean[] {
  return Array.from({ length: NH }, (_, h) => h >= first && h <= last);
}

/** "0-6", or "3" for a group of one. */
function span([first, last]: [number, number]): string {
  return first === last ? String(first) : `${first}-${last}`;
}
