/**
 * `seqlab inspect surprisal --model DIR FILE [--out DIR] [--json]`: the surprisal lens for
 * scripts. Scores FILE with the run's model as the editor's lens does (one batched pass,
 * evaluation's lanes, src/core/inspect/surprisal.ts) and writes surprisal.json (every
 * token's nats, rank and the model's five guesses) and surprisal.svg (the words shaded in
 * the lens's buckets, with a legend).
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { computeSurprisal, type SurprisalMap } from '../core/inspect/surprisal';
import { loadSpelling } from '../core/store';
import {
  surprisalBucket,
  surprisalBucketLabel,
  SURPRISAL_BUCKETS,
  SURPRISAL_LIGHT_COLOURS,
  totalTokenNats,
} from '../protocol/surprisal';
import type { ParsedArgs } from './args';
import type { CommandIO } from './commands';
import { withRunOnFile } from './inspectRun';
import { escapeXml, MARGIN, shadedWords } from './wordsSvg';

export async function inspectSurprisalView(args: ParsedArgs, io: CommandIO): Promise<void> {
  const usage = {
    noModel: '--model DIR names the run folder whose surprisal to show.',
    notOneFile: 'Name one text file to score, e.g. seqlab inspect surprisal --model runs/RUN chapter.txt.',
  };
  await withRunOnFile(args, usage, async ({ dir, run, file, text }) => {
    const started = performance.now();
    const map = await computeSurprisal(run.model, run.tokenizer, text, {
      seqLen: run.record.config.seqLen,
      batch: run.record.config.batch,
      spelling: await loadSpelling(dir),
    });
    const seconds = (performance.now() - started) / 1000;
    const out = typeof args.flags.out === 'string' ? args.flags.out : '.';
    await fs.mkdir(out, { recursive: true });
    const files = [nodePath.join(out, 'surprisal.json'), nodePath.join(out, 'surprisal.svg')];
    const meanNats = map.predicted > 0 ? map.totalNats / map.predicted : null;
    const report = {
      run: dir,
      file,
      tokens: map.length,
      predicted: map.predicted,
      totalNats: map.totalNats,
      meanNats,
      seconds,
      perToken: map.tokens().map((token, i) => ({ token: map.spans[i].token, ...token, guesses: map.guesses(i) })),
    };
    await fs.writeFile(files[0], JSON.stringify(report) + '\n');
    await fs.writeFile(files[1], surprisalSvg(map, `${nodePath.basename(file)} under ${nodePath.basename(nodePath.resolve(dir))}`));
    if (args.flags.json) {
      io.stdout.write(JSON.stringify({ files, tokens: map.length, predicted: map.predicted, totalNats: map.totalNats, meanNats, seconds }) + '\n');
      return;
    }
    io.stdout.write(
      `${map.predicted.toLocaleString('en')} tokens scored in ${seconds.toFixed(1)} s: ${meanNats?.toFixed(2) ?? '–'} nats a token on average.\n` +
        `Wrote ${files.join(' and ')}.\n`,
    );
  });
}

/** The text's words shaded by surprisal in the lens's buckets (light-theme colours), with a legend. */
export function surprisalSvg(map: SurprisalMap, title: string): string {
  const words = map.tokens().map((token, i) => {
    const nats = totalTokenNats(token);
    const word = map.spans[i];
    const about =
      nats === null
        ? 'read, not predicted'
        : `${nats.toFixed(2)} nats${token.unknown ? ' (unknown word, spelling included)' : `, rank ${token.rank}`}; guesses: ${map
            .guesses(i)
            .map((g) => `${g.token} ${(g.probability * 100).toFixed(1)}%`)
            .join(', ')}`;
    return { ...word, fill: nats === null ? undefined : SURPRISAL_LIGHT_COLOURS[surprisalBucket(nats)], title: `${word.token}: ${about}` };
  });
  const body = shadedWords(words, MARGIN + 64);
  const legendY = body.bottom + 30;
  const legend = Array.from({ length: SURPRISAL_BUCKETS }, (_, b) => {
    const x = MARGIN + b * 110;
    return `<rect x="${x}" y="${legendY}" width="24" height="14" rx="2" fill="${SURPRISAL_LIGHT_COLOURS[b]}" stroke="#999" stroke-width="0.5"/><text x="${x + 30}" y="${legendY + 12}" font-size="12" fill="#333">${escapeXml(surprisalBucketLabel(b))}</text>`;
  }).join('\n');
  const height = legendY + 40;
  const mean = map.predicted > 0 ? `${(map.totalNats / map.predicted).toFixed(2)} nats a token on average over ${map.predicted.toLocaleString('en')}` : 'no token predicted';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="${height}" viewBox="0 0 960 ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="13">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${MARGIN}" y="${MARGIN + 14}" font-size="15" font-weight="bold" fill="#222">Surprisal: ${escapeXml(title)}</text>
<text x="${MARGIN}" y="${MARGIN + 32}" font-size="12" fill="#555">how surprised the model is by each word, −ln p in nats; ${escapeXml(mean)}</text>
<g fill="#111">
${body.svg}
</g>
<text x="${MARGIN}" y="${legendY - 8}" font-size="12" fill="#555">nats: low to high</text>
${legend}
</svg>
`;
}
