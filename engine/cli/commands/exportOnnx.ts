// `limelight export-onnx`: writes a checkpoint's ONNX decoder graph (the one the ort backends
// run) as FILE.onnx plus its weights FILE.onnx.data, for onnxruntime in other programs.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { exportOnnx, type OnnxWeightFormat } from '../../onnx/export';
import { writeAll, writeAtomic } from '../../io/atomicFile';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { openModel } from '../modelOptions';

const FORMATS: readonly OnnxWeightFormat[] = ['f32', 'q8_0'];

/** Temp file + rename; a full disk or a read-only folder is an error that says so. */
function writePiecesAtomic(path: string, pieces: Uint8Array[]): void {
  writeAtomic(path, (fd) => {
    for (const p of pieces) writeAll(fd, p);
  });
}

export const exportOnnxCommand: CliCommand = {
  name: 'export-onnx',
  summary: 'Write the model as an ONNX decoder graph (FILE.onnx + FILE.onnx.data) for onnxruntime.',
  usage: '--model DIR --out FILE.onnx [--weights f32|q8_0]',
  options: [
    { name: 'model', kind: 'string', value: 'DIR', help: 'Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' },
    { name: 'out', kind: 'string', value: 'FILE', help: 'the .onnx file to write; its weights go beside it in FILE.data (required, must not exist)' },
    { name: 'weights', kind: 'string', value: 'FORMAT', help: 'f32 (exact) or q8_0 (8-bit blocks of 32 with a scale, like llama.cpp Q8_0; MatMulNBits); default f32' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required, e.g. --out model.onnx.');
    const weights = (args.string('weights') ?? 'f32') as OnnxWeightFormat;
    if (!FORMATS.includes(weights)) throw new UsageError(`--weights must be one of ${FORMATS.join(', ')} (got "${weights}").`);
    const dataPath = `${out}.data`;
    for (const p of [out, dataPath]) if (existsSync(p)) throw new UsageError(`${p} already exists; refusing to overwrite it. Choose another --out path.`);
    const model = openModel(args);
    const encoded = exportOnnx(model, { weightFormat: weights, dataFile: basename(dataPath) });
    writePiecesAtomic(dataPath, encoded.data);
    writePiecesAtomic(out, [encoded.model]);
    process.stdout.write(`wrote ${out} (${encoded.model.byteLength} bytes) and ${dataPath} (${encoded.dataBytes} bytes), ${weights} weights\n`);
    return 0;
  },
};
