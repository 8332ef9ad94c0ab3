import type { Config } from '../../config.js';
import type { VectorIndex } from './vector-index.js';

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
