// LoRA or full fine-tuning: the confirm step's buttons (Start with the limelight.fineTune.method
// setting's method, and a button for the other one) and what each choice starts. Only the
// setting's button says "Start": dialogs order their buttons by platform, so the labels, not
// their places, tell the methods apart. No vscode import, so the branching is tested directly.
import type { FineTuneMethod } from '../settings';

export const RESUME = 'Resume';
export const SHOW_SKIPPED = 'Show Skipped Files';

const NAME: Record<FineTuneMethod, string> = { lora: 'LoRA', full: 'Full' };

function otherMethod(m: FineTuneMethod): FineTuneMethod {
  return m === 'lora' ? 'full' : 'lora';
}

function startLabel(canResume: boolean): string {
  return canResume ? 'Start Over' : 'Start Fine-tuning';
}

function otherLabel(setting: FineTuneMethod): string {
  return `${NAME[otherMethod(setting)]} Fine-tune Instead`;
}

/** The buttons of the confirm step: resume when a run of this base model was cancelled, start (over) with the setting's method, the other method. */
export function confirmActions(setting: FineTuneMethod, canResume: boolean): string[] {
  return [...(canResume ? [RESUME] : []), startLabel(canResume), otherLabel(setting), SHOW_SKIPPED];
}

/** What a button starts: a new run with a method, or the saved run (its own method); null for anything else. */
export function chosenRun(choice: string | undefined, setting: FineTuneMethod, canResume: boolean): { resume: true } | { resume: false; mode: FineTuneMethod } | null {
  if (choice === RESUME && canResume) return { resume: true };
  if (choice === startLabel(canResume)) return { resume: false, mode: setting };
  if (choice === otherLabel(setting)) return { resume: false, mode: otherMethod(setting) };
  return null;
}

/** A line for the confirm step saying what the method trains and where the result goes. */
export function methodNote(setting: FineTuneMethod): string {
  return setting === 'lora'
    ? 'Method: LoRA (limelight.fineTune.method), small adapters trained beside the frozen model. A full fine-tune trains every weight, needs about 4 times the model\'s size in memory, and stores a whole copy of the model.'
    : 'Method: full fine-tune (limelight.fineTune.method), every weight trained; it needs about 4 times the model\'s size in memory and stores a whole copy of the model in Limelight\'s storage for this workspace. LoRA trains small adapters instead.';
}
