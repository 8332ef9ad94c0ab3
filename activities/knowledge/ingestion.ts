import { FAILURE } from '../../core/contracts/failures.js';
import { ApplicationFailure } from '@temporalio/activity';
import type { DocumentRef, StagedIngestion } from '../../adapters/knowledge/port.js';
import { LlmError } from '../../adapters/llm/port.js';

export interface KnowledgeActivityDeps {
  ingestion: StagedIngestion;
}

/** The ingestion workflow's steps. Each is idempotent; null means the document was deleted meanwhile. */
export function createKnowledgeActivities({ ingestion }: KnowledgeActivityDeps) {
  return {
    async chunkStagedDocument(ref: DocumentRef) {
      return ingestion.chunkStaged(ref);
    },
    async indexDocumentBatch(input: DocumentRef & { batch: number }) {
      try {
        return await ingestion.indexBatch({ docId: input.docId, tenantId: input.tenantId }, input.batch);
      } catch (err) {
        // Embeddings endpoint failures keep their classification: rate limits and 5xx are retried
        // (after Retry-After), a refused key or a bad request is not.
        if (err instanceof LlmError) {
          if (!err.retryable) throw ApplicationFailure.nonRetryable(err.message, FAILURE.EmbeddingsRejected);
          throw ApplicationFailure.create({
            message: err.message,
            type: FAILURE.EmbeddingsUnavailable,
            ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
          });
        }
        throw err;
      }
    },
    async completeDocumentIngestion(ref: DocumentRef) {
      const document = await ingestion.complete(ref);
      return document ? { chunkCount: document.chunkCount, chunksIndexed: document.chunksIndexed } : null;
    },
    async failDocumentIngestion(input: DocumentRef & { reason: string }) {
      await ingestion.fail({ docId: input.docId, tenantId: input.tenantId }, input.reason);
    },
  };
}
