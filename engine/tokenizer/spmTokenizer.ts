// SentencePiece vocabularies as GGUF files carry them (tokenizer.ggml.model = "llama": Llama 2,
// CodeLlama, Mistral 7B v0.1): pieces with scores, "▁" for a space, <0xXX> byte tokens, no
// merge list. Encoding follows llama.cpp's SPM tokenizer (llm_tokenizer_spm_session):
//   1. put a space before the text (add_space_prefix, on by default) and write spaces as "▁";
//   2. start from one symbol per character;
//   3. repeatedly merge the adjacent pair whose concatenation is the vocabulary piece with the
//      highest score (ties: the leftmost pair), until no adjacent pair forms a piece;
//   4. a symbol that is no piece (a character outside the vocabulary) becomes its UTF-8 bytes'
//      <0xXX> tokens.
// One difference: only normal and user-defined pieces are merged into. llama.cpp would also merge
// text into a control token's piece ("<s>" has score 0, above every normal piece); SentencePiece
// and transformers never do, and plain text must not become a control token.

import { TokenizerError } from './tokenizer';
import { SPACE_MARK, TokenType, VocabTokenizer, type VocabInit } from './vocabTokenizer';

const utf8 = new TextEncoder();

export class SpmTokenizer extends VocabTokenizer {
  readonly addsSpacePrefix: boolean;
  /** Pieces text can be merged into, with their ids. */
  private readonly mergeable = new Map<string, number>();
  private readonly scores: Float32Array;
  private readonly byteIds = new Int32Array(256);

  constructor(init: VocabInit & { scores: ArrayLike<number>; addsSpacePrefix: boolean }) {
    super(init);
    this.addsSpacePrefix = init.addsSpacePrefix;
    this.scores = Float32Array.from(init.scores);
    let unk: number | null = null;
    const bytePieces = new Map<string, number>();
    for (let id = 0; id < this.vocabSize; id++) {
      const t = this.types[id];
      const p = this.pieces[id];
      if (p === undefined) continue;
      if ((t === TokenType.normal || t === TokenType.userDefined) && !this.mergeable.has(p)) this.mergeable.set(p, id);
      else if (t === TokenType.byte) bytePieces.set(p.toUpperCase(), id);
      else if (t === TokenType.unknown && unk === null) unk = id;
    }
    // A character outside the vocabulary is spelt with <0xXX> tokens (or the one-byte piece), as in llama.cpp.
    for (let b = 0; b < 256; b++) {
      const hex = `<0X${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      const id = bytePieces.get(hex) ?? this.mergeable.get(String.fromCharCode(b)) ?? unk;
      if (id === null) throw new TokenizerError(`${init.name}: the SentencePiece vocabulary has no <0x${hex.slice(3, 5)}> byte token and no unknown token, so text outside it cannot be encoded.`);
      this.byteIds[b] = id;
    }
  }

  protected encodeText(text: string, _sectionIndex: number, out: number[]): void {
    const s = ((this.addsSpacePrefix ? ' ' : '') + text).replaceAll(' ', SPACE_MARK);
    // Symbols: UTF-16 ranges of s, one code point each to start with, linked left to right.
    const n = s.length;
    const start = new Int32Array(n);
    const len = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    let count = 0;
    for (let i = 0; i < n; ) {
      const c = s.codePointAt(i)!;
      const w = c > 0xffff ? 2 : 1;
      start[count] = i;
      len[count] = w;
      prev[count] = count - 1;
      next[count] = count + 1;
      count++;
      i += w;
    }
    if (count === 0) return;
    next[count - 1] = -1;

    const heap = new BigramHeap();
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const piece = s.slice(start[left]!, start[left]! + len[left]! + len[right]!);
      const id = this.mergeable.get(piece);
      if (id !== undefined) heap.push(left, right, this.scores[id]!, piece.length);
    };
    for (let i = 1; i < count; i++) tryAdd(i - 1, i);
    while (heap.size > 0) {
      const { left, right, size } = heap.pop();
      // Skip pairs one of whose symbols has merged since.
      if (len[left] === 0 || len[right] === 0 || len[left]! + len[right]! !== size) continue;
      len[left] = size;
      len[right] = 0;
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      tryAdd(prev[left]!, left);
      tryAdd(left, next[left]!);
    }
    for (let i = 0; i !== -1; i = next[i]!) {
      const piece = s.slice(start[i]!, start[i]! + len[i]!);
      const id = this.mergeable.get(piece);
      if (id !== undefined) out.push(id);
      else for (const b of utf8.encode(piece)) out.push(this.byteIds[b]!);
    }
  }
}

/** A max-heap of candidate merges: highest score first, then the leftmost. */
class BigramHeap {
  private left: number[] = [];
  private right: number[] = [];
  private score: number[] = [];
  private sizes: number[] = [];
  size = 0;

  push(left: number, right: number, score: number, size: number): void {
    let i = this.size++;
    this.left[i] = left;
    this.right[i] = right;
    this.score[i] = score;
    this.sizes[i] = size;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { left: number; right: number; size: number } {
    const top = { left: this.left[0]!, right: this.right[0]!, size: this.sizes[0]! };
    const last = --this.size;
    if (last > 0) {
      this.swap(0, last);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < last && this.before(l, best)) best = l;
        if (r < last && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    return this.score[a]! > this.score[b]! || (this.score[a] === this.score[b] && this.left[a]! < this.left[b]!);
  }

  private swap(a: number, b: number): void {
    [this.left[a], this.left[b]] = [this.left[b]!, this.left[a]!];
    [this.right[a], this.right[b]] = [this.right[b]!, this.right[a]!];
    [this.score[a], this.score[b]] = [this.score[b]!, this.score[a]!];
    [this.sizes[a], this.sizes[b]] = [this.sizes[b]!, this.sizes[a]!];
  }
}
