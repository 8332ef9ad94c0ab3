import { FAILURE } from '../../core/contracts/failures.js';
import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createKnowledgeActivities } from '../../activities/knowledge/ingestion.js';
import { ingestionProgressQuery, type IngestDocumentInput, type IngestionProgress } from '../../core/contracts/knowledge-ingestion.js';
import { LLM_STEP, STORE_STEP } from '../activity-options.js';

type KnowledgeActivities = ReturnType<typeof createKnowledgeActivities>;
const { chunkStagedDocument, completeDocumentIngestion, failDocumentIngestion } = proxyActivities<KnowledgeActivities>(STORE_STEP);
// A batch calls the embeddings endpoint when one is configured: it gets the LLM step's patience.
const { indexDocumentBatch } = proxyActivities<KnowledgeActivities>(LLM_STEP);

/**
 * Ingests a staged document: chunk → (embed + store) batch after batch → ready. The chunk text never
 * enters workflow history: each step reads the staged text from the store. A failure marks the
 * document failed (partial chunks dropped) so it can be uploaded again.
 */
export async function ingestKnowledgeDocument(input: IngestDocumentInput): Promise<IngestionProgress> {
  const progress: IngestionProgress = { phase: 'chunking', chunkCount: 0, chunksIndexed: 0, batches: 0, batchesDone: 0, error: null };
  setHandler(ingestionProgressQuery, () => progress);
  try {
    const chunked = await chunkStagedDocument(input);
    if (!chunked) return { ...progress, phase: 'deleted' };
    Object.assign(progress, { phase: 'indexing', chunkCount: chunked.chunkCount, batches: chunked.batches });
    for (let batch = 0; batch < chunked.batches; batch += 1) {
      const indexed = await indexDocumentBatch({ ...input, batch });
      if (!indexed) return { ...progress, phase: 'deleted' };
      progress.chunksIndexed = indexed.chunksIndexed;
      progress.batchesDone = batch + 1;
    }
    const ready = await completeDocumentIngestion(input);
    if (!ready) return { ...progress, phase: 'deleted' };
    progress.phase = 'ready';
    progress.chunksIndexed = ready.chunksIndexed;
    return progress;
  } catch (err) {
    const reason = isCancellation(err) ? 'ingestion was cancelled' : errorMessage(err);
    progress.phase = 'failed';
    progress.error = reason;
    await CancellationScope.nonCancellable(() => failDocumentIngestion({ ...input, reason }));
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.nonRetryable(`Ingestion of document ${input.docId} failed: ${reason}`, FAILURE.IngestionFailed);
  }
}

function errorMessage(err: unknown): string {
  // An activity failure wraps the activity's own error; its message is what an operator needs.
  const cause = (err as { cause?: { message?: string } }).cause;
  return (cause?.message ?? (err instanceof Error ? err.message : String(err))).slice(0, 1000);
}
