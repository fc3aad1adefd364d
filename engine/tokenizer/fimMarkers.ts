// The fill-in-the-middle markers of the code-model families, one row per family. Two readers
// share this one table: the vocabulary lookup (vocabTokenizer: which tokens of a model's
// vocabulary are its FIM markers, when its files do not say) and the remote backend (the
// prompt text an OpenAI-style /completions server is sent, the row chosen from the served
// model's name or named by limelight.remote.fimTemplate).
//   psm  <PRE> prefix <SUF> suffix <MID>, other files before it behind the file separator
//        (the layout llama.cpp's /infill builds; fimTemplates.ts's psmTemplate in token ids)
//   spm  Codestral's [SUFFIX] suffix [PREFIX] prefix: the middle follows with no marker

export interface FimMarkerRow {
  /** The template's name (limelight.remote.fimTemplate, --fim-template). */
  name: string;
  /** Lower-case parts of a served model's name that select the row ("qwen2.5-coder:7b"). */
  models: readonly string[];
  order: 'psm' | 'spm';
  /** The markers as the vocabulary spells them. */
  prefix: string;
  suffix: string;
  middle: string;
  /** Other spellings found in SentencePiece vocabularies (CodeLlama's "▁<PRE>"). */
  pieces?: { prefix: string; suffix: string; middle: string };
  /** The markers as prompt text where the model was trained with spaces around them (CodeLlama). */
  text?: { prefix: string; suffix: string; middle: string };
  /** The file separator of repository-level training (other files' excerpts and the path), or null. */
  fileSep: string | null;
  /** Texts that end an answer besides the markers (end of text). */
  end: readonly string[];
}

export const FIM_MARKER_ROWS: readonly FimMarkerRow[] = [
  { name: 'qwen', models: ['qwen2.5-coder', 'qwen3-coder', 'qwen-coder'], order: 'psm', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', fileSep: '<|file_sep|>', end: ['<|endoftext|>', '<|fim_pad|>', '<|repo_name|>'] },
  { name: 'codegemma', models: ['codegemma'], order: 'psm', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', fileSep: '<|file_separator|>', end: ['<eos>', '<end_of_turn>'] },
  { name: 'santacoder', models: ['santacoder'], order: 'psm', prefix: '<fim-prefix>', suffix: '<fim-suffix>', middle: '<fim-middle>', fileSep: null, end: ['<|endoftext|>'] },
  { name: 'starcoder', models: ['starcoder', 'granite', 'stable-code', 'refact'], order: 'psm', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', fileSep: '<file_sep>', end: ['<|endoftext|>'] },
  { name: 'deepseek', models: ['deepseek-coder', 'deepseek'], order: 'psm', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', fileSep: null, end: ['<｜end▁of▁sentence｜>', '<|EOT|>'] },
  {
    name: 'codellama',
    models: ['codellama', 'code-llama', 'code_llama'],
    order: 'psm',
    prefix: '<PRE>',
    suffix: '<SUF>',
    middle: '<MID>',
    pieces: { prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>' },
    text: { prefix: '<PRE> ', suffix: ' <SUF>', middle: ' <MID>' },
    fileSep: null,
    end: ['<EOT>', '</s>'],
  },
  { name: 'codegeex', models: ['codegeex'], order: 'psm', prefix: '<|code_prefix|>', suffix: '<|code_suffix|>', middle: '<|code_middle|>', fileSep: null, end: ['<|endoftext|>', '<|user|>'] },
  // llama.cpp's fallback spellings (llama-vocab.cpp); no served model is known by them.
  { name: 'prefix-suffix-middle', models: [], order: 'psm', prefix: '<|prefix|>', suffix: '<|suffix|>', middle: '<|middle|>', fileSep: null, end: ['<|endoftext|>'] },
  { name: 'codestral', models: ['codestral', 'mistral', 'devstral'], order: 'spm', prefix: '[PREFIX]', suffix: '[SUFFIX]', middle: '[MIDDLE]', fileSep: null, end: ['</s>'] },
];

/** The template names, for settings and --help. */
export const FIM_TEMPLATE_NAMES: readonly string[] = FIM_MARKER_ROWS.map((r) => r.name);

/**
 * One role's spellings to look for in a vocabulary, in table order. Only prefix-first rows: the
 * token-id template (psmTemplate) builds that order alone, so a suffix-first family's markers
 * found in a vocabulary would build a prompt the model was not trained on.
 */
export function vocabularyMarkers(role: 'prefix' | 'suffix' | 'middle'): string[] {
  const out = new Set<string>();
  for (const r of FIM_MARKER_ROWS) {
    if (r.order !== 'psm') continue;
    out.add(r[role]);
    if (r.pieces) out.add(r.pieces[role]);
  }
  return [...out];
}

/** The row a served model's name selects (the first whose name part it contains), or null. */
export function fimRowForModel(model: string): FimMarkerRow | null {
  const m = model.toLowerCase();
  return FIM_MARKER_ROWS.find((r) => r.models.some((part) => m.includes(part))) ?? null;
}

export function fimRowByName(name: string): FimMarkerRow | null {
  return FIM_MARKER_ROWS.find((r) => r.name === name) ?? null;
}

/** Everything the FIM prompt text holds: the file, its prefix and suffix, other files' excerpts. */
export interface FimTextParts {
  path: string;
  prefix: string;
  suffix: string;
  context?: ReadonlyArray<{ path: string; text: string }>;
}

/**
 * The prompt as text, for a server that tokenizes it (special-token text becomes the marker
 * tokens there, as llama.cpp, vLLM and TGI parse it). The same layout psmTemplate builds in ids;
 * other files and the path only where the family has a file separator.
 */
export function fimPromptText(row: FimMarkerRow, parts: FimTextParts): string {
  const m = row.text ?? row;
  if (row.order === 'spm') return `${row.suffix}${parts.suffix}${row.prefix}${parts.prefix}`;
  let head = '';
  if (row.fileSep !== null) {
    for (const c of parts.context ?? []) head += `${row.fileSep}${c.path}\n${c.text}${c.text.endsWith('\n') ? '' : '\n'}`;
    head += `${row.fileSep}${parts.path}\n`;
  }
  return `${head}${m.prefix}${parts.prefix}${m.suffix}${parts.suffix}${m.middle}`;
}

/** Texts that end the middle: end of text, the markers and the file separator. */
export function fimStopTexts(row: FimMarkerRow): string[] {
  return [...new Set([...row.end, ...(row.fileSep !== null ? [row.fileSep] : []), row.prefix, row.suffix, row.middle])];
}
