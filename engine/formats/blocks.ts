// Argument checks shared by the format modules: every dequantizer and quantizer works on whole
// blocks and writes exactly as many values as its input holds, so a caller that passes a wrong
// size hears which format, how many blocks and what it passed, instead of reading past the end
// (a typed array's out-of-range read is a silent NaN).

/** Blocks in src after checking that src is whole blocks and dst holds exactly their weights. */
export function checkDequantizeArgs(format: string, src: Uint8Array, dst: Float32Array, blockElems: number, blockBytes: number): number {
  if (src.length % blockBytes !== 0) {
    throw new RangeError(`${format}: ${src.length} bytes are not whole ${blockBytes}-byte blocks; pass the tensor's bytes from a block boundary`);
  }
  const blocks = src.length / blockBytes;
  if (dst.length !== blocks * blockElems) {
    throw new RangeError(`${format}: ${blocks} blocks hold ${blocks * blockElems} weights, but the destination has room for ${dst.length}; size it to the blocks`);
  }
  return blocks;
}

/** Blocks that src fills after checking that it fills whole blocks and dst is exactly their bytes. */
export function checkQuantizeArgs(format: string, src: Float32Array, dst: Uint8Array, blockElems: number, blockBytes: number): number {
  if (src.length % blockElems !== 0) {
    throw new RangeError(`${format} stores weights in blocks of ${blockElems}; ${src.length} weights do not fill whole blocks (pad the row or pick another format)`);
  }
  const blocks = src.length / blockElems;
  if (dst.length !== blocks * blockBytes) {
    throw new RangeError(`${format}: ${src.length} weights take ${blocks * blockBytes} bytes, but the destination has ${dst.length}; size it with bytesFor()`);
  }
  return blocks;
}
