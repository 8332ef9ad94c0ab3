import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_BATCH_CHUNKS } from '../../adapters/knowledge/port.js';
import { OpenAiEmbeddings } from '../../adapters/llm/openai-embeddings.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// Large documents go through the ingestion workflow: 202 with a Location, progress in the document
// while batches are embedded and stored, searchable once ready, and the text never in history.

const INLINE_LIMIT = 16 * 1024;

/** A runbook-like document of `sections` sections with a marker word in each. */
function bigDocument(marker: string, sections: number): string {
  const lines = [`# ${marker} operations handbook`];
  for (let i = 0; i < sections; i += 1) {
    lines.push(
      `## Procedure ${i}`,
      `When the ${marker} queue ${i} stalls, drain consumers of shard ${i} and replay the dead letters. `.repeat(8),
    );
  }
  return lines.join('\n\n');
}

type DocBody = {
  id: string;
  status: string;
  chunkCount: number;
  chunksIndexed: number;
  progress: number;
  error: string | null;
  ingestionWorkflowId: string | null;
};

let embeddingsServer: Server;
let embeddingsMode: 'ok' | 'reject' = 'ok';
let embeddingRequests = 0;
let stack: TestStack;

beforeAll(async () => {
  embeddingsServer = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      embeddingRequests += 1;
      if (embeddingsMode === 'reject') {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
        return;
      }
      const body = JSON.parse(raw) as { model: string; input: string[] };
      const data = body.input.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: [text.length % 7, text.length % 11, 1, (text.match(/queue/g) ?? []).length],
      }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', model: body.model, data, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  await new Promise<void>((resolve) => embeddingsServer.listen(0, '127.0.0.1', () => resolve()));
  const baseURL = `http://127.0.0.1:${(embeddingsServer.address() as { port: number }).port}/v1`;
  stack = await startTestStack({
    withWorker: false,
    inlineIngestLimitBytes: INLINE_LIMIT,
    bodyLimitBytes: 1024 * 1024,
    embedder: new OpenAiEmbeddings({ apiKey: 'test-key', model: 'test-embed', baseURL, batchSize: 64 }),
  });
});

afterAll(async () => {
  await stack?.close();
  embeddingsServer?.close();
});

const getDoc = async (id: string) => (await (await stack.call('GET', `/api/v1/knowledge/docs/${id}`)).json()) as DocBody;

