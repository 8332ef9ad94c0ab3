import type { ConfluenceClient, ConfluenceConfig } from './port.js';

/** A Confluence Cloud client (v1 search, v2 pages) for one site and account. */
export async function createConfluenceClient(config: ConfluenceConfig): Promise<ConfluenceClient> {
  const { createRestConfluenceClient } = await import('./rest.js');
  return createRestConfluenceClient(config);
}
