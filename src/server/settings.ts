/**
 * The client's initializationOptions and settings, checked at the boundary: a missing or
 * out-of-range value falls back to its default instead of breaking the engine.
 */
import * as os from 'node:os';
import { UserError } from '../core/errors';
import { DEFAULT_SUGGEST_OPTIONS } from '../core/predictor';
import type { EngineInitOptions, EngineSettings } from '../protocol/lsp';

export const DEFAULT_SETTINGS: EngineSettings = {
  // minConfidence null: each run's own threshold (src/server/models.ts), DEFAULT_SUGGEST_OPTIONS' for a run that chose none.
  suggestions: { enabled: true, maxWords: DEFAULT_SUGGEST_OPTIONS.maxWords, minConfidence: null },
  // One run per core: a run keeps one core busy (TF.js wasm runs single-threaded here).
  maxConcurrentRuns: os.availableParallelism(),
};

export function parseInitOptions(value: unknown): EngineInitOptions {
  const options = (value ?? {}) as Partial<EngineInitOptions>;
  if (typeof options.runsDir !== 'string' || options.runsDir === '') {
    throw new UserError('The SeqLab engine was started without a folder for runs (initializationOptions.runsDir).');
  }
  const nativeFolder = typeof options.nativeFolder === 'string' && options.nativeFolder !== '' ? options.nativeFolder : undefined;
  return { runsDir: options.runsDir, settings: parseSettings(options.settings), nativeFolder };
}

export function parseSettings(value: unknown): EngineSettings {
  const settings = (value ?? {}) as Partial<EngineSettings>;
  const suggestions = (settings.suggestions ?? {}) as Partial<EngineSettings['suggestions']>;
  const defaults = DEFAULT_SETTINGS.suggestions;
  return {
    suggestions: {
      enabled: typeof suggestions.enabled === 'boolean' ? suggestions.enabled : defaults.enabled,
      maxWords: inRange(suggestions.maxWords, 0, 50, true) ? suggestions.maxWords! : defaults.maxWords,
      minConfidence: inRange(suggestions.minConfidence, 0, 1, false) ? suggestions.minConfidence! : defaults.minConfidence,
    },
    maxConcurrentRuns: inRange(settings.maxConcurrentRuns, 1, 1024, true) ? settings.maxConcurrentRuns! : DEFAULT_SETTINGS.maxConcurrentRuns,
  };
}

function inRange(value: unknown, min: number, max: number, integer: boolean): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
}