describe('large document ingestion through a workflow', () => {
  let docId: string;

  it('answers 202 with a Location; the document waits, invisible to search, until a worker indexes it', async () => {
    const text = bigDocument('zephyrqueue', 90);
    expect(Buffer.byteLength(text)).toBeGreaterThan(INLINE_LIMIT);
    const res = await stack.call('POST', '/api/v1/knowledge', { body: { title: 'Zephyr queue handbook', text } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as DocBody;
    expect(res.headers.get('location')).toBe(`/api/v1/knowledge/docs/${body.id}`);
    expect(body).toMatchObject({ status: 'ingesting', progress: 0, chunksIndexed: 0, ingestionWorkflowId: `knowledge-ingest-${body.id}` });
    docId = body.id;

    // No worker yet: the run is durable and waits; the document is listed but not searchable.
    expect((await getDoc(docId)).status).toBe('ingesting');
    const search = (await (await stack.call('GET', '/api/v1/knowledge/search?q=zephyrqueue')).json()) as { items: { docId: string }[] };
    expect(search.items.some((hit) => hit.docId === docId)).toBe(false);
    // The same upload again joins the ingestion instead of starting a second one.
    const again = await stack.call('POST', '/api/v1/knowledge', { body: { title: 'Zephyr queue handbook', text } });
    expect(again.status).toBe(202);
    expect(((await again.json()) as DocBody).id).toBe(docId);
  });

  it('indexes it batch by batch with visible progress, then search finds it', async () => {
    const seen = new Set<number>();
    await stack.startWorker();
    const ready = await waitFor(
      async () => {
        const doc = await getDoc(docId);
        seen.add(doc.progress);
        return doc.status === 'ready' ? doc : null;
      },
      'the document to be ready',
      60_000,
    );
    expect(ready.chunkCount).toBeGreaterThan(INGEST_BATCH_CHUNKS * 2);
    expect(ready).toMatchObject({ chunksIndexed: ready.chunkCount, progress: 1, error: null, ingestionWorkflowId: null });
    expect([...seen].every((p) => p >= 0 && p <= 1)).toBe(true);

    const search = (await (await stack.call('GET', '/api/v1/knowledge/search?q=zephyrqueue+shard+17+dead+letters')).json()) as {
      items: { docId: string }[];
    };
    expect(search.items[0]?.docId).toBe(docId);

    // History holds ids and counts, never the document's text; each batch is one activity.
    const history = await stack.client.workflow.getHandle(`knowledge-ingest-${docId}`).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [],
    );
    expect(scheduled.filter((name) => name === 'indexDocumentBatch')).toHaveLength(Math.ceil(ready.chunkCount / INGEST_BATCH_CHUNKS));
    expect(scheduled[0]).toBe('chunkStagedDocument');
    expect(scheduled.at(-1)).toBe('completeDocumentIngestion');
    const progress = (await stack.client.workflow.getHandle(`knowledge-ingest-${docId}`).query('ingestionProgress')) as {
      phase: string;
      batchesDone: number;
    };
    expect(progress).toMatchObject({ phase: 'ready', batchesDone: Math.ceil(ready.chunkCount / INGEST_BATCH_CHUNKS) });
    const raw = JSON.stringify(history.events);
    expect(raw).not.toContain('drain consumers');
  });

  it('a rejected embeddings key fails the ingestion clearly, drops partial chunks, and the upload can be retried', async () => {
    embeddingsMode = 'reject';
    const text = bigDocument('quokkaqueue', 50);
    const res = await stack.call('POST', '/api/v1/knowledge', { body: { title: 'Quokka queue handbook', text } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as DocBody;
    const failed = await waitFor(
      async () => {
        const doc = await getDoc(id);
        return doc.status === 'failed' ? doc : null;
      },
      'the ingestion to fail',
      60_000,
    );
    expect(failed.error).toMatch(/401|Incorrect API key/);
    expect(failed.chunksIndexed).toBe(0);
    expect(failed.ingestionWorkflowId).toBe(`knowledge-ingest-${id}`);
    await expect(stack.client.workflow.getHandle(`knowledge-ingest-${id}`).result()).rejects.toThrow();

    embeddingsMode = 'ok';
    const retry = await stack.call('POST', '/api/v1/knowledge', { body: { title: 'Quokka queue handbook', text } });
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as DocBody).id).toBe(id);
    await waitFor(async () => (await getDoc(id)).status === 'ready', 'the retried ingestion', 60_000);
  });

  it('a document deleted during ingestion ends its workflow without error', async () => {
    const res = await stack.call('POST', '/api/v1/knowledge?async=true', {
      body: { title: 'Short note', text: 'rotate the wombat keys weekly' },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as DocBody;
    expect((await stack.call('DELETE', `/api/v1/knowledge/${id}`)).status).toBe(204);
    expect((await stack.call('GET', `/api/v1/knowledge/docs/${id}`)).status).toBe(404);
    // Whether the delete came before or after a step (the run's own phase says which), the run ends
    // without error and what a user sees is the same: no document, and nothing of it in search.
    const handle = stack.client.workflow.getHandle(`knowledge-ingest-${id}`);
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect((await stack.call('GET', `/api/v1/knowledge/docs/${id}`)).status).toBe(404);
    const hits = (await (await stack.call('GET', '/api/v1/knowledge/search?q=wombat%20keys')).json()) as { items: { docId: string }[] };
    expect(hits.items.filter((hit) => hit.docId === id)).toEqual([]);
  });

  it('async=false keeps a large document in the request; bad flags are 422', async () => {
    const text = bigDocument('ibisqueue', 30);
    const res = await stack.call('POST', '/api/v1/knowledge?async=false', { body: { title: 'Ibis handbook', text } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as DocBody).status).toBe('ready');
    expect((await stack.call('POST', '/api/v1/knowledge?async=maybe', { body: { title: 'x', text: 'y' } })).status).toBe(422);
    expect(embeddingRequests).toBeGreaterThan(0);
  });
});
