import { cosine } from '../llm/port.js';
import { type VectorIndex, type VectorMatch, type VectorQuery, type VectorRecord } from './port.js';

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
