import { createHash, randomUUID } from 'node:crypto';
import { chunkDocument, type TextChunk } from '../../core/chunking.js';
import type { Runbook } from '../../core/runbook.js';
import type { KnowledgeDocument, KnowledgeKind, Store } from '../store/port.js';
import type { EmbeddingProvider } from '../llm/port.js';
import { LexicalIndex, type IndexedChunk } from './lexical-index.js';
import { runbookToMarkdown } from './runbook-files.js';
import { InMemoryVectorIndex } from './memory-vector-index.js';
import { type VectorIndex, type VectorRecord } from './port.js';
import {
  type DocumentType,
  type DocumentRef,
  INGEST_BATCH_CHUNKS,
  type KnowledgeBase,
  type KnowledgeHit,
  type KnowledgeInput,
  type StagedIngestion,
} from './port.js';

/** Reciprocal rank fusion constant: how much the top ranks dominate (60 is the usual choice). */
const RRF_K = 60;
/** How deep each ranking is read before fusion. */
const CANDIDATES = 50;

const contentHashOf = (input: KnowledgeInput, text: string) =>
  createHash('sha256').update(`${input.kind}\n${input.title}\n${text}`).digest('hex');
const embeddingTextOf = (title: string, chunk: TextChunk) => `${title}\n${chunk.section}\n${chunk.text}`;

export interface LocalKnowledgeBaseOptions {
  /** With an embedder, search fuses BM25 and vector similarity; without one it is lexical. */
  embedder?: EmbeddingProvider | null;
  /**
   * Where chunk vectors are ranked. Default: in memory, rebuilt from the vectors stored with the
   * chunks. An external index (Pinecone) is written at ingest and asked at search time.
   */
  vectorIndex?: VectorIndex | null;
}

/**
 * The embedded knowledge base: chunks live in the store (the source of truth, shared by every
 * process); each process keeps a lexical index and rebuilds it when the store's revision moves.
 */
export class LocalKnowledgeBase implements KnowledgeBase, StagedIngestion {
  async extractText(bytes: Uint8Array, type: DocumentType): Promise<string> {
    // Loaded on the first upload: the PDF extractor stays out of processes that never see one.
    const { extractDocumentText } = await import('./document-text.js');
    return extractDocumentText(bytes, type);
  }

