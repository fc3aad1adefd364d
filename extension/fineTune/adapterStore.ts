// Where Fine-tune on Workspace keeps its work, inside the extension's storage for this
// workspace (context.storageUri), never in the workspace itself:
//   <storage>/run/       the training run: checkpoints, adapter or model, eval results, report
//   <storage>/adapter/   the result in use, with report.md and limelight-adapter.json (the base
//                        model it was made for, and its kind):
//                          lora  adapter_config.json, adapter_model.safetensors (PEFT)
//                          full  config.json, model.safetensors and the base model's tokenizer
//                                files: a whole Hugging Face checkpoint
// The folder is replaced whole (copied beside it, then renamed), so a crash never leaves half
// a result in use.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../engine/train/adapterFiles';
import { removeStaleTemps, tempPathFor, writeAdvice, writeFileAtomic } from '../../engine/io/atomicFile';

const META = 'limelight-adapter.json';
const REPORT = 'report.md';
const MODEL_CONFIG = 'config.json';
const MODEL_WEIGHTS = 'model.safetensors';
/** Files of a Hugging Face checkpoint besides the weights, copied from the base model when it has them. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'generation_config.json'];

export type FineTuneKind = 'lora' | 'full';

export interface AdapterMeta {
  /** Absolute folder of the base model the result was trained for. */
  baseModel: string;
  created: string;
  source: 'fine-tune' | 'import';
  /** What the folder holds; absent in folders written before full fine-tuning = lora. */
  kind?: FineTuneKind;
}

/** The files of a result of this kind that come from the run (or the imported folder). */
function resultFiles(kind: FineTuneKind): string[] {
  return kind === 'full' ? [MODEL_CONFIG, MODEL_WEIGHTS] : [ADAPTER_CONFIG, ADAPTER_WEIGHTS];
}

export class AdapterStore {
  constructor(private readonly storage: string) {}

  get runDir(): string {
    return join(this.storage, 'run');
  }

  get adapterDir(): string {
    return join(this.storage, 'adapter');
  }

  meta(): AdapterMeta | null {
    const p = join(this.adapterDir, META);
    if (!existsSync(p)) return null;
    let m: AdapterMeta;
    try {
      m = JSON.parse(readFileSync(p, 'utf8')) as AdapterMeta;
    } catch {
      return null;
    }
    return resultFiles(m.kind ?? 'lora').every((f) => existsSync(join(this.adapterDir, f))) ? m : null;
  }

  /** The stored result and its kind when one is stored for this base model, else null. */
  tunedFor(baseModel: string): { kind: FineTuneKind; dir: string } | null {
    const m = this.meta();
    return m !== null && resolve(m.baseModel) === resolve(baseModel) ? { kind: m.kind ?? 'lora', dir: this.adapterDir } : null;
  }

  reportPath(): string | null {
    const p = join(this.adapterDir, REPORT);
    return existsSync(p) ? p : null;
  }

  /**
   * Makes the result in `from` (a run or an imported adapter folder) the one in use. A full
   * model takes the base model's tokenizer files along, so that it is a whole checkpoint.
   */
  install(from: string, meta: AdapterMeta): string {
    const kind = meta.kind ?? 'lora';
    const missing = resultFiles(kind).filter((f) => !existsSync(join(from, f)));
    if (missing.length > 0) throw new Error(`${from} has no ${missing.join(', ')}: it holds no ${kind === 'full' ? 'fine-tuned model' : 'LoRA adapter'}.`);
    mkdirSync(this.storage, { recursive: true });
    removeStaleTemps(this.storage);
    const next = tempPathFor(this.adapterDir);
    try {
      mkdirSync(next);
      for (const f of [...resultFiles(kind), REPORT]) if (existsSync(join(from, f))) cpSync(join(from, f), join(next, f));
      if (kind === 'full') for (const f of TOKENIZER_FILES) if (existsSync(join(meta.baseModel, f))) cpSync(join(meta.baseModel, f), join(next, f));
      writeFileAtomic(join(next, META), JSON.stringify({ ...meta, kind }, null, 2) + '\n');
    } catch (e) {
      // A full disk or a read-only storage folder: the result in use stays as it was.
      rmSync(next, { recursive: true, force: true });
      throw new Error(`Storing the fine-tuned ${kind === 'full' ? 'model' : 'adapter'} in ${this.storage} failed (${writeAdvice(e)}); the one in use is unchanged.`);
    }
    const old = `${this.adapterDir}.old`;
    rmSync(old, { recursive: true, force: true });
    if (existsSync(this.adapterDir)) renameSync(this.adapterDir, old);
    renameSync(next, this.adapterDir);
    rmSync(old, { recursive: true, force: true });
    return this.adapterDir;
  }

  remove(): boolean {
    const had = existsSync(this.adapterDir);
    rmSync(this.adapterDir, { recursive: true, force: true });
    return had;
  }

  /**
   * Copies the result in use into `dir`: a PEFT adapter folder, or a Hugging Face checkpoint
   * folder for a full fine-tune. Refuses to overwrite files there.
   */
  exportTo(dir: string): string[] {
    const kind = this.meta()?.kind ?? 'lora';
    const files = [...resultFiles(kind), ...(kind === 'full' ? TOKENIZER_FILES : []), REPORT].filter((f) => existsSync(join(this.adapterDir, f)));
    const clash = files.find((f) => existsSync(join(dir, f)));
    if (clash) throw new Error(`${join(dir, clash)} already exists; Limelight never overwrites files. Choose an empty folder.`);
    mkdirSync(dir, { recursive: true });
    // Each file is copied under a temporary name and renamed: a full disk leaves no half file.
    const done: string[] = [];
    try {
      for (const f of files) {
        const tmp = tempPathFor(join(dir, f));
        try {
          cpSync(join(this.adapterDir, f), tmp, { errorOnExist: true, force: false });
          renameSync(tmp, join(dir, f));
        } finally {
          rmSync(tmp, { force: true });
        }
        done.push(join(dir, f));
      }
    } catch (e) {
      for (const p of done) rmSync(p, { force: true });
      throw new Error(`Exporting to ${dir} failed (${writeAdvice(e)}); nothing was left there.`);
    }
    return done;
  }
}
