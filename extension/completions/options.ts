// The completion session's options from Limelight's settings: every limelight.completions.*
// knob, applied when a session is made and again on each settings change (no restart).
import type { CompletionOptions } from '../../engine/complete/session';
import type { LimelightSettings } from '../settings';

export function completionOptions(s: LimelightSettings, modelContext: number): Partial<CompletionOptions> {
  const c = s.completions;
  return {
    prefixTokens: c.prefixTokens,
    suffixTokens: c.suffixTokens,
    contextTokens: c.contextChunksTokens,
    maxNewTokens: c.maxNewTokens,
    singleLineMaxTokens: c.singleLineMaxTokens,
    debounceMs: c.debounceMs,
    adaptiveDebounce: c.adaptiveDebounce,
    multiLine: c.multiLine,
    maxFollowingChars: c.maxFollowingChars,
    singleLineMaxMs: c.singleLineMaxMs,
    multiLineMaxMs: c.multiLineMaxMs,
    contextLength: Math.min(s.maxContextTokens, modelContext),
  };
}
