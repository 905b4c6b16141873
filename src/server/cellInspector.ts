/**
 * `seqlab/inspectCells` in the engine: loads the run, ranks its units on its validation
 * text (once per run, layer and epoch: that pass reads thousands of tokens, the span only
 * hundreds) and inspects the span. It runs on the engine thread like `generate`, yielding
 * between chunks of 64 steps (tens of milliseconds each), so suggestions are answered
 * while a first ranking takes its second or two.
 */
import * as nodePath from 'node:path';
import { inspectCells, rankModelUnits, type RankedUnits } from '../core/inspect/cells';
import { rankingText } from '../core/inspect/rankingText';
import { loadRun } from '../core/store';
import type { CellInspection } from '../protocol/cells';
import type { RunInfo } from '../protocol/lsp';

/** The open document's text and the part of it to inspect. */
export interface InspectedText {
  text: string;
  spanStart: number;
  spanEnd: number;
  /** How to name the document when the ranking falls back to it. */
  name: string;
}

/** Rankings kept: one per run and layer looked at recently. */
const CACHED_RANKINGS = 8;

export class CellInspector {
  private readonly rankings = new Map<string, RankedUnits>();

  async inspect(info: RunInfo, document: InspectedText, layer?: number): Promise<CellInspection> {
    const run = await loadRun(info.dir);
    try {
      // The run's state and epochs say whether its weights changed since the ranking.
      const key = JSON.stringify([info.id, layer ?? null, info.state, info.epochsDone]);
      let ranked = this.rankings.get(key);
      if (!ranked) {
        ranked = await rankModelUnits(run.model, run.tokenizer, await rankingText(run.record, { text: document.text, name: nodePath.basename(document.name) }), layer);
        // A ranking on the document changes with the document; only the run's own text is worth keeping.
        if (ranked.rankedOn.source === 'validation') this.remember(key, ranked);
      }
      return await inspectCells({ runId: info.id, model: run.model, tokenizer: run.tokenizer, ...document, ranked, layer });
    } finally {
      run.model.dispose();
    }
  }

  private remember(key: string, ranked: RankedUnits): void {
    this.rankings.delete(key);
    this.rankings.set(key, ranked);
    if (this.rankings.size > CACHED_RANKINGS) this.rankings.delete(this.rankings.keys().next().value!);
  }
}
