// Checks a rendered webview document against the policy every Limelight webview must carry
// (extension/webviewCsp.ts): what the browser parsed (the CSP meta elements, every script's
// nonce) goes in, and a list of what falls short comes out. The unit tests feed it pages
// rendered in Chromium, the e2e test the webviews inside a real VS Code.
import type { Frame, Page } from 'playwright-core';

export interface WebviewDocumentFacts {
  /** content of every <meta http-equiv="Content-Security-Policy">. */
  policies: string[];
  /**
   * Each <script>'s nonce as the browser holds it (the attribute is hidden once the CSP applies),
   * but for the API script VS Code's webview host puts before the page's own head.
   */
  scriptNonces: string[];
  title: string;
}

/** Reads the facts from a loaded page or frame. */
export function documentFacts(target: Page | Frame): Promise<WebviewDocumentFacts> {
  return target.evaluate(() => ({
    policies: Array.from(document.querySelectorAll('meta')).filter((m) => m.httpEquiv.toLowerCase() === 'content-security-policy').map((m) => m.content),
    scriptNonces: Array.from(document.querySelectorAll('script'))
      .filter((s) => s.id !== '_vscodeApiScript')
      .map((s) => s.nonce ?? ''),
    title: document.title,
  }));
}

/** Directive name -> source list, as CSP Level 3 parses a serialized policy (first of a name wins). */
export function parseCsp(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const tokens = part.trim().split(/[\t\n\f\r ]+/).filter((t) => t !== '');
    if (tokens.length === 0) continue;
    const name = tokens[0]!.toLowerCase();
    if (!out.has(name)) out.set(name, tokens.slice(1));
  }
  return out;
}

// Directives that only restrict (none of them lets anything load).
const RESTRICTING = new Set(['default-src', 'script-src', 'style-src', 'img-src', 'font-src']);

/**
 * What the document lacks: one CSP; default-src 'none'; scripts by this render's nonce only;
 * styles, images and fonts from `cspSource` only (webview.cspSource: VS Code's resource origin
 * for the extension's files, e.g. "'self' https://*.vscode-cdn.net" in code-server); no other
 * origin, scheme, wildcard, inline or eval. Returns the nonce with the problems, so callers
 * can compare renders.
 */
export function cspProblems(facts: WebviewDocumentFacts, cspSource: string): { problems: string[]; nonce: string | null } {
  const problems: string[] = [];
  if (facts.policies.length !== 1) return { problems: [`${facts.policies.length} CSP meta elements, not 1`], nonce: null };
  const csp = parseCsp(facts.policies[0]!);
  for (const name of csp.keys()) if (!RESTRICTING.has(name)) problems.push(`unexpected directive ${name}`);
  const eq = (name: string, want: string[]): void => {
    const got = csp.get(name);
    if (got === undefined || got.join(' ') !== want.join(' ')) problems.push(`${name} is ${got === undefined ? 'missing' : `"${got.join(' ')}"`}, not "${want.join(' ')}"`);
  };
  eq('default-src', ["'none'"]);
  const script = csp.get('script-src') ?? [];
  const nonce = script.length === 1 ? (/^'nonce-([A-Za-z0-9+/_-]+=*)'$/.exec(script[0]!)?.[1] ?? null) : null;
  if (nonce === null) problems.push(`script-src is "${script.join(' ')}", not one nonce`);
  else if (nonce.length < 16) problems.push(`the nonce ${nonce} is too short to be unguessable`);
  const resources = cspSource.split(/\s+/).filter((t) => t !== '');
  for (const name of ['style-src', 'img-src', 'font-src']) eq(name, resources);
  for (const [name, sources] of csp) {
    for (const s of sources) {
      if (/unsafe-|strict-dynamic|^\*|^(https?|wss?|data|blob|filesystem):$/i.test(s)) problems.push(`${name} allows ${s}`);
      if (/^(https?|wss?):\/\//i.test(s) && !resources.includes(s)) problems.push(`${name} allows the remote origin ${s}`);
    }
  }
  if (facts.scriptNonces.length === 0) problems.push('no <script> at all');
  facts.scriptNonces.forEach((n, i) => {
    if (n !== nonce) problems.push(`<script> ${i + 1} has nonce "${n}", not the policy's`);
  });
  return { problems, nonce };
}
