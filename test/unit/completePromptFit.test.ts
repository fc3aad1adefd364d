// The prompt never outgrows its budget: the prefix window kept while typing may run a margin
// over its own share, which with a full suffix overflowed the prompt (and the model's
// context: the soak's "prompt needs 1027 positions" errors).
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { fileHeader } from '../../engine/tokenizer/promptFormats';
import { PromptBuilder, type PromptBudget } from '../../engine/complete/prompt';

test('typing past the kept prefix window never makes the prompt longer than maxPromptTokens', () => {
  const builder = new PromptBuilder(requireFimTemplate(getTokenizer('p50k_edit'), 'p50k_edit'));
  const line = (i: number): string => `    total_${i} = compute(value_${i}, factor=${i})\n`;
  const before = Array.from({ length: 200 }, (_, i) => line(i)).join('');
  const after = Array.from({ length: 200 }, (_, i) => line(1000 + i)).join('');
  // Room for exactly the two windows: the header, the three FIM tokens, 100 + 100.
  const header = builder.encode(fileHeader('calc.py')).length;
  const budget: PromptBudget = { prefixTokens: 100, suffixTokens: 100, contextTokens: 0, maxPromptTokens: header + 3 + 200 };
  let typed = '';
  let longest = 0;
  for (let i = 0; i < 60; i++) {
    typed += line(500 + i).slice(0, 12);
    const text = before + typed + after;
    const p = builder.build({ path: 'calc.py', languageId: 'python', text, offset: before.length + typed.length }, budget);
    longest = Math.max(longest, p.ids.length);
    assert.ok(p.ids.length <= budget.maxPromptTokens, `keystroke ${i}: ${p.ids.length} tokens for a budget of ${budget.maxPromptTokens}`);
  }
  assert.ok(longest > budget.maxPromptTokens - 10, `the prompt filled its budget (${longest} tokens)`);
});
