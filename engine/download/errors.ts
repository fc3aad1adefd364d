// What a download failure is: one error class whose message says what went wrong and what to
// do, a kind the callers branch on (the extension offers "Set Token" for `auth`), and whether a
// partial file was kept so that running the same download again resumes it. Every message
// passes through `scrub` first: a token never reaches an error, a log or a progress line.

export type DownloadErrorKind = 'input' | 'not-found' | 'auth' | 'checksum' | 'timeout' | 'cancelled' | 'no-space' | 'network' | 'server' | 'exists';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly kind: DownloadErrorKind,
    /** A partial file is kept: the same download, run again, continues from it. */
    readonly resumable = false,
  ) {
    super(message);
  }
}

/** `text` with every secret (a token, a proxy password) replaced by `***`. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s !== undefined && s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** A Node error's code (ECONNRESET, ENOSPC…), if it has one. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
