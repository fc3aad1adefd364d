// Tokens <-> text. A BPE token is a run of bytes that may end in the middle of a UTF-8
// character, so a token's range in the text is measured on the byte stream: a character
// belongs to every token that holds one of its bytes. Ranges are in UTF-16 code units, the
// unit of JavaScript strings and of VS Code document offsets.

export interface TokenText {
  /** Display text per token: a partial character shows as \xNN bytes. */
  pieces: string[];
  /** (T, 2) [start, end) in `text`. */
  ranges: Int32Array;
  text: string;
}

/** Length in bytes of the UTF-8 sequence that starts with byte b (1 for stray bytes). */
function seqLength(b: number): number {
  if (b >= 0xf0 && b < 0xf8) return 4;
  if (b >= 0xe0) return 3;
  if (b >= 0xc0) return 2;
  return 1;
}

export function tokenText(tokenBytes: readonly Uint8Array[]): TokenText {
  const T = tokenBytes.length;
  let total = 0;
  for (const b of tokenBytes) total += b.length;
  const all = new Uint8Array(total);
  const owner = new Int32Array(total); // (bytes) token of each byte
  let at = 0;
  for (let t = 0; t < T; t++) {
    all.set(tokenBytes[t]!, at);
    owner.fill(t, at, at + tokenBytes[t]!.length);
    at += tokenBytes[t]!.length;
  }
  const decoder = new TextDecoder('utf-8');
  const ranges = new Int32Array(2 * T).fill(-1);
  let text = '';
  for (let i = 0; i < total; ) {
    let n = seqLength(all[i]!);
    // A truncated sequence decodes as one U+FFFD per byte, as TextDecoder does.
    if (i + n > total) n = 1;
    for (let j = 1; j < n; j++) if ((all[i + j]! & 0xc0) !== 0x80) n = 1;
    const start = text.length;
    text += decoder.decode(all.subarray(i, i + n));
    for (let j = i; j < i + n; j++) {
      const t = owner[j]!;
      if (ranges[2 * t]! < 0) ranges[2 * t] = start;
      ranges[2 * t + 1] = text.length;
    }
    i += n;
  }
  const pieces = tokenBytes.map((b) => piece(b, decoder));
  for (let t = 0; t < T; t++) {
    if (ranges[2 * t]! < 0) {
      // An empty token sits where the next one starts.
      const p = t > 0 ? ranges[2 * t - 1]! : 0;
      ranges[2 * t] = p;
      ranges[2 * t + 1] = p;
    }
  }
  return { pieces, ranges, text };
}

function piece(bytes: Uint8Array, decoder: TextDecoder): string {
  const s = decoder.decode(bytes);
  if (!s.includes('\ufffd')) return s;
  return Array.from(bytes, (b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** Tokens whose range overlaps [start, end); an empty selection picks the token under it. */
export function tokensInRange(ranges: Int32Array, start: number, end: number): number[] {
  const out: number[] = [];
  const T = ranges.length / 2;
  for (let t = 0; t < T; t++) {
    const s = ranges[2 * t]!;
    const e = ranges[2 * t + 1]!;
    if (start === end ? s <= start && start < e : s < end && start < e) out.push(t);
  }
  return out;
}

/** A span of the decoded text that sits in the document (see format.ts SourceSegment). */
interface Segment {
  textStart: number;
  length: number;
  docOffset: number;
}

/** Document [start, end) of token t, clipped to the segment holding its start; null when no segment does. */
export function tokenDocRange(ranges: Int32Array, segments: readonly Segment[], t: number): [number, number] | null {
  const s = ranges[2 * t];
  const e = ranges[2 * t + 1];
  if (s === undefined || e === undefined) return null;
  for (const seg of segments) {
    const segEnd = seg.textStart + seg.length;
    if (s >= seg.textStart && s < segEnd) return [seg.docOffset + s - seg.textStart, seg.docOffset + Math.min(e, segEnd) - seg.textStart];
  }
  return null;
}

/** Tokens that cover any of document [start, end) (an empty range: the token under it). */
export function docRangeTokens(ranges: Int32Array, segments: readonly Segment[], start: number, end: number): number[] {
  const out = new Set<number>();
  for (const seg of segments) {
    const a = Math.max(start, seg.docOffset);
    const b = Math.min(end, seg.docOffset + seg.length);
    if (start === end ? !(start >= seg.docOffset && start < seg.docOffset + seg.length) : a >= b) continue;
    const shift = seg.textStart - seg.docOffset;
    for (const t of tokensInRange(ranges, a + shift, (start === end ? a : b) + shift)) out.add(t);
  }
  return [...out].sort((x, y) => x - y);
}
