import type { KnowledgeKind } from '../store/store.js';
import { cosine } from '../llm/embeddings.js';

/** One chunk's embedding with the metadata search filters on. */
export interface VectorRecord {
  /** `${docId}#${chunkIndex}`: stable, so upserting the same chunk again replaces it. */
  chunkId: string;
  docId: string;
  /** Null for global documents (bundled runbooks, architecture notes) that every tenant sees. */
  tenantId: string | null;
  kind: KnowledgeKind;
  values: number[];
}

export interface VectorMatch {
  chunkId: string;
  docId: string;
  /** Cosine similarity, higher is closer. */
  score: number;
}

export interface VectorQuery {
  /** The tenant asking: it sees its own chunks and the global ones, never another tenant's. */
  tenantId: string | null;
  kinds?: readonly KnowledgeKind[] | undefined;
  topK: number;
}

/**
 * The vector half of retrieval. The embedded default keeps vectors in the store and ranks them in
 * memory; the Pinecone adapter keeps them in a Pinecone index. Either way the store stays the source
 * of truth for documents and chunk text.
 */
export interface VectorIndex {
  readonly name: string;
  upsert(records: readonly VectorRecord[]): Promise<void>;
  /** Best chunks first, at most one per chunk id; `topK` bounds the answer. */
  query(vector: readonly number[], query: VectorQuery): Promise<VectorMatch[]>;
  /** Removes every chunk of a document; removing an unknown document is not an error. */
  deleteDocument(docId: string): Promise<void>;
}

/**
 * A vector index backend failed. Adapters map their SDK's errors to this so callers can decide
 * whether to retry without knowing the backend: `retryable` is true for rate limits (429), server
 * errors (5xx) and network failures, false for everything the caller has to fix (bad key, bad
 * request, missing index). Messages never carry credentials.
 */
export class VectorIndexError extends Error {
  override readonly name = 'VectorIndexError';
  readonly backend: string;
  readonly operation: string;
  readonly retryable: boolean;
  /** The HTTP status when the backend answered, undefined for network failures. */
  readonly status: number | undefined;

  constructor(message: string, details: { backend: string; operation: string; retryable: boolean; status?: number | undefined }) {
    super(message);
    this.backend = details.backend;
    this.operation = details.operation;
    this.retryable = details.retryable;
    this.status = details.status;
  }
}

/** In-memory vector ranking (exact cosine), fed from the store's chunk embeddings. */
export class InMemoryVectorIndex implements VectorIndex {
  readonly name = 'memory';
  private readonly records = new Map<string, VectorRecord>();

  /** Replaces everything (used when a process rebuilds its index from the store). */
  reset(records: readonly VectorRecord[]): void {
    this.records.clear();
    for (const record of records) this.records.set(record.chunkId, record);
  }

  get size(): number {
    return this.records.size;
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    for (const record of records) this.records.set(record.chunkId, record);
  }

  async query(vector: readonly number[], query: VectorQuery): Promise<VectorMatch[]> {
    const matches: VectorMatch[] = [];
    for (const record of this.records.values()) {
      if (record.tenantId !== null && record.tenantId !== query.tenantId) continue;
      if (query.kinds && !query.kinds.includes(record.kind)) continue;
      matches.push({ chunkId: record.chunkId, docId: record.docId, score: cosine(vector as number[], record.values) });
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, query.topK);
  }

  async deleteDocument(docId: string): Promise<void> {
    for (const [id, record] of this.records) if (record.docId === docId) this.records.delete(id);
  }
}
