/**
 * Typed access to the `seqlab.*` settings. A bad value (a typo in settings.json) never
 * breaks a command: it gets one warning sentence naming the setting, and the default is
 * used instead. Training settings are checked by the same rules the engine and the CLI
 * apply (src/core/config.ts is plain data and validation, no TensorFlow.js).
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from '../core/config';
import type { EngineSettings } from '../protocol/lsp';
import type { TrainConfig } from '../protocol/types';
import type { Log } from './log';

const SECTION = 'seqlab';

/** Training settings that map one-to-one onto TrainConfig fields, by setting name. */
const TRAIN_SETTINGS = {
  'model.cell': 'cell',
  'model.units': 'units',
  'model.layers': 'layers',
  'model.embedding': 'embedding',
  'model.seqLen': 'seqLen',
  'model.epochs': 'epochs',
  'model.batch': 'batch',
  'model.learningRate': 'learningRate',
  backend: 'backend',
  'training.threads': 'threads',
} as const satisfies Record<string, keyof TrainConfig>;

export interface SuggestionConfig {
  enabled: boolean;
  maxWords: number;
  /** null (the default): each run's own threshold, chosen on its held-out text. */
  minConfidence: number | null;
  /** Language ids; empty = every language. */
  languages: string[];
  /** Globs; empty = every file. */
  filePatterns: string[];
}

const isWholeNumber = (min: number, max: number) => (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');

export class Config implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when any `seqlab.*` setting changes. */
  readonly onDidChange = this.changed.event;
  /** Bad values already warned about, so a setting is not nagged about on every read. */
  private readonly warned = new Set<string>();
  private readonly subscription: vscode.Disposable;
  /** Read on every keystroke by the inline completion middleware, so kept until a change. */
  private suggestionCache: SuggestionConfig | undefined;

  constructor(private readonly log: Log) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      this.suggestionCache = undefined;
      this.changed.fire();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  /** The training configuration from the settings (for `scope`, a document), every value valid. */
  trainConfig(scope?: vscode.Uri): TrainConfig {
    const settings = vscode.workspace.getConfiguration(SECTION, scope);
    const overrides: Partial<TrainConfig> = {};
    for (const [setting, key] of Object.entries(TRAIN_SETTINGS)) {
      const value = settings.get<unknown>(setting);
      try {
        // Checked one at a time so that one bad value does not discard the good ones.
        resolveTrainConfig({ [key]: value } as Partial<TrainConfig>, () => `${SECTION}.${setting}`);
        (overrides as Record<string, unknown>)[key] = value;
      } catch (error) {
        const sentence = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
        this.warnOnce(setting, value, `${sentence}; SeqLab uses ${JSON.stringify(DEFAULT_TRAIN_CONFIG[key])} instead.`);
      }
    }
    return resolveTrainConfig(overrides);
  }

  get suggestions(): SuggestionConfig {
    this.suggestionCache ??= this.readSuggestions();
    return this.suggestionCache;
  }

  private readSuggestions(): SuggestionConfig {
    return {
      enabled: this.read('suggestions.enabled', (v) => typeof v === 'boolean', 'true or false'),
      maxWords: this.read('suggestions.maxWords', isWholeNumber(0, 20), 'a whole number from 0 to 20'),
      minConfidence: this.read(
        'suggestions.minConfidence',
        (v) => v === null || (typeof v === 'number' && v >= 0 && v <= 1),
        'null (the threshold each model chose) or a number from 0 to 1',
      ),
      languages: this.read('suggestions.languages', isStrings, 'a list of language ids'),
      filePatterns: this.read('suggestions.filePatterns', isStrings, 'a list of glob patterns'),
    };
  }

  /** How many runs may train at once; the setting's 0 means one per core. */
  get maxConcurrentRuns(): number {
    const value = this.read<number>('training.maxConcurrentRuns', isWholeNumber(0, 256), 'a whole number from 0 to 256');
    return value > 0 ? value : Math.max(1, os.availableParallelism());
  }

  /** The folder the person set for native TensorFlow (seqlab.nativeTensorflow.folder); undefined: the default. */
  get nativeFolder(): string | undefined {
    return this.read<string>('nativeTensorflow.folder', (v) => typeof v === 'string', 'a folder path') || undefined;
  }

  /** What the engine is told at start and after every change. */
  engineSettings(): EngineSettings {
    const { enabled, maxWords, minConfidence } = this.suggestions;
    return { suggestions: { enabled, maxWords, minConfidence }, maxConcurrentRuns: this.maxConcurrentRuns };
  }

  /** Turns suggestions on or off where the person set them (workspace or user settings). */
  async setSuggestionsEnabled(enabled: boolean): Promise<void> {
    const settings = vscode.workspace.getConfiguration(SECTION);
    const inspected = settings.inspect('suggestions.enabled');
    const target =
      inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await settings.update('suggestions.enabled', enabled, target);
  }

  /** A setting's value when `isValid`, otherwise its default from package.json (and one warning). */
  private read<T>(setting: string, isValid: (value: unknown) => boolean, expected: string): T {
    const settings = vscode.workspace.getConfiguration(SECTION);
    const value = settings.get<unknown>(setting);
    if (isValid(value)) return value as T;
    const fallback = settings.inspect<T>(setting)?.defaultValue as T;
    this.warnOnce(
      setting,
      value,
      `${SECTION}.${setting} must be ${expected}, not ${JSON.stringify(value)}; SeqLab uses ${JSON.stringify(fallback)} instead.`,
    );
    return fallback;
  }

  private warnOnce(setting: string, value: unknown, sentence: string): void {
    const key = `${setting}=${JSON.stringify(value)}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(sentence);
    void vscode.window.showWarningMessage(sentence);
  }
}
