// Where Fine-tune on Workspace keeps its work, inside the extension's storage for this
// workspace (context.storageUri), never in the workspace itself:
//   <storage>/run/       the training run: checkpoints, adapter, eval results, report
//   <storage>/adapter/   the adapter in use: adapter_config.json, adapter_model.safetensors,
//                        report.md and limelight-adapter.json (the base model it was made for)
// The adapter folder is replaced whole (copied beside it, then renamed), so a crash never
// leaves half an adapter in use.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../engine/train/lora';
import { writeFileAtomic } from '../../engine/io/atomicFile';

const META = 'limelight-adapter.json';
const REPORT = 'report.md';

export interface AdapterMeta {
  /** Absolute folder of the base model the adapter was trained for. */
  baseModel: string;
  created: string;
  source: 'fine-tune' | 'import';
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
    if (!existsSync(p) || !existsSync(join(this.adapterDir, ADAPTER_WEIGHTS))) return null;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as AdapterMeta;
    } catch {
      return null;
    }
  }

  /** The adapter folder when one is stored for this base model, else null. */
  adapterFor(baseModel: string): string | null {
    const m = this.meta();
    return m !== null && resolve(m.baseModel) === resolve(baseModel) ? this.adapterDir : null;
  }

  reportPath(): string | null {
    const p = join(this.adapterDir, REPORT);
    return existsSync(p) ? p : null;
  }

  /** Makes the adapter in `from` (a run or an imported folder) the one in use. */
  install(from: string, meta: AdapterMeta): string {
    mkdirSync(this.storage, { recursive: true });
    const next = join(this.storage, `adapter.${process.pid}.${Date.now()}.tmp`);
    mkdirSync(next);
    for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS, REPORT]) if (existsSync(join(from, f))) cpSync(join(from, f), join(next, f));
    writeFileAtomic(join(next, META), JSON.stringify(meta, null, 2) + '\n');
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

  /** Copies the adapter in use into `dir` (PEFT layout); refuses to overwrite files there. */
  exportTo(dir: string): string[] {
    const files = [ADAPTER_CONFIG, ADAPTER_WEIGHTS, REPORT].filter((f) => existsSync(join(this.adapterDir, f)));
    const clash = files.find((f) => existsSync(join(dir, f)));
    if (clash) throw new Error(`${join(dir, clash)} already exists; Limelight never overwrites files. Choose an empty folder.`);
    mkdirSync(dir, { recursive: true });
    for (const f of files) cpSync(join(this.adapterDir, f), join(dir, f), { errorOnExist: true, force: false });
    return files.map((f) => join(dir, f));
  }
}