  private index = new LexicalIndex();
  private readonly memoryVectors = new InMemoryVectorIndex();
  private readonly vectors: VectorIndex;
  private readonly externalVectors: boolean;
  private readonly embedder: EmbeddingProvider | null;
  private revision: string | null = null;
  private rebuilding: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    options: LocalKnowledgeBaseOptions | EmbeddingProvider | null = {},
  ) {
    const resolved: LocalKnowledgeBaseOptions = options && 'embed' in options ? { embedder: options } : (options ?? {});
    this.embedder = resolved.embedder ?? null;
    this.externalVectors = Boolean(resolved.vectorIndex);
    this.vectors = resolved.vectorIndex ?? this.memoryVectors;
  }

  private async ensureFresh(): Promise<void> {
    const current = await this.store.knowledge.revision();
    if (current === this.revision) return;
    this.rebuilding ??= (async () => {
      const index = new LexicalIndex();
      const chunks = await this.store.knowledge.allChunks();
      const indexed = chunks.map((c) => ({
        id: c.id,
        docId: c.docId,
        tenantId: c.tenantId,
        kind: c.kind,
        title: c.title,
        section: c.section,
        text: c.text,
      }));
      index.add(indexed);
      this.index = index;
      this.memoryVectors.reset(
        chunks.flatMap((c) =>
          c.embedding ? [{ chunkId: c.id, docId: c.docId, tenantId: c.tenantId, kind: c.kind, values: c.embedding }] : [],
        ),
      );
      this.revision = current;
    })().finally(() => {
      this.rebuilding = null;
    });
    await this.rebuilding;
  }

  private async embedChunks(title: string, chunks: readonly TextChunk[]): Promise<number[][] | null> {
    if (!this.embedder || chunks.length === 0) return null;
    return this.embedder.embed(chunks.map((c) => embeddingTextOf(title, c)));
  }

  private async upsertExternal(
    doc: { id: string; tenantId: string | null; kind: KnowledgeKind },
    chunks: readonly TextChunk[],
    embeddings: number[][] | null,
  ): Promise<void> {
    if (!this.externalVectors || !embeddings) return;
    const records: VectorRecord[] = chunks.map((c, i) => ({
      chunkId: `${doc.id}#${c.index}`,
      docId: doc.id,
      tenantId: doc.tenantId,
      kind: doc.kind,
      values: embeddings[i]!,
    }));
    await this.vectors.upsert(records);
  }

  async ingest(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }> {
    const text = input.text.replace(/\r\n/g, '\n');
    const contentHash = contentHashOf(input, text);
    // Content seen before (bundled runbooks at every start) costs one lookup, not chunking and embedding.
    const existing = await this.store.knowledge.findDocumentByHash(input.tenantId, contentHash);
    if (existing && existing.status !== 'failed') return { document: existing, created: false };
    if (existing) await this.store.knowledge.deleteDocument(input.tenantId, existing.id);
    const chunks = chunkDocument(text);
    const id = randomUUID();
    const embeddings = await this.embedChunks(input.title, chunks);
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
      await this.upsertExternal({ id, tenantId: input.tenantId, kind: input.kind }, chunks, embeddings);
      await this.ensureFresh();
    }
    return result;
  }

  async stage(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }> {
    const text = input.text.replace(/\r\n/g, '\n');
    return this.store.knowledge.stageDocument(
      {
        id: randomUUID(),
        tenantId: input.tenantId,
        title: input.title,
        kind: input.kind,
        source: input.source,
        contentType: input.contentType,
        contentHash: contentHashOf(input, text),
        sizeBytes: Buffer.byteLength(text),
        embeddingModel: this.embedder?.model ?? null,
      },
      text,
    );
  }

  async chunkStaged({ docId }: DocumentRef): Promise<{ chunkCount: number; batches: number } | null> {
    const text = await this.store.knowledge.stagedText(docId);
    if (text === null) return null;
    // Chunking is deterministic, so each batch step can re-derive its slice from the staged text
    // instead of carrying chunk text through workflow history.
    const chunkCount = chunkDocument(text).length;
    if (!(await this.store.knowledge.setChunkCount(docId, chunkCount))) return null;
    return { chunkCount, batches: Math.ceil(chunkCount / INGEST_BATCH_CHUNKS) };
  }

  async indexBatch({ docId, tenantId }: DocumentRef, batch: number): Promise<{ chunksIndexed: number; chunkCount: number } | null> {
    const text = await this.store.knowledge.stagedText(docId);
    if (text === null) return null;
    const document = await this.store.knowledge.getDocument(tenantId, docId);
    if (!document) return null;
    const all = chunkDocument(text);
    const slice = all.slice(batch * INGEST_BATCH_CHUNKS, (batch + 1) * INGEST_BATCH_CHUNKS);
    const embeddings = await this.embedChunks(document.title, slice);
    const stored = await this.store.knowledge.putChunks(
      docId,
      slice.map((c, i) => ({ ...c, embedding: embeddings?.[i] ?? null })),
      this.embedder?.model ?? null,
    );
    if (!stored) return null;
    await this.upsertExternal(document, slice, embeddings);
    const after = await this.store.knowledge.getDocument(tenantId, docId);
    return { chunksIndexed: after?.chunksIndexed ?? 0, chunkCount: all.length };
  }

  async complete({ docId }: DocumentRef): Promise<KnowledgeDocument | null> {
    const document = await this.store.knowledge.completeDocument(docId);
    if (document) await this.ensureFresh();
    return document;
  }

  async fail({ docId }: DocumentRef, reason: string): Promise<KnowledgeDocument | null> {
    const document = await this.store.knowledge.failDocument(docId, reason);
    if (document && this.externalVectors) await this.vectors.deleteDocument(docId);
    return document;
  }

  async search(tenantId: string | null, query: string, options: { k: number; kinds?: readonly KnowledgeKind[] }): Promise<KnowledgeHit[]> {
    await this.ensureFresh();
    const lexical = this.index.query(query, {
      tenantId,
      k: this.embedder ? CANDIDATES : options.k,
      ...(options.kinds ? { kinds: options.kinds } : {}),
    });
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
    const hasVectors = this.externalVectors || this.memoryVectors.size > 0;
    if (!this.embedder || !hasVectors) return lexical.slice(0, options.k).map(({ chunk, score }) => toHit(chunk, score));

    // Hybrid: rank by vector similarity too (best chunk per document), then fuse both rankings.
    const [queryVector] = await this.embedder.embed([query]);
    const matches = await this.vectors.query(queryVector ?? [], { tenantId, kinds: options.kinds, topK: CANDIDATES * 3 });
    const semantic: IndexedChunk[] = [];
    const seenDocs = new Set<string>();
    for (const match of matches) {
      // An external index may still hold a chunk the store no longer has: the store decides.
      const chunk = this.index.get(match.chunkId);
      if (!chunk || seenDocs.has(chunk.docId)) continue;
      seenDocs.add(chunk.docId);
      semantic.push(chunk);
      if (semantic.length >= CANDIDATES) break;
    }
    const fused = new Map<string, { chunk: IndexedChunk; score: number }>();
    const fuse = (chunk: IndexedChunk, rank: number) => {
      const entry = fused.get(chunk.docId) ?? { chunk, score: 0 };
      entry.score += 1 / (RRF_K + rank + 1);
      fused.set(chunk.docId, entry);
    };
    lexical.forEach(({ chunk }, rank) => fuse(chunk, rank));
    semantic.forEach((chunk, rank) => fuse(chunk, rank));
    return [...fused.values()]
      .sort((a, b) => b.score - a.score)
      .slice(0, options.k)
      .map(({ chunk, score }) => toHit(chunk, score));
  }

  async forget(docId: string): Promise<void> {
    this.index.removeDocument(docId);
    await this.memoryVectors.deleteDocument(docId);
    if (this.externalVectors) await this.vectors.deleteDocument(docId);
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
