/**
 * Words of the document that are outside the vocabulary: names, rare terms, the words
 * that make a text its own. The network can only say "some unknown word comes next";
 * remembering which unknown words this document used lets a suggestion complete "Quee"
 * to "Queequeg" once the person has typed it before. A share of the network's probability
 * of <unk> (newWordSpelling.ts) is divided among them by how often each appeared, as a
 * cache model would.
 */
export class NewWords {
  private readonly counts = new Map<string, number>();
  private readonly recent: string[] = [];

  constructor(private readonly capacity = 500) {}

  add(word: string): void {
    // Punctuation and line breaks are never new words worth suggesting.
    if (!/[\p{L}\p{N}]/u.test(word)) return;
    this.recent.push(word);
    this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
    if (this.recent.length > this.capacity) {
      const old = this.recent.shift()!;
      const left = this.counts.get(old)! - 1;
      if (left === 0) this.counts.delete(old);
      else this.counts.set(old, left);
    }
  }

  /** Share of the remembered words that are `word` (0 while none is remembered). */
  probability(word: string): number {
    return this.recent.length === 0 ? 0 : (this.counts.get(word) ?? 0) / this.recent.length;
  }

  clear(): void {
    this.counts.clear();
    this.recent.length = 0;
  }

  /** The words remembered now, oldest first: what `restore` goes back to. */
  snapshot(): readonly string[] {
    return this.recent.slice();
  }

  restore(words: readonly string[]): void {
    this.clear();
    for (const word of words) this.add(word);
  }

  /** Each remembered word starting with `prefix`, with its share of `unknownProbability`. */
  candidates(prefix: string, unknownProbability: number): { word: string; probability: number }[] {
    const found: { word: string; probability: number }[] = [];
    for (const word of this.counts.keys()) {
      if (word.startsWith(prefix) && word !== prefix) found.push({ word, probability: unknownProbability * this.probability(word) });
    }
    return found;
  }
}
