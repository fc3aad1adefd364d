// LoRA or full fine-tuning: the confirm step's buttons (the limelight.fineTune.method setting
// first, the other method beside it) and what each choice starts. No vscode import, so the
// branching is tested directly.
import type { FineTuneMethod } from '../settings';

export const RESUME = 'Resume';
export const SHOW_SKIPPED = 'Show Skipped Files';

const NAME: Record<FineTuneMethod, string> = { lora: 'LoRA', full: 'Full' };

function startLabel(method: FineTuneMethod, over: boolean): string {
  return `${over ? 'Start Over' : 'Start Fine-tuning'} (${NAME[method]})`;
}

/** The buttons of the confirm step: resume when a run of this base model was cancelled, then the two methods, the setting's first. */
export function confirmActions(setting: FineTuneMethod, canResume: boolean): string[] {
  const other: FineTuneMethod = setting === 'lora' ? 'full' : 'lora';
  return [...(canResume ? [RESUME] : []), startLabel(setting, canResume), startLabel(other, canResume), SHOW_SKIPPED];
}

/** What a button starts: a new run with a method, or the saved run (its own method); null for anything else. */
export function chosenRun(choice: string | undefined, canResume: boolean): { resume: true } | { resume: false; mode: FineTuneMethod } | null {
  if (choice === RESUME && canResume) return { resume: true };
  for (const m of ['lora', 'full'] as const) if (choice === startLabel(m, canResume)) return { resume: false, mode: m };
  return null;
}

/** A line for the confirm step saying what the method trains and where the result goes. */
export function methodNote(setting: FineTuneMethod): string {
  return setting === 'lora'
    ? 'LoRA (limelight.fineTune.method) trains small adapters beside the frozen model; "Full" trains every weight, needs about 4 times the model\'s size in memory, and stores a whole copy of the model.'
    : 'Full fine-tuning (limelight.fineTune.method) trains every weight, needs about 4 times the model\'s size in memory, and stores a whole copy of the model in Limelight\'s storage for this workspace; "LoRA" trains small adapters instead.';
}
