import { createHash, randomUUID } from 'node:crypto';
import { chunkDocument } from '../../core/chunking.js';
import type { Runbook } from '../../core/runbook.js';
import type { KnowledgeDocument, KnowledgeKind, Store } from '../store/store.js';
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
export class LocalKnowledgeBase implements KnowledgeBase {
  private index = new LexicalIndex();
  private revision: string | null = null;
  private rebuilding: Promise<void> | null = null;

  constructor(private readonly store: Store) {}

  private async ensureFresh(): Promise<void> {
    const current = await this.store.knowledge.revision();
    if (current === this.revision) return;
    this.rebuilding ??= (async () => {
      const index = new LexicalIndex();
      const chunks = await this.store.knowledge.allChunks();
      index.add(chunks.map((c) => ({ id: c.id, docId: c.docId, tenantId: c.tenantId, kind: c.kind, title: c.title, section: c.section, text: c.text })));
      this.index = index;
      this.revision = current;
    })().finally(() => {
      this.rebuilding = null;
    });
    await this.rebuilding;
  }

  async ingest(input: KnowledgeInput): Promise<{ document: KnowledgeDocument; created: boolean }> {
    const text = input.text.replace(/\r\n/g, '\n');
    const chunks = chunkDocument(text);
    const id = randomUUID();
    const result = await this.store.knowledge.addDocument({
      id,
      tenantId: input.tenantId,
      title: input.title,
      kind: input.kind,
      source: input.source,
      contentType: input.contentType,
      contentHash: createHash('sha256').update(`${input.kind}\n${input.title}\n${text}`).digest('hex'),
      sizeBytes: Buffer.byteLength(text),
      chunks,
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
    return this.index.query(query, { tenantId, k: options.k, ...(options.kinds ? { kinds: options.kinds } : {}) }).map(({ chunk, score }) => ({
      docId: chunk.docId,
      chunkId: chunk.id,
      title: chunk.title,
      section: chunk.section,
      kind: chunk.kind,
      text: chunk.text,
      score: Math.round(score * 1000) / 1000,
      global: chunk.tenantId === null,
    }));
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
