// A copy of the first positions of a backend's KV cache, kept outside it so that a prompt
// computed earlier (another file's window) can be put back instead of prefilled again
// (generate/promptCache.ts). Both backends lay their caches out as (L, KVH, ctx, HD) per
// keys and per values, so a snapshot of n positions is, for each of the L x KVH rows, the
// first n x HD elements: gathered into one (L x KVH, n, HD) block each for keys and values.

export interface KvSnapshot {
  /** Positions [0, positions) of the cache. */
  readonly positions: number;
  /** The cache's element format and shape it came from: it goes back only into the same. */
  readonly layout: string;
  readonly keys: Uint8Array; // (L x KVH, positions, HD) elements
  readonly values: Uint8Array; // (L x KVH, positions, HD) elements
}

/** Bytes a snapshot of `positions` positions takes. */
export function snapshotBytes(s: Pick<KvSnapshot, 'keys' | 'values'>): number {
  return s.keys.byteLength + s.values.byteLength;
}

/** What identifies a cache's layout: a snapshot fits only a cache with the same one. */
export function cacheLayout(elementBytes: number, rows: number, ctx: number, headDim: number): string {
  return `${elementBytes}x${rows}x${ctx}x${headDim}`;
}

/** The first nBytes of each of `rows` rows of ctxBytes: out (rows, nBytes). */
function gather(cache: Uint8Array, rows: number, ctxBytes: number, nBytes: number): Uint8Array {
  const out = new Uint8Array(rows * nBytes);
  for (let r = 0; r < rows; r++) out.set(cache.subarray(r * ctxBytes, r * ctxBytes + nBytes), r * nBytes);
  return out;
}

function scatter(cache: Uint8Array, block: Uint8Array, rows: number, ctxBytes: number, nBytes: number): void {
  for (let r = 0; r < rows; r++) cache.set(block.subarray(r * nBytes, (r + 1) * nBytes), r * ctxBytes);
}

export interface CacheView {
  keys: Uint8Array; // the whole (L, KVH, ctx, HD) key cache, as bytes
  values: Uint8Array;
  /** L x KVH. */
  rows: number;
  ctx: number;
  headDim: number;
  elementBytes: number;
}

/** A backend's saveCache: positions [0, n) of a cache that holds `filled`, copied out. */
export function saveCacheOf(view: CacheView, n: number, filled: number): KvSnapshot {
  if (!(Number.isInteger(n) && n >= 0 && n <= filled)) throw new Error(`saveCache: the cache holds ${filled} positions, not ${n}`);
  return takeSnapshot(view, n);
}

/** A backend's restoreCache: writes the snapshot back and returns how many positions the cache now holds. */
export function restoreCacheOf(view: CacheView, s: KvSnapshot): number {
  if (s.positions > view.ctx) throw new Error(`restoreCache: ${s.positions} positions do not fit the ${view.ctx}-position cache`);
  putSnapshot(view, s);
  return s.positions;
}

/** Copies positions [0, n) of the cache out. */
function takeSnapshot(view: CacheView, n: number): KvSnapshot {
  const rowBytes = view.headDim * view.elementBytes;
  const ctxBytes = view.ctx * rowBytes;
  return {
    positions: n,
    layout: cacheLayout(view.elementBytes, view.rows, view.ctx, view.headDim),
    keys: gather(view.keys, view.rows, ctxBytes, n * rowBytes),
    values: gather(view.values, view.rows, ctxBytes, n * rowBytes),
  };
}

/** Writes a snapshot back into positions [0, positions) of a cache of the same layout. */
function putSnapshot(view: CacheView, s: KvSnapshot): void {
  const layout = cacheLayout(view.elementBytes, view.rows, view.ctx, view.headDim);
  if (s.layout !== layout) throw new Error(`A KV snapshot of layout ${s.layout} cannot go into a cache of layout ${layout}.`);
  const rowBytes = view.headDim * view.elementBytes;
  const ctxBytes = view.ctx * rowBytes;
  scatter(view.keys, s.keys, view.rows, ctxBytes, s.positions * rowBytes);
  scatter(view.values, s.values, view.rows, ctxBytes, s.positions * rowBytes);
}
