// `limelight forward`: one forward pass over given token ids, written as a safetensors file
// of logits (T, V) and attention probabilities attn.<layer> (NH, T, T), for comparing the
// engine with a reference implementation. It runs on the js backend unless told otherwise,
// since only that one captures attention.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { writeSafetensors, type TensorToWrite } from '../../io/safetensors';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { modelOptions, openBackend, openModel } from '../modelOptions';

/** True when `path` is absent, empty or already a safetensors file: the only files --out may replace. */
function replaceable(path: string): boolean {
  if (!existsSync(path)) return true;
  const st = statSync(path);
  if (!st.isFile()) return false;
  if (st.size === 0) return true;
  const head = Buffer.alloc(9);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, head, 0, 9, 0) < 9) return false;
  } finally {
    closeSync(fd);
  }
  const headerLength = head.readBigUInt64LE(0);
  return headerLength >= 2n && headerLength <= BigInt(st.size - 8) && head[8] === 0x7b; // '{'
}

export const forwardCommand: CliCommand = {
  name: 'forward',
  summary: 'Run one forward pass and write the logits and attention probabilities to a safetensors file.',
  usage: '--model DIR --ids 1,2,3 --out FILE.safetensors [--backend NAME]',
  options: [
    ...modelOptions('js'),
    { name: 'ids', kind: 'string', value: 'LIST', help: 'input token ids, comma-separated (required)' },
    { name: 'out', kind: 'string', value: 'FILE', help: 'safetensors file to write: F32 logits (T, V) and attn.<layer> (NH, T, T) (required)' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const ids = args.ids('ids');
    if (!ids) throw new UsageError('--ids is required, e.g. --ids 1,2,3.');
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required, e.g. --out forward.safetensors.');
    if (!replaceable(out)) throw new UsageError(`${out} exists and is not a safetensors file; refusing to overwrite it. Choose another --out path.`);
    const model = openModel(args);
    const c = model.config;
    const backend = await openBackend(args, model, 'js', ids.length);
    try {
      const T = ids.length;
      // Only the js backend captures attention probabilities (see runtime/backend.ts).
      const captureAttention = backend.name === 'js';
      const r = await backend.forward(Int32Array.from(ids), 0, { allLogits: true, captureAttention });
      const tensors: TensorToWrite[] = [{ name: 'logits', dtype: 'F32', shape: [T, c.vocabSize], data: r.logits }];
      if (r.attention) {
        const per = c.nHead * T * T; // attention is (L, NH, T, T) at pos 0
        for (let l = 0; l < c.nLayer; l++) tensors.push({ name: `attn.${l}`, dtype: 'F32', shape: [c.nHead, T, T], data: r.attention.subarray(l * per, (l + 1) * per) });
      } else {
        process.stderr.write(`note: the ${backend.name} backend does not capture attention; ${out} holds the logits only.\n`);
      }
      writeSafetensors(out, tensors, { model: model.dir ?? '', backend: backend.name, ids: ids.join(',') });
      process.stdout.write(`wrote ${out}: logits (${T}, ${c.vocabSize})${r.attention ? `, attn.0..attn.${c.nLayer - 1} (${c.nHead}, ${T}, ${T})` : ''} [${backend.name}]\n`);
      return 0;
    } finally {
      backend.dispose();
    }
  },
};
