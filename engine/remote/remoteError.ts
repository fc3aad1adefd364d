// What went wrong with a request to an inference server, with what to do in the message (never
// the key). A module of its own: the extension and the CLI tell these errors apart without
// loading the network code (engine/remote/load.ts).
export type RemoteErrorKind = 'auth' | 'rate-limited' | 'server' | 'bad-request' | 'protocol' | 'network' | 'timeout' | 'cancelled';

export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    message: string,
    readonly kind: RemoteErrorKind,
    readonly status: number | null = null,
    /** From a 429's (or 503's) Retry-After header: how long the server asks to wait. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Whether `e` is a RemoteError, also one thrown by the separately bundled client (dist/remote.js), whose class is another copy. */
export function isRemoteError(e: unknown): e is RemoteError {
  return e instanceof Error && e.name === 'RemoteError' && typeof (e as { kind?: unknown }).kind === 'string';
}
