import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  openPineconeVectorIndex,
  type PineconeVectorIndex,
  type PineconeVectorIndexOptions,
} from '../../adapters/knowledge/pinecone-vector-index.js';
import { InMemoryVectorIndex } from '../../adapters/knowledge/memory-vector-index.js';
import { VectorIndexError, type VectorRecord } from '../../adapters/knowledge/port.js';
import { FakePinecone } from '../support/fake-pinecone.js';
import { axisVector, describeVectorIndexContract } from '../support/vector-index-contract.js';

// The VectorIndex contract for every adapter: in memory, Pinecone against a local server that
// speaks Pinecone's REST protocol (plain http on 127.0.0.1, reached by passing
// `indexHost: 'http://127.0.0.1:PORT'`, which the SDK uses as is), and Pinecone live when a key and
// an index are configured. The local server also lets us check the requests' shape and the error mapping.

const API_KEY = `pcsk_test_${randomUUID().replaceAll('-', '')}`;

describeVectorIndexContract('memory', async () => new InMemoryVectorIndex());

describe('pinecone (local protocol server)', () => {
  let fake: FakePinecone;
  beforeAll(async () => {
    fake = await FakePinecone.start({ apiKey: API_KEY, indexName: 'kb', dimension: 8 });
  });
  afterAll(async () => {
    await fake?.close();
  });

  describeVectorIndexContract('pinecone (local protocol server)', () =>
    openPineconeVectorIndex({ apiKey: API_KEY, indexName: 'kb', indexHost: fake.url, namespace: 'contract' }),
  );

  describe('requests', () => {
    const namespace = 'shape';
    let index: PineconeVectorIndex;
    const open = (extra: Partial<PineconeVectorIndexOptions> = {}) =>
      openPineconeVectorIndex({ apiKey: API_KEY, indexName: 'kb', indexHost: fake.url, namespace, ...extra });
    const records = (docId: string, count: number, tenantId: string | null = 't1'): VectorRecord[] =>
      Array.from({ length: count }, (_, n) => ({
        chunkId: `${docId}#${n}`,
        docId,
        tenantId,
        kind: 'runbook',
        values: axisVector(n % 8, 0.5),
      }));

    beforeAll(async () => {
      index = await open();
    });
    beforeEach(() => {
      fake.clearRequests();
    });

    it('sends the API key and API version headers, and makes no control-plane call when given indexHost', async () => {
      await index.upsert(records('hdr', 1));
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /vectors/upsert']);
      const { headers } = fake.requests[0]!;
      expect(headers['api-key']).toBe(API_KEY);
      expect(headers['x-pinecone-api-version']).toMatch(/^\d{4}-\d{2}/);
      expect(headers['content-type']).toBe('application/json');
    });

    it('upserts in batches of 100 with docId, tenantId and kind as metadata', async () => {
      await index.upsert([...records('batch', 249), ...records('batch-global', 1, null)]);
      const upserts = fake.requestsTo('POST', '/vectors/upsert');
      expect(upserts).toHaveLength(3);
      const bodies = upserts.map((r) => r.body as { namespace: string; vectors: { id: string; values: number[]; metadata: unknown }[] });
      expect(bodies.map((b) => b.vectors.length)).toEqual([100, 100, 50]);
      expect(bodies.every((b) => b.namespace === namespace)).toBe(true);
      expect(bodies[0]!.vectors[0]).toEqual({
        id: 'batch#0',
        values: axisVector(0, 0.5),
        metadata: { docId: 'batch', tenantId: 't1', kind: 'runbook' },
      });
      // Pinecone metadata cannot hold null: global documents are stored under '__global__'.
      expect(bodies[2]!.vectors.at(-1)).toMatchObject({
        id: 'batch-global#0',
        metadata: { docId: 'batch-global', tenantId: '__global__', kind: 'runbook' },
      });
      expect(fake.ids(namespace).filter((id) => id.startsWith('batch'))).toHaveLength(250);
    });

    it('makes no request for an empty upsert, topK 0 or an empty kinds list', async () => {
      await index.upsert([]);
      expect(await index.query(axisVector(0), { tenantId: 't1', topK: 0 })).toEqual([]);
      expect(await index.query(axisVector(0), { tenantId: 't1', topK: 5, kinds: [] })).toEqual([]);
      expect(fake.requests).toEqual([]);
    });

    it('queries with the tenant-or-global filter, the kinds and metadata but no values', async () => {
      await index.query(axisVector(1), { tenantId: 't1', topK: 7, kinds: ['runbook', 'sop'] });
      await index.query(axisVector(1), { tenantId: 't1', topK: 3 });
      await index.query(axisVector(1), { tenantId: null, topK: 3 });
      const bodies = fake.requestsTo('POST', '/query').map((r) => r.body);
      expect(bodies[0]).toEqual({
        namespace,
        topK: 7,
        vector: axisVector(1),
        filter: { tenantId: { $in: ['t1', '__global__'] }, kind: { $in: ['runbook', 'sop'] } },
        includeMetadata: true,
        includeValues: false,
      });
      expect(bodies[1]).toMatchObject({ topK: 3, filter: { tenantId: { $in: ['t1', '__global__'] } } });
      expect((bodies[1] as { filter: object }).filter).not.toHaveProperty('kind');
      expect(bodies[2]).toMatchObject({ filter: { tenantId: { $in: ['__global__'] } } });
    });

    it('deletes a document by listing its id prefix page by page and deleting in batches of 1000', async () => {
      await index.upsert([...records('big', 1001), ...records('big0', 2), ...records('other', 3)]);
      fake.clearRequests();
      await index.deleteDocument('big');
      const lists = fake.requestsTo('GET', '/vectors/list');
      expect(lists).toHaveLength(11); // 100 ids a page
      expect(lists.every((r) => r.query.prefix === 'big#' && r.query.namespace === namespace)).toBe(true);
      expect(lists[0]!.query.paginationToken).toBeUndefined();
      expect(lists.slice(1).every((r) => typeof r.query.paginationToken === 'string')).toBe(true);
      const deletes = fake.requestsTo('POST', '/vectors/delete').map((r) => r.body as { ids: string[]; namespace: string });
      expect(deletes.map((d) => d.ids.length)).toEqual([1000, 1]);
      expect(deletes.every((d) => d.namespace === namespace)).toBe(true);
      const left = fake.ids(namespace);
      expect(left.filter((id) => id.startsWith('big#'))).toEqual([]);
      expect(left.filter((id) => id.startsWith('big0#') || id.startsWith('other#'))).toHaveLength(5);
    });

    it('deleting an unknown document lists once and deletes nothing', async () => {
      await index.deleteDocument('never-upserted');
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /vectors/list']);
    });

    it('resolves the host through the control plane (describeIndex) when no indexHost is given', async () => {
      const viaControlPlane = await openPineconeVectorIndex({ apiKey: API_KEY, indexName: 'kb', controllerHostUrl: fake.url, namespace });
      await viaControlPlane.query(axisVector(0), { tenantId: 't1', topK: 1 });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /indexes/kb', 'POST /query']);
      expect(fake.requests[0]!.headers['api-key']).toBe(API_KEY);
      expect(fake.requests[0]!.headers['x-pinecone-api-version']).toMatch(/^\d{4}-\d{2}/);
    });

    it('clear() empties the namespace, and tolerates a missing one', async () => {
      const scratch = await open({ namespace: 'scratch' });
      await scratch.upsert(records('s', 3));
      await scratch.clear();
      expect(fake.ids('scratch')).toEqual([]);
      await expect(scratch.clear()).resolves.toBeUndefined();
      expect(fake.requestsTo('POST', '/vectors/delete').map((r) => r.body)).toEqual([
        { deleteAll: true, namespace: 'scratch' },
        { deleteAll: true, namespace: 'scratch' },
      ]);
    });
  });

  describe('errors', () => {
    const failure = async (run: () => Promise<unknown>): Promise<VectorIndexError> => {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VectorIndexError);
      return err as VectorIndexError;
    };
    const expectNoKey = (err: VectorIndexError, ...keys: string[]) => {
      for (const key of keys) {
        expect(err.message).not.toContain(key);
        expect(inspect(err, { depth: 10 })).not.toContain(key);
      }
    };
    const open = (extra: Partial<PineconeVectorIndexOptions> = {}) =>
      openPineconeVectorIndex({ apiKey: API_KEY, indexName: 'kb', indexHost: fake.url, namespace: 'errors', ...extra });

    beforeEach(() => {
      fake.clearRequests();
    });

    it('a rejected API key (401) is not retryable and the key is not in the error', async () => {
      const wrongKey = `pcsk_wrong_${randomUUID()}`;
      const index = await open({ apiKey: wrongKey });
      const err = await failure(() => index.query(axisVector(0), { tenantId: 't1', topK: 1 }));
      expect(err).toMatchObject({ name: 'VectorIndexError', retryable: false, status: 401, operation: 'query', backend: 'pinecone' });
      expect(fake.requests[0]!.headers['api-key']).toBe(wrongKey);
      expectNoKey(err, wrongKey, API_KEY);
    });

    it('a server error (500) is retryable', async () => {
      const index = await open({ maxRetries: 0 });
      fake.failNext(500);
      const err = await failure(() => index.upsert([{ chunkId: 'e#0', docId: 'e', tenantId: 't1', kind: 'sop', values: axisVector(0) }]));
      expect(err).toMatchObject({ retryable: true, operation: 'upsert' });
      expect(fake.requests).toHaveLength(1);
      expectNoKey(err, API_KEY);
    });

    it('a 503 that persists through the SDK retries is retryable', async () => {
      const index = await open({ maxRetries: 1 });
      fake.failNext(503, 2);
      const err = await failure(() => index.deleteDocument('e'));
      expect(err).toMatchObject({ retryable: true, operation: 'deleteDocument' });
      expect(fake.requests).toHaveLength(2);
    });

    it('a transient 503 is retried inside the SDK and the call succeeds', async () => {
      const index = await open({ maxRetries: 1 });
      fake.failNext(503, 1);
      await index.upsert([{ chunkId: 'r#0', docId: 'r', tenantId: 't1', kind: 'sop', values: axisVector(0) }]);
      expect(fake.requestsTo('POST', '/vectors/upsert')).toHaveLength(2);
      expect(fake.ids('errors')).toContain('r#0');
    });

    it('rate limiting (429) is retryable', async () => {
      const index = await open();
      fake.failNext(429, 1, 'Request was rate limited');
      const err = await failure(() => index.query(axisVector(0), { tenantId: 't1', topK: 1 }));
      expect(err).toMatchObject({ retryable: true, status: 429 });
      expect(fake.requests).toHaveLength(1); // the SDK retries 5xx only
      expectNoKey(err, API_KEY);
    });

    it('a bad request (400) is not retryable', async () => {
      const index = await open();
      const err = await failure(() => index.query([1, 0, 0], { tenantId: 't1', topK: 1 }));
      expect(err).toMatchObject({ retryable: false, status: 400 });
      expect(err.message).toContain('dimension');
    });

    it('an unknown index (404 from describeIndex) is not retryable', async () => {
      const err = await failure(() => openPineconeVectorIndex({ apiKey: API_KEY, indexName: 'missing', controllerHostUrl: fake.url }));
      expect(err).toMatchObject({ retryable: false, status: 404, operation: 'open' });
    });

    it('a network failure is retryable', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const index = await open({ indexHost: `http://127.0.0.1:${port}` });
      const err = await failure(() => index.query(axisVector(0), { tenantId: 't1', topK: 1 }));
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expectNoKey(err, API_KEY);
    });
  });
});

