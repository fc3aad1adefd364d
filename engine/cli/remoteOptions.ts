// `--backend remote` on the commands that generate: the server is named by options, with the
// same meanings and checks as the extension's limelight.remote.* settings. The API key is read
// from the environment (LIMELIGHT_REMOTE_API_KEY), never from an option: a command line is
// visible to every user of the machine (ps) and stays in shell histories.
import { checkEndpoint, DEFAULT_REMOTE_TIMEOUT_MS, isRemoteApi, REMOTE_APIS } from '../remote/endpoint';
import { loadRemoteClient, type RemoteClient } from '../remote/load';
import { isRemoteError } from '../remote/remoteError';
import { FIM_TEMPLATE_NAMES } from '../tokenizer/fimMarkers';
import { UsageError, type OptionSpec, type ParsedArgs } from './args';

export const REMOTE_KEY_ENV = 'LIMELIGHT_REMOTE_API_KEY';

export const REMOTE_OPTIONS: readonly OptionSpec[] = [
  { name: 'endpoint', kind: 'string', value: 'URL', help: "with --backend remote: the server's base URL (https, or http to this machine; e.g. http://127.0.0.1:8080, or https://HOST/v1 for openai-completions)" },
  { name: 'api', kind: 'string', value: 'KIND', help: `with --backend remote: ${REMOTE_APIS.join(', ')}` },
  { name: 'remote-model', kind: 'string', value: 'NAME', help: "with --backend remote: the server's model name (Ollama, OpenAI-style servers)" },
  { name: 'fim-template', kind: 'string', value: 'NAME', help: `with --backend remote: the FIM markers, ${FIM_TEMPLATE_NAMES.join(', ')} (default: chosen from the model name)` },
  { name: 'allow-http', kind: 'flag', help: 'with --backend remote: allow plain http to a host other than this machine' },
  { name: 'timeout-ms', kind: 'int', value: 'MS', help: `with --backend remote: most time one request may take (default ${DEFAULT_REMOTE_TIMEOUT_MS})` },
];

export function wantsRemote(args: ParsedArgs): boolean {
  return args.string('backend') === 'remote';
}

/** The client --endpoint, --api, --remote-model and --fim-template describe; the key from LIMELIGHT_REMOTE_API_KEY. */
export function remoteClient(args: ParsedArgs): RemoteClient {
  const endpoint = args.string('endpoint');
  if (endpoint === undefined) throw new UsageError('--backend remote needs --endpoint URL (the server\'s base URL).');
  const check = checkEndpoint(endpoint, args.flag('allow-http'), '--endpoint');
  if (!check.ok) throw new UsageError(check.problem.replace('limelight.remote.allowHttp (user settings)', '--allow-http'));
  const api = args.string('api') ?? '';
  if (!isRemoteApi(api)) throw new UsageError(`--backend remote needs --api, one of ${REMOTE_APIS.join(', ')}${api !== '' ? ` (got "${api}")` : ''}.`);
  const model = args.string('remote-model') ?? '';
  if (model === '' && api !== 'llama-infill') throw new UsageError(`--api ${api} needs --remote-model NAME, the model's name on the server.`);
  const timeoutMs = args.int('timeout-ms', DEFAULT_REMOTE_TIMEOUT_MS);
  if (timeoutMs < 1) throw new UsageError('--timeout-ms must be at least 1.');
  try {
    return new (loadRemoteClient().RemoteClient)({ endpoint: check.url, api, model, fimTemplate: args.string('fim-template') ?? '', apiKey: process.env[REMOTE_KEY_ENV] ?? '', timeoutMs });
  } catch (e) {
    if (isRemoteError(e)) throw new UsageError(e.message.replace('limelight.remote.fimTemplate (CLI: --fim-template)', '--fim-template').replace('limelight.remote.fimTemplate', '--fim-template'));
    throw e;
  }
}

/** Options a local model reads that have no meaning for a server. */
export function refuseLocalOptions(args: ParsedArgs, names: readonly string[]): void {
  const given = names.filter((n) => args.has(n));
  if (given.length > 0) throw new UsageError(`${given.map((n) => `--${n}`).join(', ')} ${given.length === 1 ? 'applies' : 'apply'} to a local model, not to --backend remote.`);
}
