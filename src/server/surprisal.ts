/**
 * The surprisal lens in the engine: scores an open document with the active model
 * (src/core/inspect/surprisal.ts) and keeps the result per document version, so the
 * extension's hovers ask for one position's guesses without scoring anything again.
 *
 * A long document is scored batch by batch with a turn of the event loop between
 * batches, so suggestions are still answered while it runs (TF.js ops are synchronous);
 * an edit or another active model makes the running computation stop at the next batch.
 */
import { UserError } from '../core/errors';
import { computeSurprisal, type SurprisalMap } from '../core/inspect/surprisal';
import type { SpellingModel } from '../core/spelling';
import { loadSpelling, type LoadedRun } from '../core/store';
import type { SurprisalGuessesResult, SurprisalResult } from '../protocol/surprisal';

/** What the lens reads of an open document (a TextDocument of the text sync). */
export interface LensDocument {
  uri: string;
  version: number;
  getText(): string;
}

export interface LensHost {
  /** The open document at `uri`, as the text sync has it now. */
  document(uri: string): LensDocument | undefined;
  /** The id of the active model, or null. */
  activeRunId(): string | null;
  /** The active model, loaded. */
  activeRun(runId: string): Promise<LoadedRun>;
}

/** Thrown between batches when the document or the model changed: the result would be for text no longer there. */
export class StaleSurprisal extends UserError {
  constructor() {
    super('The document or the model changed while its surprisal was computed; ask again for the new text.');
  }
}

interface Entry {
  version: number;
  runId: string;
  result: Promise<{ map: SurprisalMap; response: SurprisalResult }>;
}

export class SurprisalLens {
  private readonly entries = new Map<string, Entry>();
  /** Spelling models by run id: loaded once, read for every unknown word. */
  private readonly spellings = new Map<string, Promise<SpellingModel | undefined>>();

  constructor(private readonly host: LensHost) {}

  /** Every token's surprisal in the document as it is now; from the cache when its version was scored. */
  async surprisal(uri: unknown): Promise<SurprisalResult> {
    const document = this.openDocument(uri);
    const runId = this.host.activeRunId();
    if (runId === null) throw new UserError('No model is chosen; run "SeqLab: Use Model for Suggestions" to choose the model whose surprisal to show.');
    const cached = this.entries.get(document.uri);
    if (cached && cached.version === document.version && cached.runId === runId) return (await cached.result).response;
    const entry: Entry = { version: document.version, runId, result: this.compute(document, runId) };
    this.entries.set(document.uri, entry);
    entry.result.catch(() => this.entries.get(document.uri) === entry && this.entries.delete(document.uri));
    return (await entry.result).response;
  }

  /** The model's guesses at one token of a version the lens scored (the hover asks on demand: they are most of the bytes). */
  async guesses(params: { uri: unknown; version: unknown; index: unknown }): Promise<SurprisalGuessesResult> {
    const document = this.openDocument(params?.uri);
    const entry = this.entries.get(document.uri);
    if (!entry || entry.version !== params.version) throw new StaleSurprisal();
    const { map } = await entry.result;
    const index = params.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= map.length) {
      throw new UserError(`There is no token ${JSON.stringify(index)} in this document's surprisal; it has ${map.length}.`);
    }
    return { guesses: map.guesses(index), unknownProbability: index === 0 ? 0 : map.unknownProbabilities[index] };
  }

  closeDocument(uri: string): void {
    this.entries.delete(uri);
  }

  private openDocument(uri: unknown): LensDocument {
    if (typeof uri !== 'string') throw new UserError('Name the document whose surprisal to show.');
    const document = this.host.document(uri);
    if (!document) throw new UserError(`"${uri}" is not open in the editor, so there is no text to score.`);
    return document;
  }

  private async compute(document: LensDocument, runId: string): Promise<{ map: SurprisalMap; response: SurprisalResult }> {
    const run = await this.host.activeRun(runId);
    const spelling = await this.spelling(runId, run.dir);
    const started = performance.now();
    const stillCurrent = () => this.host.document(document.uri)?.version === document.version && this.host.activeRunId() === runId;
    const map = await computeSurprisal(run.model, run.tokenizer, document.getText(), {
      seqLen: run.record.config.seqLen,
      batch: run.record.config.batch,
      spelling,
      between: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        if (!stillCurrent()) throw new StaleSurprisal();
      },
    });
    const response: SurprisalResult = {
      uri: document.uri,
      version: document.version,
      runId,
      tokens: map.tokens(),
      totalNats: map.totalNats,
      predicted: map.predicted,
      milliseconds: performance.now() - started,
    };
    return { map, response };
  }

  private spelling(runId: string, dir: string): Promise<SpellingModel | undefined> {
    let spelling = this.spellings.get(runId);
    if (!spelling) {
      // A run without a readable spelling.json still shows the network's nats.
      spelling = loadSpelling(dir).catch(() => undefined);
      this.spellings.set(runId, spelling);
    }
    return spelling;
  }
}
