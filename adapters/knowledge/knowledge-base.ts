import { createHash, randomUUID } from 'node:crypto';
import { chunkDocument } from '../../core/chunking.js';
import type { Runbook } from '../../core/runbook.js';
import type { KnowledgeDocument, KnowledgeKind, Store } from '../store/store.js';
import { cosine, type EmbeddingProvider } from '../llm/embeddings.js';
import { LexicalIndex, type IndexedChunk } from './lexical-index.js';
import { runbookToMarkdown } from './runbook-files.js';

export interface KnowledgeHit {
  docId: string;
  chunkId: string;
  title: string;
  section: string;
  kind: string;
  text: string;
  score: number;
  /** True for global documents (bundled runbooks, architecture notes). */
  global: boolean;
}

export interface KnowledgeInput {
  tenantId: string | null;
  title: string;
  kind: KnowledgeKind;
  source: string;
  contentType: string;
  text: string;
}

/** The knowledge base port: ingest documents, search them for a tenant (its own plus global ones). */
export interface KnowledgeBase {
  ingest(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }>;
  search(tenantId: string | null, query: string, options: { k: number; kinds?: readonly KnowledgeKind[] }): Promise<KnowledgeHit[]>;
  /** Drops a document from the index after the store deleted it. */
  forget(docId: string): void;
}

/**
 * The embedded knowledge base: chunks live in the store (the source of truth, shared by every
 * process); each process keeps a lexical index and rebuilds it when the store's revision moves.
 */
/** Reciprocal rank fusion constant: how much the top ranks dominate (60 is the usual choice). */
const RRF_K = 60;
/** How deep each ranking is read before fusion. */
const CANDIDATES = 50;

type VectorChunk = IndexedChunk & { embedding: number[] };

export class LocalKnowledgeBase implements KnowledgeBase {
  private index = new LexicalIndex();
  private vectors: VectorChunk[] = [];
  private revision: string | null = null;
  private rebuilding: Promise<void> | null = null;

  /** With an embedder, search fuses BM25 and vector similarity; without one it is lexical. */
  constructor(
    private readonly store: Store,
    private readonly embedder: EmbeddingProvider | null = null,
  ) {}

  private async ensureFresh(): Promise<void> {
    const current = await this.store.knowledge.revision();
    if (current === this.revision) return;
    this.rebuilding ??= (async () => {
      const index = new LexicalIndex();
      const chunks = await this.store.knowledge.allChunks();
      const indexed = chunks.map((c) => ({ id: c.id, docId: c.docId, tenantId: c.tenantId, kind: c.kind, title: c.title, section: c.section, text: c.text }));
      index.add(indexed);
      this.index = index;
      this.vectors = chunks.flatMap((c, i) => (c.embedding ? [{ ...indexed[i]!, embedding: c.embedding }] : []));
      this.revision = current;
    })().finally(() => {
      this.rebuilding = null;
    });
    await this.rebuilding;
  }

  async ingest(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }> {
    const text = input.text.replace(/\r\n/g, '\n');
    const contentHash = createHash('sha256').update(`${input.kind}\n${input.title}\n${text}`).digest('hex');
    // Content seen before (bundled runbooks at every start) costs one lookup, not chunking and embedding.
    const existing = await this.store.knowledge.findDocumentByHash(input.tenantId, contentHash);
    if (existing) return { document: existing, created: false };
    const chunks = chunkDocument(text);
    const id = randomUUID();
    const embeddings = this.embedder ? await this.embedder.embed(chunks.map((c) => `${input.title}\n${c.section}\n${c.text}`)) : null;
    const result = await this.store.knowledge.addDocument({
      id,
      tenantId: input.tenantId,
      title: input.title,
      kind: input.kind,
      source: input.source,
      contentType: input.contentType,
      contentHash,
      sizeBytes: Buffer.byteLength(text),
      chunks: chunks.map((c, i) => ({ ...c, embedding: embeddings?.[i] ?? null })),
      embeddingModel: this.embedder?.model ?? null,
    });
    if (result.created) {
      const indexed: IndexedChunk[] = chunks.map((c) => ({
        id: `${id}#${c.index}`,
        docId: id,
        tenantId: input.tenantId,
        kind: input.kind,
        title: input.title,
        section: c.section,
        text: c.text,
      }));
      await this.ensureFresh();
      this.index.add(indexed);
    }
    return result;
  }

  async search(tenantId: string | null, query: string, options: { k: number; kinds?: readonly KnowledgeKind[] }): Promise<KnowledgeHit[]> {
    await this.ensureFresh();
    const visible = (chunk: IndexedChunk) => (chunk.tenantId === null || chunk.tenantId === tenantId) && (!options.kinds || options.kinds.includes(chunk.kind as KnowledgeKind));
    const lexical = this.index.query(query, { tenantId, k: this.embedder ? CANDIDATES : options.k, ...(options.kinds ? { kinds: options.kinds } : {}) });
    const toHit = (chunk: IndexedChunk, score: number): KnowledgeHit => ({
      docId: chunk.docId,
      chunkId: chunk.id,
      title: chunk.title,
      section: chunk.section,
      kind: chunk.kind,
      text: chunk.text,
      score: Math.round(score * 1000) / 1000,
      global: chunk.tenantId === null,
    });
    if (!this.embedder || this.vectors.length === 0) return lexical.slice(0, options.k).map(({ chunk, score }) => toHit(chunk, score));

    // Hybrid: rank by vector similarity too (best chunk per document), then fuse both rankings.
    const [queryVector] = await this.embedder.embed([query]);
    const bestPerDoc = new Map<string, { chunk: VectorChunk; similarity: number }>();
    for (const chunk of this.vectors) {
      if (!visible(chunk)) continue;
      const similarity = cosine(queryVector ?? [], chunk.embedding);
      const current = bestPerDoc.get(chunk.docId);
      if (!current || similarity > current.similarity) bestPerDoc.set(chunk.docId, { chunk, similarity });
    }
    const semantic = [...bestPerDoc.values()].sort((a, b) => b.similarity - a.similarity).slice(0, CANDIDATES);
    const fused = new Map<string, { chunk: IndexedChunk; score: number }>();
    const fuse = (chunk: IndexedChunk, rank: number) => {
      const entry = fused.get(chunk.docId) ?? { chunk, score: 0 };
      entry.score += 1 / (RRF_K + rank + 1);
      fused.set(chunk.docId, entry);
    };
    lexical.forEach(({ chunk }, rank) => fuse(chunk, rank));
    semantic.forEach(({ chunk }, rank) => fuse(chunk, rank));
    return [...fused.values()]
      .sort((a, b) => b.score - a.score)
      .slice(0, options.k)
      .map(({ chunk, score }) => toHit(chunk, score));
  }

  forget(docId: string): void {
    this.index.removeDocument(docId);
  }
}

/** Loads the bundled runbooks as global documents; unchanged runbooks are recognised by content. */
export async function loadRunbooksIntoKnowledgeBase(knowledge: KnowledgeBase, runbooks: readonly Runbook[]): Promise<number> {
  let added = 0;
  for (const runbook of runbooks) {
    const { created } = await knowledge.ingest({
      tenantId: null,
      title: runbook.title,
      kind: 'runbook',
      source: `runbooks/${runbook.source}`,
      contentType: 'text/markdown',
      text: runbookToMarkdown(runbook),
    });
    if (created) added += 1;
  }
  return added;
}
