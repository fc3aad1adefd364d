// The secrets planted in the fine-tune fixture workspace (test/fixtures/finetune-workspace):
// credential files by name (.env, .env.production, config/server.key, config/server.crt) and
// source files that hold a private key, an AWS key id or a high-entropy token. None of these
// strings may ever reach a training set, an export, a prompt, the log or the Explain page.

/** Files of the fixture that hold a planted secret, relative to the workspace. */
export const SECRET_FILES = ['.env', '.env.production', 'config/server.key', 'config/server.crt', 'src/deploy.ts', 'src/aws.py', 'src/token.ts'];

/** Matches any planted secret string. */
export const PLANTED_SECRET = /PLANTED_SECRET|AKIAPLANTED|pLaNtEd9Xq7Rv2Lk8Wm3Tz6Yb1Nc4Hd5Jf0Gs/;

/** The first planted secret in `text` with some context, or null when there is none. */
export function plantedSecretIn(text: string): string | null {
  const m = PLANTED_SECRET.exec(text);
  return m ? text.slice(Math.max(0, m.index - 80), m.index + 60) : null;
}