// Live Pinecone: needs PINECONE_API_KEY and PINECONE_INDEX naming a dimension-8 cosine index
// (PINECONE_INDEX_HOST optional). Each run works in its own namespace and removes it afterwards.
const liveKey = process.env.PINECONE_API_KEY?.trim();
const liveIndex = process.env.PINECONE_INDEX?.trim();
const live = Boolean(liveKey && liveIndex);
if (!live) console.info('Pinecone live contract skipped: set PINECONE_API_KEY and PINECONE_INDEX (a dimension-8 cosine index) to run it.');

describe.skipIf(!live)(
  live ? 'pinecone (live)' : 'pinecone (live) skipped: set PINECONE_API_KEY and PINECONE_INDEX (dimension 8, cosine)',
  () => {
    const namespace = `infraai-test-${randomUUID()}`;
    let opened: PineconeVectorIndex | undefined;
    afterAll(async () => {
      await opened?.clear();
    });
    describeVectorIndexContract(
      'pinecone (live)',
      async () =>
        (opened = await openPineconeVectorIndex({
          apiKey: liveKey!,
          indexName: liveIndex!,
          indexHost: process.env.PINECONE_INDEX_HOST?.trim() || undefined,
          namespace,
        })),
      { eventuallyConsistent: true },
    );
  },
);
