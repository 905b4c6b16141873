/**
 * Trained models in the engine thread: the active model behind inline suggestions, with
 * one stateful Predictor per open document (each reads only the text added since its last
 * request), and short-lived loads for `generate`. Prediction takes milliseconds, so unlike
 * training it runs on the engine thread.
 *
 * Suggestions come from the run's suggestion model (the network mixed with its KN3 counts
 * and a cache of the document, src/core/mixture.ts) at the threshold the run chose on its
 * held-out text, as `seqlab eval` scores them; a run saved before suggestion.json suggests
 * with the network alone.
 */
import { UserError } from '../core/errors';
import { DEFAULT_SUGGEST_OPTIONS, Predictor, type GenerateOptions, type SuggestOptions, type Suggestion } from '../core/predictor';
import { MAX_NO_REPEAT } from '../core/sampling';
import { loadRun, type LoadedRun } from '../core/store';
import type { SuggestionSettings } from '../protocol/lsp';

/**
 * What a run suggests with under the person's settings: their threshold when they set one,
 * else the one the run chose for the most keystrokes saved, else the engine's default.
 */
export function suggestOptions(settings: Pick<SuggestionSettings, 'maxWords' | 'minConfidence'>, run: Pick<LoadedRun, 'suggestion'>): SuggestOptions {
  // A threshold the person set applies everywhere; the run's own are two, fitted together.
  if (settings.minConfidence !== null) return { maxWords: settings.maxWords, minConfidence: settings.minConfidence };
  const { minConfidence, minNextWordConfidence } = run.suggestion ?? DEFAULT_SUGGEST_OPTIONS;
  return { maxWords: settings.maxWords, minConfidence, minNextWordConfidence };
}

/** Documents whose predictors are kept: more than a person types in at once. */
export const MAX_DOCUMENTS = 8;

export class ActiveModel {
  private loaded: { runId: string; run: LoadedRun } | undefined;
  private loading: { runId: string; promise: Promise<LoadedRun> } | undefined;
  private readonly predictors = new Map<string, Predictor>();

  get runId(): string | undefined {
    return this.loaded?.runId;
  }

  /** Loads a run and makes it the active model; a damaged folder throws the loader's sentence. */
  async use(runId: string, dir: string): Promise<void> {
    const run = await loadRun(dir);
    this.clear();
    this.loaded = { runId, run };
  }

  clear(): void {
    this.predictors.forEach((p) => p.dispose());
    this.predictors.clear();
    this.loaded?.run.model.dispose();
    this.loaded = undefined;
    this.loading = undefined;
  }

  /** Forgets a run's model (it was retrained into or deleted); the next request loads it again. */
  invalidate(runId: string): void {
    if (this.loaded?.runId === runId || this.loading?.runId === runId) this.clear();
  }

  /** The document closed: its predictor's state is no longer needed. */
  closeDocument(uri: string): void {
    this.predictors.get(uri)?.dispose();
    this.predictors.delete(uri);
  }

  /** The loaded run, loading it once if the registry says `runId` is active but it is not loaded yet. */
  async get(runId: string, dir: string): Promise<LoadedRun> {
    if (this.loaded?.runId === runId) return this.loaded.run;
    if (this.loading?.runId !== runId) {
      this.clear();
      const promise = loadRun(dir);
      this.loading = { runId, promise };
      promise.then(
        (run) => {
          if (this.loading?.promise === promise) {
            this.loaded = { runId, run };
            this.loading = undefined;
          } else run.model.dispose(); // the active model changed while this one loaded
        },
        () => {
          if (this.loading?.promise === promise) this.loading = undefined;
        },
      );
    }
    return this.loading!.promise;
  }

  /** Ghost text for a document from the active model (which must be loaded with `get`). */
  suggest(uri: string, textBefore: string, settings: Pick<SuggestionSettings, 'maxWords' | 'minConfidence'>): Suggestion | undefined {
    if (!this.loaded) return undefined;
    const { run } = this.loaded;
    // One per document: the suggestion model's caches remember that document's words, and
    // an adapting network what it learnt from it. Kept in order of use, most recent last.
    const predictor = this.predictors.get(uri) ?? new Predictor(run.model, run.tokenizer, run.suggestion);
    this.predictors.delete(uri);
    this.predictors.set(uri, predictor);
    this.forgetLeastRecentDocuments();
    const suggestion = predictor.suggest(textBefore, suggestOptions(settings, run));
    // A step of adaptation that this keystroke made due is taken after the answer has gone,
    // between keystrokes, unless the document closed or the model changed meanwhile.
    setImmediate(() => this.predictors.get(uri) === predictor && predictor.learnPending());
    return suggestion;
  }

  /**
   * Beyond MAX_DOCUMENTS the documents typed in longest ago lose their predictor (their
   * state, caches and adapted weights, a few MB each); typing there again reads the text anew.
   */
  private forgetLeastRecentDocuments(): void {
    for (const [uri, predictor] of this.predictors) {
      if (this.predictors.size <= MAX_DOCUMENTS) break;
      predictor.dispose();
      this.predictors.delete(uri);
    }
  }

  /**
   * Continues a prompt with any run's network (as the dashboard's samples and `seqlab
   * generate` do: generation shows what the network learned). The active model is reused (with a predictor
   * of its own, so documents' cached state is untouched); others are loaded for this call.
   */
  async generate(runId: string, dir: string, prompt: string, options: GenerateOptions): Promise<string> {
    checkGenerateOptions(options);
    const shared = this.loaded?.runId === runId ? this.loaded.run : undefined;
    const run = shared ?? (await loadRun(dir));
    const predictor = new Predictor(run.model, run.tokenizer);
    try {
      return predictor.generate(prompt, options).text;
    } finally {
      predictor.dispose();
      if (!shared) run.model.dispose();
    }
  }
}

function checkGenerateOptions({ words, temperature, noRepeat = 0 }: GenerateOptions): void {
  if (!Number.isInteger(words) || words < 1 || words > 10000) throw new UserError('The number of words must be a whole number from 1 to 10000.');
  if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 10)) {
    throw new UserError('The temperature must be a number from 0 to 10.');
  }
  if (!Number.isInteger(noRepeat) || noRepeat < 0 || noRepeat > MAX_NO_REPEAT) throw new UserError(`noRepeat (how many tokens in a row are never written twice) must be a whole number from 0 to ${MAX_NO_REPEAT}.`);
}
