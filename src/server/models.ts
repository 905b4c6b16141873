/**
 * Trained models in the engine thread: the active model behind inline suggestions, with
 * one stateful Predictor per open document (each reads only the text added since its last
 * request), and short-lived loads for `generate`. Prediction takes milliseconds, so unlike
 * training it runs on the engine thread.
 */
import { UserError } from '../core/errors';
import { Predictor, type GenerateOptions, type Suggestion } from '../core/predictor';
import { loadRun, type LoadedRun } from '../core/store';

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
  suggest(uri: string, textBefore: string, options: { maxWords: number; minConfidence: number }): Suggestion | undefined {
    if (!this.loaded) return undefined;
    let predictor = this.predictors.get(uri);
    if (!predictor) {
      predictor = new Predictor(this.loaded.run.model, this.loaded.run.tokenizer);
      this.predictors.set(uri, predictor);
    }
    return predictor.suggest(textBefore, options);
  }

  /**
   * Continues a prompt with any run's model. The active model is reused (with a predictor
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

function checkGenerateOptions({ words, temperature }: GenerateOptions): void {
  if (!Number.isInteger(words) || words < 1 || words > 10000) throw new UserError('The number of words must be a whole number from 1 to 10000.');
  if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 10)) {
    throw new UserError('The temperature must be a number from 0 to 10.');
  }
}
