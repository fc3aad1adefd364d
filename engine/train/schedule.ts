// Learning-rate schedule: linear warm-up from lr / warmup to lr, then a cosine decay to minLr
// at the last step (the nanoGPT / llm.c schedule).

export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr: number;
}

/** Learning rate of update `step` (counted from 0). */
export function lrAt(s: LrSchedule, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps - 1);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}
