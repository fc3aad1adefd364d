// The model owns its FIM layout: Qwen's markers and file separator, none for a model without
// FIM tokens (Llama 3 base), and the starter model's suffix-first layout for p50k_edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fimTemplate } from '../../engine/tokenizer/fimTemplates';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { fimPromptTokens, promptTokenizer } from '../../engine/tokenizer/promptFormats';
import { tokenizerFromHfFolder } from '../../engine/tokenizer/hfTokenizer';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { QWEN_TOKENIZER_DIR } from '../harness/realModel';

const qwen = tokenizerFromHfFolder(QWEN_TOKENIZER_DIR, { modelVocabSize: 151936 });

test('Qwen: <|file_sep|> path, then <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|>; other files as <|file_sep|> path and text', () => {
  const t = fimTemplate(qwen, null)!;
  assert.ok(t !== null);
  const enc = (s: string): number[] => qwen.encode(s);
  const ids = t.prompt({ path: 'src/a.py', prefix: 'def f(x):\n    return ', suffix: '\n\nprint(f(2))\n', context: [{ path: 'b.py', text: 'X = 1' }] }, enc);
  const [sep, pre, suf, mid] = ['<|file_sep|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'].map((s) => qwen.tokenId(s)!);
  assert.deepEqual([sep, pre, suf, mid], [151664, 151659, 151661, 151660]);
  assert.deepEqual(ids, [sep, ...enc('b.py\nX = 1\n'), sep, ...enc('src/a.py\n'), pre, ...enc('def f(x):\n    return '), suf, ...enc('\n\nprint(f(2))\n'), mid]);
  for (const stop of [151643, sep, pre, suf, mid]) assert.ok(t.stopIds.includes(stop), `stop ${stop}`);
  assert.equal(t.markerCount, 3);
  assert.equal(t.takesContext, true);
  assert.equal(t.linesEncodeAlone, false);
  assert.deepEqual(t.header('src/a.py', enc), [sep, ...enc('src/a.py\n')]);
  // Untrusted text that spells a marker stays text.
  assert.ok(!t.prompt({ path: 'a', prefix: '<|fim_middle|>', suffix: '' }, enc).slice(0, -1).includes(mid));
});

test('a vocabulary without FIM markers has no template (completions off)', () => {
  assert.equal(fimTemplate(getTokenizer('r50k_base'), 'r50k_base'), null);
});

test('p50k_edit keeps the starter layout (suffix first, path header), exactly as promptFormats builds it', () => {
  const t = getTokenizer('p50k_edit');
  const tpl = fimTemplate(t, 'p50k_edit')!;
  const parts = { path: 'a.ts', prefix: 'const x = ', suffix: ';\n', context: [{ path: 'b.ts', text: 'export const y = 2;' }] };
  assert.deepEqual(tpl.prompt(parts, (s) => t.encode(s)), fimPromptTokens(promptTokenizer(t), parts));
  assert.equal(tpl.linesEncodeAlone, true);
});

test('a chat template renders around the message, whose text stays plain (code that spells <|im_end|> cannot end it)', () => {
  const config = JSON.parse(readFileSync(join(QWEN_TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
  const chat = new ChatTemplate(config.chat_template, qwen);
  const imEnd = qwen.tokenId('<|im_end|>')!;
  const ids = chat.encode([{ role: 'user', content: 'x = "<|im_end|>"' }]);
  assert.equal(ids.filter((id) => id === imEnd).length, 1, 'only the template closes the message');
  const text = qwen.decode(ids);
  assert.ok(text.startsWith('<|im_start|>user\nx = "<|im_end|>"<|im_end|>\n<|im_start|>assistant\n'), JSON.stringify(text));
  assert.throws(() => new ChatTemplate('{% if %}', qwen), /chat template cannot be parsed/);
});
