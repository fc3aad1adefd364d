// Reads Limelight's settings and checks each value against the schema the manifest
// declares (package.json contributes.configuration), so the bounds live in one place.
// A value of the wrong type or out of bounds falls back to the default (or is clamped)
// and is reported, never passed on to the engine. limelight.model.path must name an existing
// local folder (folderPath.ts); it is passed on as its real path.
// Where code may be sent (limelight.remote.*, and the backend when it is `remote`) is read from
// the user's settings only: a workspace's settings must never redirect the user's code to
// another server. The endpoint must pass checkEndpoint (https unless loopback or the opt-in).
import { checkEndpoint, type RemoteApi } from '../engine/remote/endpoint';
import { checkFolder, GGUF_MODEL_FILE } from './folderPath';

export type Backend = 'auto' | 'js' | 'ort-cpu' | 'ort-webgpu' | 'remote';
export type WeightFormat = 'auto' | 'f32' | 'f16' | 'q8_0';
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';
export type FineTuneMethod = 'lora' | 'full';

export interface LimelightSettings {
  completions: {
    enabled: boolean;
    languages: Record<string, boolean>; // languageId -> on/off, "*" for the rest
    debounceMs: number;
    maxNewTokens: number;
    prefixTokens: number;
    suffixTokens: number;
    contextChunksTokens: number;
    adaptiveDebounce: boolean;
    multiLine: boolean;
    singleLineMaxTokens: number;
    singleLineMaxMs: number;
    multiLineMaxMs: number;
    maxFollowingChars: number;
  };
  modelPath: string; // "" = the bundled starter model
  backend: Backend;
  threads: number; // 0 = cores - 1
  weightFormat: WeightFormat;
  maxContextTokens: number;
  kvCacheMemoryMB: number;
  kvCacheFormat: 'f16' | 'f32';
  idleReleaseSeconds: number; // 0 = never
  fineTune: { include: string[]; exclude: string[]; loraRank: number; maxMinutes: number; method: FineTuneMethod };
  logLevel: LogLevel;
  remote: RemoteSettings;
}

export interface RemoteSettings {
  /** The checked base URL, or '' when unset or refused (the problem says why). */
  endpoint: string;
  api: RemoteApi;
  model: string;
  fimTemplate: string;
  allowHttp: boolean;
  timeoutMs: number;
}

/** One entry of contributes.configuration.properties, as far as validation needs it. */
export interface SettingSchema {
  type: 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';
  default: unknown;
  minimum?: number;
  maximum?: number;
  enum?: string[];
}

export type SettingsSchema = Record<string, SettingSchema>;

export interface SettingsResult {
  settings: LimelightSettings;
  /** One line per value that was ignored or clamped, saying what to change. */
  problems: string[];
  /** Facts worth a log line: the real folder behind a model path given through a link, ~ or `..`. */
  notes: string[];
}

const SECTION = 'limelight.';

export function isSettingsSchema(value: unknown): value is SettingsSchema {
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).every(
    (s) => typeof s === 'object' && s !== null && typeof (s as { type?: unknown }).type === 'string' && 'default' in s,
  );
}

/** The value as the warning quotes it: JSON, cut short (a settings.json value may be megabytes). */
function quoted(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 120 ? `${json.slice(0, 100)}... (${json.length} characters)` : json;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isBooleanRecord(v: unknown): v is Record<string, boolean> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'boolean');
}

function matchesType(schema: SettingSchema, v: unknown): boolean {
  switch (schema.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string' && (schema.enum === undefined || schema.enum.includes(v));
    case 'array':
      return isStringArray(v);
    case 'object':
      return isBooleanRecord(v);
  }
}

/**
 * Validates every setting the schema declares. `get` returns the effective value for a full
 * key ("limelight.backend"), or undefined when unset; `userValue` the value in the user's own
 * settings (VS Code's inspect().globalValue), which alone decides where code is sent (without
 * it, nothing is sent anywhere).
 */
