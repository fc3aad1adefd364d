// Encoding a prompt line by line with a cache, so a keystroke re-encodes only the line it
// touched instead of the whole prefix window (byte-pair encoding on the extension's thread
// was the largest share of its busy time in the completion soak). The ids are exactly those
// of encoding the whole text: the text is cut only where the GPT-2 pre-tokenizer always ends a
// piece. A whitespace run followed by a non-whitespace character is split by the pattern
// `\s+(?!\S)` into the run less its last character, then that last character (a space joins
// the word after it, any other whitespace stands alone), so cutting before the run's last
// character gives the same pieces on both sides, and at the end of a segment `\s+(?!\S)`
// takes the shortened run whole. Only runs holding a line feed are cut, so a segment is about
// one line. Byte-pair merges never cross pieces, and Tokenizer.encode's cuts of runs longer
// than 256 characters count from the run's start, which stays in the same segment.
/** Lines cached: a prompt window and its context chunks span a few hundred; more only holds memory. */
export class SegmentedEncoder {
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly encodeWhole: (text: string) => number[],
    private readonly capacity = 1024,
  ) {}

  encode(text: string): number[] {
    const out: number[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) {
      let end = nl + 1;
      while (end < text.length && isWhitespace(text.charCodeAt(end))) end++;
      if (end >= text.length) break;
      const cut = end - 1; // before the last whitespace character of the run
      if (cut > start) {
        this.append(out, text.slice(start, cut));
        start = cut;
      }
      nl = cut;
    }
    if (start < text.length) this.append(out, text.slice(start));
    return out;
  }

  private append(out: number[], segment: string): void {
    let ids = this.cache.get(segment);
    if (ids === undefined) {
      ids = this.encodeWhole(segment);
      this.cache.set(segment, ids);
      if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }
}

/** The characters JavaScript's \s matches (the pre-tokenizer's whitespace class). */
function isWhitespace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
