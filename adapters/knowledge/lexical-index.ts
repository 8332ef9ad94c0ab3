import MiniSearch from 'minisearch';

// The embedded lexical index: MiniSearch (BM25+ ranking, prefix and fuzzy matching) over chunks.
// Kept in memory and rebuilt from the store; the store is the source of truth.

export interface IndexedChunk {
  id: string;
  docId: string;
  /** Null for global documents (architecture, bundled runbooks) visible to every tenant. */
  tenantId: string | null;
  kind: string;
  title: string;
  section: string;
  text: string;
}

export interface LexicalHit {
  chunk: IndexedChunk;
  score: number;
}

const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'for',
  'from',
  'how',
  'i',
  'in',
  'is',
  'it',
  'of',
  'on',
  'or',
  'the',
  'to',
  'was',
  'what',
  'when',
  'why',
  'with',
  'my',
  'our',
  'do',
  'does',
  'can',
]);

export class LexicalIndex {
  private readonly search = new MiniSearch<IndexedChunk>({
    fields: ['title', 'section', 'text'],
    storeFields: ['id'],
    processTerm: (term) => {
      const lower = term.toLowerCase();
      return STOP_WORDS.has(lower) ? null : lower;
    },
    searchOptions: {
      boost: { title: 3, section: 2 },
      prefix: (term) => term.length > 3,
      fuzzy: (term) => (term.length > 5 ? 0.15 : false),
      combineWith: 'OR',
    },
  });
  private readonly chunks = new Map<string, IndexedChunk>();

  get size(): number {
    return this.chunks.size;
  }

  get(chunkId: string): IndexedChunk | undefined {
    return this.chunks.get(chunkId);
  }

  add(chunks: readonly IndexedChunk[]): void {
    const fresh = chunks.filter((chunk) => !this.chunks.has(chunk.id));
    for (const chunk of fresh) this.chunks.set(chunk.id, chunk);
    this.search.addAll(fresh);
  }

  removeDocument(docId: string): void {
    for (const chunk of [...this.chunks.values()]) {
      if (chunk.docId !== docId) continue;
      this.search.discard(chunk.id);
      this.chunks.delete(chunk.id);
    }
  }

  /** Best chunks for a tenant (its own and global documents), at most one per document unless `perDocument` allows more. */
  query(text: string, options: { tenantId: string | null; k: number; kinds?: readonly string[]; perDocument?: number }): LexicalHit[] {
    const perDocument = options.perDocument ?? 1;
    const results = this.search.search(text, {
      filter: (result) => {
        const chunk = this.chunks.get(result.id as string);
        if (!chunk) return false;
        if (chunk.tenantId !== null && chunk.tenantId !== options.tenantId) return false;
        return !options.kinds || options.kinds.includes(chunk.kind);
      },
    });
    const perDoc = new Map<string, number>();
    const hits: LexicalHit[] = [];
    for (const result of results) {
      const chunk = this.chunks.get(result.id as string)!;
      const count = perDoc.get(chunk.docId) ?? 0;
      if (count >= perDocument) continue;
      perDoc.set(chunk.docId, count + 1);
      hits.push({ chunk, score: result.score });
      if (hits.length >= options.k) break;
    }
    return hits;
  }
}
