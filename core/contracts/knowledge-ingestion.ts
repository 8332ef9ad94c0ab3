// Contract of the knowledge ingestion workflow: large documents are chunked, embedded and stored in
// batches by retryable activities, with progress in the document row and in a workflow query.
import { defineQuery } from '@temporalio/workflow';

export const INGESTION_WORKFLOW_TYPE = 'ingestKnowledgeDocument';

export const ingestionWorkflowId = (docId: string) => `knowledge-ingest-${docId}`;

export interface IngestDocumentInput {
  docId: string;
  /** Null for global (architecture) documents. */
  tenantId: string | null;
}

export type IngestionPhase = 'chunking' | 'indexing' | 'ready' | 'failed' | 'deleted';

export interface IngestionProgress {
  phase: IngestionPhase;
  chunkCount: number;
  chunksIndexed: number;
  batches: number;
  batchesDone: number;
  error: string | null;
}

export const ingestionProgressQuery = defineQuery<IngestionProgress>('ingestionProgress');
