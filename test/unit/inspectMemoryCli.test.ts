/**
 * `seqlab inspect memory`, run as a person runs it (the built CLI): two trained runs in,
 * memory.json with both curves per run and memory.svg with both panels out; a held-out
 * text too short to measure is one sentence.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { MemoryReport } from '../../src/protocol/memory';
import { makeTempDir, mobyDickChapter } from './helpers';

const CLI = path.resolve(__dirname, '../../bin/seqlab.js');

function seqlab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('seqlab inspect memory', () => {
  let cwd: string;
  const runs: string[] = [];
  before(async () => {
    cwd = await makeTempDir('memory');
    await fs.writeFile(path.join(cwd, 'chapter.txt'), mobyDickChapter(1));
    await fs.writeFile(path.join(cwd, 'short.txt'), 'Call me Ishmael. Some years ago.');
    for (const cell of ['rnn', 'lstm']) {
      const result = seqlab(['train', 'chapter.txt', '--cell', cell, '--epochs', '1', '--units', '16', '--embedding', '16', '--json'], cwd);
      assert.equal(result.code, 0, result.stderr);
      runs.push(JSON.parse(result.stdout.trim().split('\n').at(-1)!).modelDir);
    }
  });
  after(() => fs.rm(cwd, { recursive: true, force: true }));

  it('writes both curves of every run to memory.json and draws them in memory.svg', async () => {
    const result = seqlab(['inspect', 'memory', ...runs, '--out', 'figures', '--json'], cwd);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(await fs.readFile(path.join(cwd, 'figures', 'memory.json'), 'utf8')) as MemoryReport;
    assert.deepEqual(report.runs.map((r) => [r.label, r.cell]), [['RNN', 'rnn'], ['LSTM', 'lstm']]);
    assert.match(report.method.gradient, /geometric mean/);
    for (const run of report.runs) {
      assert.equal(run.text, "the run's validation text");
      assert.equal(run.gradient.geometricMean.length, 64);
      assert.ok(run.gradient.geometricMean.every((v) => v > 0 && Number.isFinite(v)));
      assert.deepEqual(run.context.contexts, [1, 2, 4, 8, 16, 32, 64]);
      assert.ok(run.context.loss.every((v) => v > 0 && v < 20));
    }
    const svg = await fs.readFile(path.join(cwd, 'figures', 'memory.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const words of ['Gradient through time', 'Held-out loss by tokens of context', 'k (steps back)', 'tokens of context', '>RNN<', '>LSTM<']) {
      assert.ok(svg.includes(words), `the chart lacks "${words}"`);
    }
    // Per run: the gradient's line and the loss curve's.
    assert.equal(svg.match(/<polyline /g)?.length, 4);
  });

  it('says in one sentence when the held-out text is too short', () => {
    const result = seqlab(['inspect', 'memory', runs[0], '--text', 'short.txt'], cwd);
    assert.equal(result.code, 1);
    assert.match(result.stderr.trim(), /^seqlab: The held-out text has \d+ tokens; memory through time needs at least 98\.$/);
  });
});
