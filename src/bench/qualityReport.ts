/** The quality benchmark's report as tables for a terminal (JSON is the report object itself). */
import { SAMPLE_SAMPLING } from '../core/config';
import { describeSampling } from '../core/sampling';
import { formatTable, oneLine } from '../cli/table';
import { UNTUNED_MINIMUM, type QualityReport } from './heldout';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fixed = (x: number | null, digits = 3) => (x === null ? '–' : x.toFixed(digits));
/**
 * A share of `count` events with one standard error, "36.3% ±3.8": whether a ghost was
 * offered, or right, is a coin toss per word start, so a few hundred of them leave a few
 * points of noise, which a reader comparing texts or runs needs to see.
 */
function pctWithError(share: number, count: number | undefined): string {
  if (!count) return pct(share);
  return `${pct(share)} ±${(Math.sqrt((share * (1 - share)) / count) * 100).toFixed(1)}`;
}
/** How far below the KN3 baseline a score is, in percent (negative: above it). */
const below = (score: number | null, kn3: number | null) => (score === null || kn3 === null ? '–' : pct(1 - score / kn3));

function describeSettings(settings: QualityReport['settings'] | undefined): string {
  const changed = Object.entries(settings ?? {});
  return changed.length === 0 ? 'default settings' : `default settings but ${changed.map(([key, value]) => `${key} ${value}`).join(', ')}`;
}

/** The characters each text's untuned typing covered, as "3,000" or "6,915–12,000". */
function typedRange(texts: QualityReport['texts']): string {
  const counts = texts.flatMap((t) => (t.untuned ? [t.untuned.characters] : []));
  if (counts.length === 0) return 'no';
  const [low, high] = [Math.min(...counts), Math.max(...counts)].map((n) => n.toLocaleString('en'));
  return low === high ? low : `${low}–${high}`;
}

/** What the typing columns mean, and why a text has none. */
function typingNote(texts: QualityReport['texts']): string[] {
  const spent = `the held-out part of a text under about ${UNTUNED_MINIMUM.toLocaleString('en')} characters is all spent fitting the suggestion thresholds`;
  if (texts.every((t) => !t.untuned)) return [`keys saved, offered, right: not measured, as ${spent}.`];
  return [
    `keys saved: typing held-out text with the ghost text (${typedRange(texts)} characters after the part the suggestion`,
    `thresholds were fitted on${texts.some((t) => !t.untuned) ? `; none where ${spent}` : ''}); offered / right: at its word starts,`,
    'how often a suggestion showed, and how often its first word was the next word (± one standard error: of the word',
    'starts, and of the ghosts offered there).',
  ];
}

export function formatQualityReport(r: QualityReport): string {
  const out: string[] = [
    `SeqLab quality bench, ${r.date.slice(0, 10)}: ${describeSettings(r.settings)}, ${r.words === null ? 'each text whole' : `about ${r.words.toLocaleString('en')} words per text`}, ` +
      'the last 10% held out; nats per character of the held-out text (unknown words pay for their spelling).',
    formatTable(
      ['text', 'words', 'vocab', 'unk', 'epochs', 'time', 'KN3', 'network', 'below KN3', 'adapting', 'below KN3', 'suggestions', 'below KN3', 'keys saved', 'offered', 'right'],
      r.texts.map(({ corpus, words, summary: s, untuned }) => [
        corpus,
        words.toLocaleString('en'),
        s.vocabSize.toLocaleString('en'),
        pct(s.baselines.unknownShare),
        `${s.bestEpoch}/${s.epochs}`,
        `${Math.round(s.seconds)} s`,
        fixed(s.baselines.kn3NatsPerChar),
        fixed(s.natsPerChar),
        below(s.natsPerChar, s.baselines.kn3NatsPerChar),
        fixed(s.suggestion?.adaptedNetworkNatsPerChar ?? null),
        below(s.suggestion?.adaptedNetworkNatsPerChar ?? null, s.baselines.kn3NatsPerChar),
        fixed(s.suggestion?.natsPerChar ?? null),
        below(s.suggestion?.natsPerChar ?? null, s.baselines.kn3NatsPerChar),
        untuned ? pct(untuned.keystrokeSavings) : '–',
        untuned ? pctWithError(untuned.wordStartOffered, untuned.wordStarts) : '–',
        untuned ? pctWithError(untuned.wordStartFirstWordRight, untuned.wordStarts && Math.round(untuned.wordStarts * untuned.wordStartOffered)) : '–',
      ]),
    ),
    'adapting: the network alone learning from the held-out text as it reads it, a step every few words, as the suggestions',
    'can run it; suggestions: the suggestion model as fitted (it adapts where that scored better on the held-out text).',
    ...typingNote(r.texts),
    ...r.texts.map((t) => `  ${t.corpus}: ${t.description}`),
    ...r.skipped.map((s) => `  skipped ${s}`),
    '',
    `Every size preset on the first ${(r.shortText.bytes / 1000).toFixed(0)} KB (${r.shortText.words.toLocaleString('en')} words) of ${r.shortText.corpus} (validation perplexity):`,
    formatTable(
      ['preset', 'network', 'unigram', 'KN3', 'beats unigram', 'time'],
      r.shortText.presets.map((p) => [
        p.preset,
        fixed(p.valPerplexity, 1),
        fixed(p.unigram, 1),
        fixed(p.kn3, 1),
        p.valPerplexity !== null && p.valPerplexity < p.unigram ? 'yes' : 'NO',
        `${Math.round(p.seconds)} s`,
      ]),
    ),
    '',
    `Sample of the default model trained on ${r.sample.words.toLocaleString('en')} words of ${r.sample.corpus}, written as after each epoch (${describeSampling(SAMPLE_SAMPLING)}), after a held-out prompt:`,
    `  ${oneLine(r.sample.prompt)} ⟶ ${oneLine(r.sample.continuation.trim())}`,
    '',
    `${Math.round(r.seconds)} s in all.`,
  ];
  return out.join('\n');
}
