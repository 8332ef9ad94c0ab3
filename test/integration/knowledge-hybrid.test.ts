import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKnowledgeBase, loadRunbooksIntoKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { OpenAiEmbeddings } from '../../adapters/llm/openai-embeddings.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { openPineconeVectorIndex } from '../../adapters/knowledge/pinecone-vector-index.js';
import { FakePinecone } from '../support/fake-pinecone.js';

// Hybrid search: chunks embedded through a local server that speaks the OpenAI embeddings
// protocol. Its vectors put synonyms on one axis, so a question with no words in common with a
// runbook still finds it — what BM25 alone cannot do.

const CONCEPTS: string[][] = [
  ['disk', 'drive', 'filesystem', 'volume', 'storage', 'space'],
  ['full', 'packed', 'exhausted', 'enospc'],
  ['certificate', 'cert', 'tls', 'x509'],
  ['expired', 'lapsed', 'stale'],
];
const DIMS = 32;

function embed(text: string): number[] {
  const vector = new Array<number>(DIMS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const concept = CONCEPTS.findIndex((words) => words.includes(word));
    if (concept >= 0) vector[concept]! += 3;
    else vector[CONCEPTS.length + ([...word].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % (DIMS - CONCEPTS.length))]! += 0.2;
  }
  return vector;
}

let server: Server;
let baseURL: string;
let store: Store;
let dataDir: string;
const calls: { model: unknown; inputs: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      calls.push({ model: body.model, inputs: body.input.length });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          model: body.model,
          data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })),
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseURL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-hybrid-'));
  store = await createStore({ kind: 'pglite', dataDir });
});

afterAll(async () => {
  server?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('hybrid knowledge search', () => {
  it('stores chunk embeddings and finds a runbook by meaning where BM25 alone does not', async () => {
    const embedder = new OpenAiEmbeddings({ apiKey: 'k', model: 'test-embed', baseURL, batchSize: 16 });
    const hybrid = new LocalKnowledgeBase(store, embedder);
    await loadRunbooksIntoKnowledgeBase(hybrid, await loadRunbooks());
    const chunks = await store.knowledge.allChunks();
    expect(chunks.length).toBeGreaterThan(50);
    expect(chunks.every((c) => c.embedding?.length === DIMS)).toBe(true);
    expect(calls.every((c) => c.model === 'test-embed' && c.inputs <= 16)).toBe(true);
    // Loading the same runbooks again (every start) embeds nothing.
    const before = calls.length;
    expect(await loadRunbooksIntoKnowledgeBase(hybrid, await loadRunbooks())).toBe(0);
    expect(calls.length).toBe(before);

    const question = 'our drive is packed';
    const lexicalOnly = new LocalKnowledgeBase(store);
    expect((await lexicalOnly.search(null, question, { k: 3 }))[0]?.title).not.toBe('Filesystem or directory full');
    expect((await hybrid.search(null, question, { k: 3 }))[0]?.title).toBe('Filesystem or directory full');
    expect((await hybrid.search(null, 'the tls cert lapsed', { k: 3 }))[0]?.title).toBe('Expired or expiring TLS certificate');
    // Lexical evidence still counts in the fusion.
    expect((await hybrid.search(null, 'Error acquiring the state lock', { k: 3 }))[0]?.title).toBe('Terraform state lock held');
  });

  it('with Pinecone holding the vectors (local protocol server), hybrid search finds the same and deletes reach the index', async () => {
    const fake = await FakePinecone.start({ apiKey: 'pc-test-key', indexName: 'kb', dimension: DIMS });
    const pineconeDir = await mkdtemp(join(tmpdir(), 'infraai-pinecone-kb-'));
    const pineconeStore = await createStore({ kind: 'pglite', dataDir: pineconeDir });
    try {
      const vectorIndex = await openPineconeVectorIndex({
        apiKey: 'pc-test-key',
        indexName: 'kb',
        indexHost: fake.url,
        namespace: 'kb-test',
      });
      const embedder = new OpenAiEmbeddings({ apiKey: 'k', model: 'test-embed', baseURL, batchSize: 16 });
      const kb = new LocalKnowledgeBase(pineconeStore, { embedder, vectorIndex });
      await loadRunbooksIntoKnowledgeBase(kb, await loadRunbooks());
      const upserts = fake.requests.filter((r) => r.path.endsWith('/vectors/upsert'));
      expect(upserts.length).toBeGreaterThan(0);
      expect((await kb.search(null, 'our drive is packed', { k: 3 }))[0]?.title).toBe('Filesystem or directory full');
      expect(fake.requests.some((r) => r.path.endsWith('/query'))).toBe(true);

      const tenant = await pineconeStore.tenants.ensure('pinecone-kb');
      const { document } = await kb.ingest({
        tenantId: tenant.id,
        title: 'Wombat SOP',
        kind: 'sop',
        source: 'wombat.md',
        contentType: 'text/markdown',
        text: '# Wombat\n\nOur drive is packed with wombat dumps: purge the wombat cache.',
      });
      expect((await kb.search(tenant.id, 'wombat drive packed', { k: 1 }))[0]?.docId).toBe(document.id);
      expect(await pineconeStore.knowledge.deleteDocument(tenant.id, document.id)).toBe(true);
      await kb.forget(document.id);
      expect(fake.requests.some((r) => r.path.endsWith('/vectors/delete'))).toBe(true);
      expect((await kb.search(tenant.id, 'wombat drive packed', { k: 3 })).some((hit) => hit.docId === document.id)).toBe(false);
    } finally {
      await pineconeStore.close();
      await fake.close();
      await rm(pineconeDir, { recursive: true, force: true });
    }
  });
});
