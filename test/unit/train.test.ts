import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { runDemo } from '../../src/cli/commands';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/core/checkpoint';
import { trainModel } from '../../src/core/train';
import type { TrainConfig } from '../../src/protocol/types';
import { loomingsSetup, useWasm } from './helpers';

const silent = { stderr: { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream, signal: new AbortController().signal };

/** A model small enough to train in a second or two on a chapter. */
const SMALL: Partial<TrainConfig> = { embedding: 16, units: 24, seqLen: 16, batch: 16, epochs: 2, patience: 0, dropout: 0 };

const setup = (overrides: Partial<TrainConfig> = {}) => loomingsSetup(SMALL, overrides);

describe('training', () => {
  before(useWasm);

  it('fits the four toy sentences with each cell (the demo)', async () => {
    const results = await runDemo(silent);
    assert.deepEqual(results.map((r) => r.cell), ['rnn', 'gru', 'lstm']);
    for (const result of results) {
      assert.ok(result.accuracy >= 0.95, `${result.cell} reached only ${result.accuracy}`);
      assert.match(result.continuation, /^ \S/, `${result.cell} continued with ${JSON.stringify(result.continuation)}`);
    }
  });

  it('lowers the validation loss on real text and reports consistent metrics', async () => {
    const { config, prepared, model } = setup({ epochs: 3 });
    const batches: number[] = [];
    const result = await trainModel(model, prepared.split, config, { onBatch: (p) => batches.push(p.loss) });
    model.dispose();
    assert.equal(result.history.length, 3);
    const [first, , last] = result.history;
    assert.ok(last.valLoss! < first.valLoss!, `val loss ${first.valLoss} → ${last.valLoss}`);
    assert.ok(first.valLoss! < Math.log(prepared.tokenizer.vocabSize), 'no better than uniform after an epoch');
    assert.ok(Math.abs(last.valPerplexity! - Math.exp(last.valLoss!)) < 1e-9);
    assert.ok(result.tokensPerSecond > 0);
    assert.ok(batches.every(Number.isFinite));
    assert.equal(result.best.epoch, result.history.filter((m) => m.best).at(-1)!.epoch);
  });

  it('stops within one batch when cancelled and keeps the best epoch', async () => {
    const { config, prepared, model } = setup({ epochs: 5 });
    const controller = new AbortController();
    let batchesSeen = 0;
    let batchesAfterAbort = 0;
    let batchesPerEpoch = 0;
    const result = await trainModel(
      model,
      prepared.split,
      config,
      {
        onBatch: (p) => {
          batchesSeen++;
          batchesPerEpoch = p.batches;
          if (controller.signal.aborted) batchesAfterAbort++;
          if (p.epoch === 2 && p.batch === 3) controller.abort();
        },
      },
      controller.signal,
    );
    assert.equal(batchesAfterAbort, 0, 'a batch ran after the abort');
    assert.equal(batchesSeen, batchesPerEpoch + 3);
    assert.equal(result.stopReason, 'cancelled');
    assert.equal(result.history.length, 2);
    assert.equal(result.history[1].partial, true);
    // The weights the model holds are those of the best epoch: scoring them again agrees.
    const { scoreBatches } = await import('../../src/core/scoring');
    const { evaluationBatches } = await import('../../src/core/dataset');
    const again = await scoreBatches(model, evaluationBatches(prepared.split.validation, prepared.split.seqLen, config.batch));
    assert.ok(Math.abs(again.loss - result.best.valLoss!) < 1e-5, `${again.loss} vs ${result.best.valLoss}`);
    model.dispose();
  });

  it('does not leak tensors from epoch to epoch', async () => {
    const { config, prepared, model } = setup({ epochs: 4, cell: 'gru', dropout: 0.2 });
    const counts: number[] = [];
    await trainModel(model, prepared.split, config, { onEpoch: () => void counts.push(tf.memory().numTensors) });
    model.dispose();
    // Epoch 1 creates the optimizer's slots and the best-weights copy; after that, flat.
    assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts per epoch: ${counts.join(', ')}`);
  });

  it('repeats exactly with the same seed', async () => {
    const losses = async (seed: number) => {
      const { config, prepared, model } = setup({ seed, epochs: 1 });
      const values: number[] = [];
      await trainModel(model, prepared.split, config, { onBatch: (p) => values.push(p.loss) });
      model.dispose();
      return values;
    };
    const a = await losses(3);
    assert.deepEqual(await losses(3), a);
    assert.notDeepEqual(await losses(4), a);
  });
});

describe('resuming from a checkpoint', () => {
  before(useWasm);

  it('goes on exactly where training stopped: the same weights and history as training straight through', async () => {
    // Every stateful part on: dropout masks, weight averaging, the rate halving, early-stopping bookkeeping.
    const settings: Partial<TrainConfig> = { epochs: 4, dropout: 0.3, inputDropout: 0.2, averageDecay: 0.99, lrDecay: 0.5 };
    const straight = setup(settings);
    const expected = await trainModel(straight.model, straight.prepared.split, straight.config);
    const expectedWeights = straight.model.getWeights().map((w) => w.dataSync().slice());
    straight.model.dispose();

    // The same run, stopped after its second epoch's checkpoint (as a window reload would end it)...
    const first = setup(settings);
    const stop = new AbortController();
    let saved: Uint8Array | undefined;
    await trainModel(first.model, first.prepared.split, first.config, {
      onCheckpoint: (checkpoint) => {
        if (checkpoint.epoch === 2) {
          saved = encodeCheckpoint(checkpoint);
          stop.abort();
        }
      },
    }, stop.signal);
    first.model.dispose();
    assert.ok(saved, 'no checkpoint after epoch 2');

    // ...and resumed in a fresh model from the file's bytes.
    const second = setup(settings);
    // Read back as a file is: a Node Buffer, whose bytes may sit inside a larger shared pool.
    const pooled = Buffer.concat([Buffer.from('padding'), saved]).subarray('padding'.length);
    const resumed = await trainModel(second.model, second.prepared.split, second.config, {}, undefined, decodeCheckpoint(pooled));
    const resumedWeights = second.model.getWeights().map((w) => w.dataSync().slice());
    second.model.dispose();

    assert.deepEqual(resumed.history.map((m) => m.epoch), [1, 2, 3, 4]);
    assert.deepEqual(resumed.history.map((m) => [m.loss, m.valLoss, m.best]), expected.history.map((m) => [m.loss, m.valLoss, m.best]));
    assert.equal(resumed.best.epoch, expected.best.epoch);
    resumedWeights.forEach((values, i) => assert.deepEqual(values, expectedWeights[i], `weight ${i} differs`));
  });

  it('refuses a damaged checkpoint with a sentence', () => {
    assert.throws(() => decodeCheckpoint(new Uint8Array([1, 2, 3, 4, 5, 6])), /checkpoint\.bin is damaged/);
  });
});
