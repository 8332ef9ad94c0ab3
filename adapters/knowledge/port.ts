import { type KnowledgeDocument, type KnowledgeKind } from '../store/port.js';
// The knowledge port: retrieval for plans and diagnosis, staged ingestion of large documents, and the
// vector half of hybrid search. Implementations: knowledge-base.ts (store + lexical index), memory-vector-index.ts, pinecone-vector-index.ts.

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
  /** The text of an uploaded document (plain text and Markdown as they are, PDF extracted); refuses other types. */
  extractText(bytes: Uint8Array, type: DocumentType): Promise<string>;
  /** Chunks, embeds and stores a document in one go (small documents). */
  ingest(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }>;
  search(tenantId: string | null, query: string, options: { k: number; kinds?: readonly KnowledgeKind[] }): Promise<KnowledgeHit[]>;
  /** Drops a document from the indexes after the store deleted it. */
  forget(docId: string): Promise<void>;
}

/**
 * Large documents are ingested in steps, each one a retryable activity of the ingestion workflow:
 * stage (in the request) → chunk → index batch after batch (embed + store) → complete or fail.
 * Every step is idempotent, so a step retried after a crash repeats nothing twice.
 */
export interface StagedIngestion {
  stage(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }>;
  /** Chunks the staged text; null when the document is gone (deleted while ingesting). */
  chunkStaged(ref: DocumentRef): Promise<{ chunkCount: number; batches: number } | null>;
  /** Embeds and stores one batch; null when the document is gone. */
  indexBatch(ref: DocumentRef, batch: number): Promise<{ chunksIndexed: number; chunkCount: number } | null>;
  complete(ref: DocumentRef): Promise<KnowledgeDocument | null>;
  fail(ref: DocumentRef, reason: string): Promise<KnowledgeDocument | null>;
}

/** Which document an ingestion step works on, and for which tenant (null = global). */
export interface DocumentRef {
  docId: string;
  tenantId: string | null;
}

/** Chunks embedded and stored per ingestion step: one embeddings request, one short transaction. */
export const INGEST_BATCH_CHUNKS = 32;

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

export const ACCEPTED_DOCUMENT_TYPES = ['text/plain', 'text/markdown', 'application/pdf'] as const;

export type DocumentType = (typeof ACCEPTED_DOCUMENT_TYPES)[number];

export class UnsupportedDocumentError extends Error {
  override readonly name = 'UnsupportedDocumentError';
}

/** The document's type from its declared content type, else its file name. */
export function documentType(contentType: string | undefined, filename: string | undefined): DocumentType {
  const declared = contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared === 'application/pdf' || declared === 'text/markdown' || declared === 'text/plain') return declared;
  const name = filename?.toLowerCase() ?? '';
  if (name.endsWith('.pdf')) return 'application/pdf';
  if (name.endsWith('.md') || name.endsWith('.markdown')) return 'text/markdown';
  if (name.endsWith('.txt') || name.endsWith('.log')) return 'text/plain';
  throw new UnsupportedDocumentError(
    `Unsupported document type ${declared ?? 'unknown'} (${filename ?? 'no name'}); send text/plain, text/markdown or application/pdf.`,
  );
}
