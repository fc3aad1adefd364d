// Where a remote backend sends the user's code, and the checks before anything is sent: the
// endpoint must be https unless it is this machine (loopback) or the user opted in to plain
// http, and it must not carry credentials in the URL (the key goes in SecretStorage and a
// bearer header, and a URL is written in logs).
/** The server APIs the remote backend speaks. */
export const REMOTE_APIS = ['llama-infill', 'ollama', 'openai-completions'] as const;
export type RemoteApi = (typeof REMOTE_APIS)[number];

export interface RemoteConfig {
  /** The server's base URL, checked by checkEndpoint. */
  endpoint: URL;
  api: RemoteApi;
  /** The server's model name ('' where the server serves one model and needs no name). */
  model: string;
  /** A FIM template name (fimMarkers.ts) for openai-completions and raw Ollama, or '' to choose from the model's name. */
  fimTemplate: string;
  /** Sent as `Authorization: Bearer`; never written in a message. */
  apiKey: string;
  /** Most time one request may take, connection to last byte. */
  timeoutMs: number;
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;

export function isRemoteApi(v: string): v is RemoteApi {
  return (REMOTE_APIS as readonly string[]).includes(v);
}

/** Whether a URL's host is this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

export type EndpointCheck = { ok: true; url: URL } | { ok: false; problem: string };

/**
 * The endpoint as a URL, or what is wrong with it. `allowHttp` is the user's opt-in to plain
 * http for a host other than this machine (a server on a trusted network).
 */
export function checkEndpoint(raw: string, allowHttp: boolean, setting = 'limelight.remote.endpoint'): EndpointCheck {
  const text = raw.trim();
  if (text === '') return { ok: false, problem: `${setting} is empty: set it to the server's base URL, e.g. https://HOST/v1 or http://127.0.0.1:8080.` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `${setting} is not a URL (${JSON.stringify(text.slice(0, 100))}): give the server's base URL, e.g. https://HOST/v1 or http://127.0.0.1:8080.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: `${setting} must be an http or https URL (got ${url.protocol}).` };
  if (url.username !== '' || url.password !== '') return { ok: false, problem: `${setting} must not hold a user name or password (URLs are written in logs): remove them and run "Limelight: Set Remote API Key" instead.` };
  if (url.search !== '' || url.hash !== '') return { ok: false, problem: `${setting} must be a base URL without a query or fragment (${url.origin}${url.pathname}).` };
  if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
    return { ok: false, problem: `${setting} uses plain http to ${url.hostname}, which would send your code unencrypted: use https, or turn on limelight.remote.allowHttp (user settings) for a server on a network you trust.` };
  }
  return { ok: true, url };
}

/** `path` under the endpoint's path ("http://h:8000/v1" + "completions" -> /v1/completions). */
export function endpointUrl(base: URL, path: string): URL {
  const dir = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return new URL(`${dir}${path.replace(/^\//, '')}`, base);
}

/** Removes every occurrence of the key from a text about to be shown or logged. */
export function redact(text: string, apiKey: string): string {
  return apiKey.length >= 4 ? text.split(apiKey).join('[key]') : text;
}
