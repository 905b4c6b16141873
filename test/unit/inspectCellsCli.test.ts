/**
 * `seqlab inspect cells`: a trained run and a file in, cells.json (the ranking and the
 * chosen unit's value at each token) and cells.svg (its heat map) out; a gate the cell
 * lacks or a unit it does not have is one sentence.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseCommandLine } from '../../src/cli/args';
import type { CommandIO } from '../../src/cli/commands';
import { inspectCommand } from '../../src/cli/inspect';
import { resolveTrainConfig } from '../../src/core/config';
import { isUserError } from '../../src/core/errors';
import { trainRun } from '../../src/core/run';
import { NEWLINE_TOKEN } from '../../src/core/tokenizer';
import { CELL_SIGNALS, TEXT_FEATURES } from '../../src/protocol/cells';
import { makeTempDir, mobyDickChapter, useWasm } from './helpers';

/** Runs `seqlab ARGS` in this process and returns what it printed on stdout. */
async function seqlab(argv: string[]): Promise<string> {
  let stdout = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    signal: new AbortController().signal,
  } as unknown as CommandIO;
  await inspectCommand(parseCommandLine(argv), io);
  return stdout;
}

describe('seqlab inspect cells', () => {
  let root: string;
  let run: string;
  let passage: string;
  before(async () => {
    await useWasm();
    root = await makeTempDir('cells-cli');
    const chapter = path.join(root, 'chapter.txt');
    await fs.writeFile(chapter, mobyDickChapter(1));
    passage = path.join(root, 'passage.txt');
    await fs.writeFile(passage, mobyDickChapter(2).slice(0, 1500));
    const config = resolveTrainConfig({ cell: 'lstm', epochs: 1, units: 16, embedding: 16, backend: 'wasm' });
    run = (await trainRun({ text: mobyDickChapter(1), sources: [chapter], name: 'chapter.txt', config, runsDir: root, runName: 'lstm' })).modelDir;
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('writes the ranking and the chosen gate of the chosen unit at every token, and its heat map', async () => {
    const out = path.join(root, 'figures');
    const printed = JSON.parse(await seqlab(['inspect', 'cells', '--model', run, passage, '--gate', 'forget', '--unit', '3', '--out', out, '--json', '--backend', 'wasm']));
    assert.deepEqual(printed.files, [path.join(out, 'cells.json'), path.join(out, 'cells.svg')]);
    const report = JSON.parse(await fs.readFile(path.join(out, 'cells.json'), 'utf8'));
    assert.equal(report.cell, 'lstm');
    assert.equal(report.signal, 'forget');
    assert.equal(report.unit, 3);
    // Ranked on the run's own held-out text: its file is there, unchanged.
    assert.equal(report.rankedOn.source, 'validation');
    assert.ok(report.rankedOn.tokens > 100);
    assert.deepEqual(Object.keys(report.ranking), [...CELL_SIGNALS.lstm]);
    for (const features of Object.values(report.ranking) as Record<string, { unit: number; r: number }[]>[]) {
      assert.deepEqual(Object.keys(features), [...TEXT_FEATURES]);
      for (const list of Object.values(features)) assert.ok(list.every((c, i) => Math.abs(c.r) <= 1 && (i === 0 || Math.abs(c.r) <= Math.abs(list[i - 1].r))));
    }
    const text = await fs.readFile(passage, 'utf8');
    assert.ok(report.tokens.length > 200);
    // A forget gate is a sigmoid: every value lies in (0, 1).
    assert.ok(report.tokens.every((t: { value: number }) => t.value > 0 && t.value < 1));
    const words = report.tokens.filter((t: { token: string }) => t.token !== NEWLINE_TOKEN);
    assert.ok(words.every((t: { token: string }) => text.includes(t.token)));

    const svg = await fs.readFile(path.join(out, 'cells.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /unit 3, forget gate/);
    // One shaded background per word, coloured by its value.
    assert.equal(svg.match(/<rect [^>]*fill="rgba\(/g)?.length, words.length);
  });

  it('says in one sentence which gates the cell has and which units', async () => {
    const fails = (argv: string[]) => seqlab(['inspect', 'cells', '--model', run, passage, '--backend', 'wasm', ...argv]).then(
      () => assert.fail('expected a UserError'),
      (error: unknown) => (isUserError(error) ? error.message : assert.fail(String(error))),
    );
    assert.equal(await fails(['--gate', 'update']), '--gate for this LSTM is one of h, c, input, forget, output, candidate, not "update".');
    assert.equal(await fails(['--unit', '16']), '--unit must be a whole number from 0 to 15 (the layer has 16 units).');
    assert.match(await seqlab(['inspect', 'cells', '--model', run, passage, '--out', path.join(root, 'plain'), '--backend', 'wasm']), /^Units of h that follow each feature \(Pearson r over \d[\d,]* tokens of the run's validation text/);
  });
});
