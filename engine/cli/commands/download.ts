// `limelight download OWNER/REPO [FILE]`: fetches a model from the Hugging Face hub, only when
// asked, into the Hugging Face cache (where `limelight models` and other tools find it) or a
// folder (--to). Resumable (run it again after a failure or Ctrl+C), checked against the hub's
// SHA-256, with a progress bar on a terminal (a line every few seconds otherwise). The token
// for gated or private repos comes from HF_TOKEN; proxies from HTTPS_PROXY / NO_PROXY. The
// download code itself lives in its own bundle (engine/download/load.ts).
import { loadDownloader } from '../../download/load';
import type { DownloadProgress } from '../../download/main';
import { sizeText } from '../../download/units';
import { modelStores } from '../../model/modelStores';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';

function clock(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** One progress line: file, percentage, bytes, speed, time left; with a bar on a terminal. */
export function progressLine(p: DownloadProgress, bar: boolean, width = 80): string {
  const frac = p.total > 0 ? Math.min(1, p.bytes / p.total) : 0;
  const facts = `${(frac * 100).toFixed(0).padStart(3)}% ${sizeText(p.bytes)} of ${sizeText(p.total)}, ${sizeText(p.bytesPerSecond)}/s, ${clock(p.etaSeconds)} left`;
  const file = p.fileCount > 1 ? `${p.file} (${p.fileIndex}/${p.fileCount})` : p.file;
  if (!bar) return `${file}: ${facts}`;
  const cells = 20;
  const filled = Math.round(frac * cells);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}] ${facts} ${file}`;
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export const downloadCommand: CliCommand = {
  name: 'download',
  summary: 'Download a model from the Hugging Face hub into its cache (or --to DIR): resumable, verified by SHA-256.',
  usage: 'OWNER/REPO [FILE] [--to DIR] [--revision REV] [--endpoint URL]',
  positionals: 2,
  options: [
    { name: 'to', kind: 'string', value: 'DIR', help: 'save into DIR instead of the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)' },
    { name: 'revision', kind: 'string', value: 'REV', help: 'branch, tag or commit (default main)' },
    { name: 'endpoint', kind: 'string', value: 'URL', help: "the hub's base URL, for a mirror or an internal hub (default: HF_ENDPOINT, else huggingface.co)" },
    { name: 'timeout', kind: 'int', value: 'S', help: 'seconds without data before a stalled transfer stops (default 30; run again to resume)' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const [repo, file] = args.positionals;
    if (repo === undefined) throw new UsageError('name the model to download: limelight download OWNER/REPO [FILE], e.g. limelight download lmstudio-community/Qwen2.5-Coder-0.5B-GGUF Qwen2.5-Coder-0.5B-Q8_0.gguf.');
    const timeout = args.int('timeout', 30);
    if (timeout < 1) throw new UsageError(`--timeout takes a number of seconds of at least 1 (got ${timeout}).`);
    const env = process.env;
    const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
    const { downloadModel, DownloadError } = loadDownloader();
    const tty = process.stderr.isTTY === true;
    let last = 0;
    let shown = false;
    const onProgress = (p: DownloadProgress): void => {
      const now = Date.now();
      if (tty) {
        // A terminal that does not say its width (0) gets 80 columns.
        const columns = process.stderr.columns || 80;
        process.stderr.write(`\r${progressLine(p, true, Math.max(40, columns - 1))}\x1b[K`);
        shown = true;
      } else if (now - last >= 5000 || p.bytes === p.total) {
        last = now;
        process.stderr.write(`${progressLine(p, false)}\n`);
      }
    };
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await downloadModel({
        repo,
        ...(file !== undefined ? { file } : {}),
        revision: args.string('revision') ?? 'main',
        endpoint: args.string('endpoint') ?? env.HF_ENDPOINT,
        ...(token !== undefined && token.trim() !== '' ? { token } : {}),
        ...(args.has('to') ? { to: args.string('to')! } : {}),
        cacheDir: modelStores({ env }).find((s) => s.source === 'huggingface')!.dir,
        proxyEnv: env,
        timeoutMs: timeout * 1000,
        signal: abort.signal,
        onProgress,
      });
      if (shown) process.stderr.write('\n');
      process.stderr.write(`Downloaded ${result.files.length} file${result.files.length === 1 ? '' : 's'} (${sizeText(result.downloadedBytes)} over the network${result.commit !== undefined ? `, commit ${result.commit.slice(0, 10)}` : ''}), checked.\n`);
      process.stdout.write(`${result.path}\n`);
      return 0;
    } catch (e) {
      if (shown) process.stderr.write('\n');
      if (e instanceof DownloadError && e.kind === 'cancelled') {
        process.stderr.write(`limelight download: ${e.message}\n`);
        return 130;
      }
      if (e instanceof DownloadError && e.kind === 'input') throw new UsageError(e.message);
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
