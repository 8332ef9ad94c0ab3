import type { Config } from '../../config.js';
import type { Runbook } from '../../core/runbook.js';
import { createEmbeddingProvider } from '../llm/create.js';
import type { Store } from '../store/port.js';
import { LocalKnowledgeBase, loadRunbooksIntoKnowledgeBase, type LocalKnowledgeBaseOptions } from './knowledge-base.js';
import type { KnowledgeBase, StagedIngestion, VectorIndex } from './port.js';
import { loadRunbooks } from './runbook-files.js';

/** The configured external vector index (Pinecone), or null for the embedded in-process ranking. */
export async function createVectorIndex(config: Pick<Config, 'pinecone'>): Promise<VectorIndex | null> {
  if (!config.pinecone) return null;
  // Loaded only when configured: the SDK stays out of deployments that do not use it.
  const { openPineconeVectorIndex } = await import('./pinecone-vector-index.js');
  return openPineconeVectorIndex({
    apiKey: config.pinecone.apiKey,
    indexName: config.pinecone.indexName,
    ...(config.pinecone.indexHost ? { indexHost: config.pinecone.indexHost } : {}),
    ...(config.pinecone.namespace ? { namespace: config.pinecone.namespace } : {}),
  });
}

/**
 * The knowledge base every process uses: the store-backed index, hybrid when an embeddings endpoint
 * is configured, with Pinecone as its vector half when configured. It also runs staged ingestion.
 */
export async function createKnowledgeBase(
  config: Pick<Config, 'pinecone' | 'embeddings'>,
  store: Store,
): Promise<KnowledgeBase & StagedIngestion> {
  return openKnowledgeBase(store, { embedder: createEmbeddingProvider(config.embeddings), vectorIndex: await createVectorIndex(config) });
}

/** The store-backed knowledge base with the given embeddings endpoint and vector index (tests, workers built by hand). */
export function openKnowledgeBase(store: Store, options: LocalKnowledgeBaseOptions = {}): KnowledgeBase & StagedIngestion {
  return new LocalKnowledgeBase(store, options);
}

/** The bundled runbooks, registered as global knowledge (unchanged ones are recognised by content and skipped). */
export async function loadBundledRunbooks(knowledge: KnowledgeBase | null): Promise<Runbook[]> {
  const runbooks = await loadRunbooks();
  if (knowledge) await loadRunbooksIntoKnowledgeBase(knowledge, runbooks);
  return runbooks;
}