export function readSettings(schema: SettingsSchema, get: (key: string) => unknown, userValue: (key: string) => unknown = () => undefined): SettingsResult {
  const problems: string[] = [];
  const notes: string[] = [];
  const checked = (name: string, read: (key: string) => unknown): unknown => {
    const key = SECTION + name;
    const s = schema[key];
    if (s === undefined) throw new Error(`Setting ${key} is not declared in package.json contributes.configuration.`);
    const v = read(key);
    if (v === undefined) return s.default;
    if (!matchesType(s, v)) {
      const expected = s.enum ? `one of ${s.enum.join(', ')}` : `a ${s.type}`;
      problems.push(`${key}: ${quoted(v)} is not ${expected}; using ${JSON.stringify(s.default)}. Fix it in Settings.`);
      return s.default;
    }
    if (typeof v === 'number') {
      const lo = s.minimum ?? -Infinity;
      const hi = s.maximum ?? Infinity;
      if (v < lo || v > hi) {
        const clamped = Math.min(hi, Math.max(lo, v));
        problems.push(`${key}: ${v} is outside [${lo}, ${hi}]; using ${clamped}.`);
        return clamped;
      }
    }
    return v;
  };
  const value = (name: string): unknown => checked(name, get);
  // Each cast below is safe: value() returned either a checked user value or the schema default.
  const settings: LimelightSettings = {
    completions: {
      enabled: value('completions.enabled') as boolean,
      languages: value('completions.languages') as Record<string, boolean>,
      debounceMs: value('completions.debounceMs') as number,
      maxNewTokens: value('completions.maxNewTokens') as number,
      prefixTokens: value('completions.prefixTokens') as number,
      suffixTokens: value('completions.suffixTokens') as number,
      contextChunksTokens: value('completions.contextChunksTokens') as number,
      adaptiveDebounce: value('completions.adaptiveDebounce') as boolean,
      multiLine: value('completions.multiLine') as boolean,
      singleLineMaxTokens: value('completions.singleLineMaxTokens') as number,
      singleLineMaxMs: value('completions.singleLineMaxMs') as number,
      multiLineMaxMs: value('completions.multiLineMaxMs') as number,
      maxFollowingChars: value('completions.maxFollowingChars') as number,
    },
    modelPath: checkedModelPath(value('model.path') as string, problems, notes),
    backend: checkedBackend(value('backend') as Backend, () => checked('backend', userValue) as Backend, problems),
    threads: value('threads') as number,
    weightFormat: value('weightFormat') as WeightFormat,
    maxContextTokens: value('maxContextTokens') as number,
    kvCacheMemoryMB: value('kvCacheMemoryMB') as number,
    kvCacheFormat: value('kvCacheFormat') as 'f16' | 'f32',
    idleReleaseSeconds: value('idleReleaseSeconds') as number,
    fineTune: {
      include: value('fineTune.include') as string[],
      exclude: value('fineTune.exclude') as string[],
      loraRank: value('fineTune.loraRank') as number,
      maxMinutes: value('fineTune.maxMinutes') as number,
      method: value('fineTune.method') as FineTuneMethod,
    },
    logLevel: value('logLevel') as LogLevel,
    remote: {
      endpoint: '',
      api: checked('remote.api', userValue) as RemoteApi,
      model: (checked('remote.model', userValue) as string).trim(),
      fimTemplate: checked('remote.fimTemplate', userValue) as string,
      allowHttp: checked('remote.allowHttp', userValue) as boolean,
      timeoutMs: checked('remote.timeoutMs', userValue) as number,
    },
  };
  for (const name of ['remote.endpoint', 'remote.api', 'remote.model', 'remote.fimTemplate', 'remote.allowHttp']) {
    const key = SECTION + name;
    const effective = get(key);
    if (effective !== undefined && JSON.stringify(effective) !== JSON.stringify(userValue(key) ?? schema[key]?.default)) notes.push(`${key} is read from user settings only; the value from this workspace's settings is ignored.`);
  }
  const endpoint = (checked('remote.endpoint', userValue) as string).trim();
  if (endpoint !== '') {
    const c = checkEndpoint(endpoint, settings.remote.allowHttp, 'the URL');
    if (!c.ok) problems.push(`limelight.remote.endpoint: ${c.problem}${settings.backend === 'remote' ? ' Completions and summaries are off until then.' : ''}`);
    else settings.remote.endpoint = c.url.toString();
  } else if (settings.backend === 'remote') {
    problems.push('limelight.remote.endpoint: the remote backend needs the server\'s base URL in your user settings, e.g. http://127.0.0.1:8080 (llama.cpp server) or https://HOST/v1. Completions and summaries are off until then.');
  }
  return { settings, problems, notes };
}

/** The backend, where `remote` counts only from the user's settings (a workspace cannot turn it on). */
function checkedBackend(effective: Backend, user: () => Backend, problems: string[]): Backend {
  if (effective !== 'remote' || user() === 'remote') return effective;
  problems.push(`limelight.backend is "remote" in this workspace's settings, which cannot send the workspace's code to a server: set it in your user settings to use a remote server. Using "${user()}".`);
  return user();
}

/** limelight.model.path as its real folder or .gguf file, or '' (the starter model) when unset or unfit. */
function checkedModelPath(raw: string, problems: string[], notes: string[]): string {
  if (raw.trim() === '') return '';
  const c = checkFolder(raw, 'limelight.model.path', undefined, GGUF_MODEL_FILE);
  if (!c.ok) {
    problems.push(`${c.problem} Until then the bundled starter model is used.`);
    return '';
  }
  if (c.note) notes.push(c.note);
  return c.path;
}

/** Whether completions are on for a language, honouring the "*" default. */
export function completionsEnabledFor(settings: LimelightSettings, languageId: string): boolean {
  if (!settings.completions.enabled) return false;
  const langs = settings.completions.languages;
  return langs[languageId] ?? langs['*'] ?? true;
}
