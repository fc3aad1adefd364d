// Asks onnxruntime's WebGPU provider for an adapter by running a one-node graph on it. The
// provider reports a missing adapter (no GPU, no Vulkan/Metal/D3D12 driver) only when a session
// is created, so this is the cheapest honest test.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph';
import { DataType } from '../onnx/schema';

/** null when a WebGPU session runs here, else why not (onnxruntime's own words, first line). */
export async function runWebGpuProbe(): Promise<string | null> {
  if (!ort.listSupportedBackends().some((b) => b.name === 'webgpu' && b.bundled)) {
    return 'this onnxruntime-node build has no WebGPU provider';
  }
  const g = new GraphBuilder();
  g.input('x', DataType.FLOAT, [2]);
  g.node('Add', ['x', 'x'], ['y']);
  g.output('y', DataType.FLOAT, [2]);
  let session: ort.InferenceSession | null = null;
  try {
    session = await ort.InferenceSession.create(g.encode('webgpu-probe', 'unused').model, { executionProviders: ['webgpu'] });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2), [2]) });
    const y = (out.y as ort.Tensor).data as Float32Array;
    return y[0] === 2 && y[1] === 4 ? null : `the probe graph computed [${y[0]}, ${y[1]}] instead of [2, 4]`;
  } catch (e) {
    const msg = (e as Error).message;
    // onnxruntime prefixes the reason with a source location and a C++ signature; keep the reason.
    return /Failed to get a WebGPU adapter[^\n]*/.exec(msg)?.[0] ?? msg.split('\n')[0]!;
  } finally {
    await session?.release();
  }
}
