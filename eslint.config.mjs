// Lint rules: typescript-eslint's recommended set, plus the habits the project asks for
// (no stray console in the extension, no floating promises is left to review).
import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

// The extension's door into the engine (docs/architecture.md), shared with test/unit/importGraph.test.ts.
const { extensionMayImport } = JSON.parse(readFileSync(new URL('./tools/importRules.json', import.meta.url), 'utf8'));
const engineOutsideTheDoor = `^(\\.\\./)+engine/(?!(?:${extensionMayImport.map((m) => m.replace(/^engine\//, '')).join('|')})$)`;

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.cache/**', 'media/models/**', 'test/fixtures/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'engine/ must not import vscode (see DESIGN.md).' }] }],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: engineOutsideTheDoor,
              message: 'extension/ reaches the engine through the worker (engine/worker/protocol.ts and client.ts) and pure helpers: add a worker request instead (docs/architecture.md, tools/importRules.json).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
