// What a model needs in memory: its weights as held, plus the key/value cache at a context.

/** The KV cache holds f32 keys and values on every backend. */
const KV_BYTES_PER_VALUE = 4;

/** Bytes of keys and values one position takes in the cache: 2 x layers x kv width x 4. */
export function kvBytesPerPosition(c: { nLayer: number; nKvHead: number; headDim: number }): number {
  return 2 * c.nLayer * c.nKvHead * c.headDim * KV_BYTES_PER_VALUE;
}
