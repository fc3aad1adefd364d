// A shared WebAssembly memory for the kernel tests, with the two copies they all make: a typed
// array into an arena's room, and float32 results back out.
import { type Arena, createSharedMemory } from '../../engine/kernels/wasm/kernels';

export interface KernelMemory {
  memory: WebAssembly.Memory;
  f32: Float32Array;
  /** Copies `data` into a fresh allocation of `arena`: its byte offset. */
  put(arena: Arena, data: ArrayBufferView): number;
  /** n floats from byte offset `at`, copied out. */
  read(at: number, n: number): Float32Array;
}

export function kernelMemory(bytes: number): KernelMemory {
  const memory = createSharedMemory(bytes);
  const f32 = new Float32Array(memory.buffer);
  return {
    memory,
    f32,
    put(arena, data) {
      const at = arena.alloc(data.byteLength);
      new Uint8Array(memory.buffer, at, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return at;
    },
    read: (at, n) => f32.slice(at / 4, at / 4 + n),
  };
}
