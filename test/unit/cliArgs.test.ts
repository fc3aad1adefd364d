// The CLI's argument parser: list options take every value up to the next option, and may
// be given again; single-value options still refuse a second value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHelp, parseArgs, UsageError, type OptionSpec } from '../../engine/cli/args';

const SPECS: OptionSpec[] = [
  { name: 'data', kind: 'string', value: 'PATHS...', many: true, help: 'files' },
  { name: 'out', kind: 'string', value: 'DIR', help: 'folder' },
  { name: 'steps', kind: 'int', value: 'N', help: 'updates' },
  { name: 'resume', kind: 'flag', help: 'continue' },
];

test('a list option takes every value up to the next option', () => {
  const a = parseArgs(['--data', 'a.txt', 'src', 'b.md', '--out', 'o', '--resume'], SPECS);
  assert.deepEqual(a.list('data'), ['a.txt', 'src', 'b.md']);
  assert.equal(a.string('out'), 'o');
  assert.equal(a.flag('resume'), true);
});

test('a list option may be given again, with = or without, and keeps the order', () => {
  const a = parseArgs(['--data', 'a', 'b', '--steps', '3', '--data=c', '--data', 'd', '-x'], SPECS);
  assert.deepEqual(a.list('data'), ['a', 'b', 'c', 'd', '-x']);
  assert.equal(a.int('steps', 0), 3);
});

test('a list option needs a value; a single-value option still takes one', () => {
  assert.throws(() => parseArgs(['--data', '--out', 'o'], SPECS), (e: unknown) => e instanceof UsageError && /--data needs a value/.test(e.message));
  assert.throws(() => parseArgs(['--out', 'o', 'p'], SPECS), (e: unknown) => e instanceof UsageError && /unexpected argument "p"/.test(e.message));
  assert.throws(() => parseArgs(['--out', 'o', '--out', 'p'], SPECS), /given more than once/);
});

test('help marks a list option', () => {
  assert.match(formatHelp('train', 'Train.', '--data PATHS...', SPECS), /--data PATHS\.\.\. +files \(one or more\)/);
});
