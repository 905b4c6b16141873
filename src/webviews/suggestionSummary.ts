/**
 * What suggests for each run of a text, under its table in the Models view: the shares of
 * the suggestion model (network, Kneser-Ney trigram, caches of the document) and its scores
 * on the validation text beside the network's alone. Short lines that wrap, so they read
 * at the side bar's 300 px.
 */
import { formatNumber, formatPercent, mixtureShares } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';
import type { RunLabels } from '../protocol/webview';
import type { SuggestionReport } from '../protocol/types';
import { h } from './dom';

const EXPLANATION =
  'Suggestions mix the network with KN3 (a Kneser-Ney trigram of the training text), a cache of the words of the document being typed ' +
  'and a neural cache of what followed each word earlier in the document. ' +
  'The shares and the confidence thresholds were fitted on the validation text: for completing a word, the one that saves the most keystrokes; ' +
  'for guessing the next word, the lowest at which such guesses were right two times in five. ' +
  'keystrokes saved = typing the validation text, taking a right suggestion with Tab.';

/** One item per run that fitted a suggestion model; null when none did (older runs, or runs still training). */
export function suggestionList(runs: RunInfo[], labels: RunLabels): HTMLElement | null {
  const items = runs.flatMap((run) => (run.suggestion ? [item(run, labels[run.id] ?? run.id, run.suggestion)] : []));
  if (items.length === 0) return null;
  return h('ul', { class: 'suggesters', title: EXPLANATION, 'aria-label': 'What suggests, per run' }, ...items);
}

function item(run: RunInfo, label: string, suggestion: SuggestionReport): HTMLLIElement {
  return h(
    'li',
    { 'data-testid': `suggestion-${run.id}`, 'aria-label': `${label}: what suggests` },
    h('div', {}, h('span', { class: 'who' }, label), ` suggests: ${mixtureShares(suggestion)}`),
    h(
      'div',
      { class: 'figures' },
      `${formatNumber(suggestion.natsPerChar)} nats/char (network alone ${formatNumber(run.natsPerChar)}` +
        (suggestion.adaptation ? `, learning as it reads ${formatNumber(suggestion.adaptedNetworkNatsPerChar)}) · ` : ') · ') +
        // The thresholds the run chose, which the figures were measured at; a person's setting may override them.
        `${formatPercent(suggestion.keystrokeSavings)} of keystrokes saved at its threshold of ${formatPercent(suggestion.minConfidence)}` +
        (suggestion.minNextWordConfidence === undefined ? '' : ` (${formatPercent(suggestion.minNextWordConfidence)} for next words)`),
    ),
    h(
      'div',
      { class: 'figures' },
      `At ${suggestion.wordStarts === undefined ? '' : `${suggestion.wordStarts.toLocaleString('en')} `}word starts: ` +
        `offered ${formatPercent(suggestion.wordStartOffered)}, first word right ${formatPercent(suggestion.wordStartFirstWordRight)}`,
    ),
  );
}
