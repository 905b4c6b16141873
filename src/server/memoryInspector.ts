/**
 * `seqlab/inspectMemory` in the engine: memory through time (core/inspect/memory.ts) of a
 * finished run on its own validation text. A run's weights never change once it has
 * finished, so each run is measured once and its curves kept. The measurement runs on the
 * engine thread, batch by batch with a turn of the event loop between batches (tens to a
 * few hundred milliseconds each), so suggestions are answered while a run takes its
 * seconds; runs asked for together are measured one after another.
 */
import * as nodePath from 'node:path';
import { UserError } from '../core/errors';
import { measureMemory } from '../core/inspect/memory';
import { modelParts } from '../core/model';
import { validationText } from '../core/run';
import { loadRun } from '../core/store';
import type { RunInfo } from '../protocol/lsp';
import type { MeasuredMemory } from '../protocol/memory';

/** Runs whose curves are kept: a few hundred numbers each. */
const CACHED_RUNS = 32;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MemoryInspector {
  private readonly measured = new Map<string, Promise<MeasuredMemory>>();
  /** The measurement under way, so the next waits for it: two at once would only take turns batch by batch. */
  private queue: Promise<unknown> = Promise.resolve();

  measure(info: RunInfo): Promise<MeasuredMemory> {
    if (info.state === 'queued' || info.state === 'training') {
      throw new UserError(`The run ${info.id} is still ${info.state}; its memory through time can be measured once it has finished.`);
    }
    // Resuming a stopped run changes its weights and its epochs: the key says which weights were measured.
    const key = `${info.id}@${info.epochsDone}`;
    let result = this.measured.get(key);
    if (!result) {
      result = this.queue.then(() => measureRun(info));
      this.queue = result.catch(() => undefined);
      this.measured.set(key, result);
      // A failure (text gone, say) is not kept: the person may put the file back and ask again.
      result.catch(() => this.measured.get(key) === result && this.measured.delete(key));
      if (this.measured.size > CACHED_RUNS) this.measured.delete(this.measured.keys().next().value!);
    }
    return result;
  }
}

async function measureRun(info: RunInfo): Promise<MeasuredMemory> {
  const run = await loadRun(info.dir);
  try {
    const text = await validationText(run.record, 'memory through time measures on held-out text the run can read again');
    const curves = await measureMemory(run.model, run.tokenizer.encode(text), { between: turn });
    const parts = modelParts(run.model);
    const sources = run.record.corpus.sources.map((file) => nodePath.basename(file)).join(', ');
    return {
      run: info.id,
      cell: parts.cell,
      units: parts.units,
      layers: parts.recurrent.length,
      text: `the run's validation text (the last ${Math.round(run.record.config.valSplit * 100)}% of ${sources})`,
      ...curves,
    };
  } finally {
    run.model.dispose();
  }
}
