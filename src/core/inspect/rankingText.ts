/**
 * The text a run's units are ranked on: its own held-out text when it can be read again
 * (text the model did not train on, and of the kind it learned), else the document being
 * inspected, with the reason said, so a person knows what the correlations describe.
 */
import * as nodePath from 'node:path';
import { splitText } from '../dataset';
import { isUserError } from '../errors';
import { readTrainingText } from '../run';
import type { RunRecord } from '../store';
import type { RankingText } from './cells';

export async function rankingText(record: RunRecord, document: { text: string; name: string }): Promise<RankingText> {
  const fallback = (why: string): RankingText => ({ text: document.text, source: 'document', description: `${document.name} (${why})` });
  if (record.config.valSplit === 0) return fallback('the run held out no validation text');
  try {
    const validation = splitText(await readTrainingText(record, 'the document is used instead'), record.config.valSplit).validationText;
    return { text: validation, source: 'validation', description: `the run's validation text (the last ${Math.round(record.config.valSplit * 100)}% of ${record.corpus.sources.map((file) => nodePath.basename(file)).join(', ')})` };
  } catch (error) {
    if (!isUserError(error)) throw error;
    // Not in a file, no longer readable, or changed since: the details are readTrainingText's sentence.
    return fallback("the run's own text could not be read again as it was trained on");
  }
}
