import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnowledgeKind } from '../../adapters/store/port.js';
import type { VectorIndex, VectorMatch, VectorQuery, VectorRecord } from '../../adapters/knowledge/port.js';

// One contract for the VectorIndex port: every adapter (in-memory, Pinecone) must pass it.
// Ids are random per run and every test uses its own tenants and documents, so the suite can run
// against a shared index. An eventually consistent backend (live Pinecone) is polled until the
// expectation holds instead of asserted once.

const DIM = 8;
const POLL_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 1_000;

/** A unit-ish 8-dimensional vector pointing mostly along `axis`, tilted towards `axis + 1`. */
export const axisVector = (axis: number, tilt = 0): number[] => {
  const v = new Array<number>(DIM).fill(0);
  v[axis % DIM] = 1;
  if (tilt) v[(axis + 1) % DIM] = tilt;
  return v;
};

export interface VectorIndexContractOptions {
  /** Writes become visible after a delay: poll (up to ~60 s) until each expectation holds. */
  eventuallyConsistent?: boolean;
}

export function describeVectorIndexContract(
  name: string,
  open: () => Promise<VectorIndex>,
  options: VectorIndexContractOptions = {},
): void {
  const eventual = options.eventuallyConsistent === true;

  describe(`vector index contract: ${name}`, eventual ? { timeout: 5 * POLL_TIMEOUT_MS } : {}, () => {
    let index: VectorIndex;
    const run = randomUUID().slice(0, 8);
    const created = new Set<string>();
    let counter = 0;
    const newDoc = (label: string) => {
      const docId = `vic-${run}-${label}-${(counter += 1)}`;
      created.add(docId);
      return docId;
    };
    const newTenant = (label: string) => `tenant-${run}-${label}-${(counter += 1)}`;
    const record = (
      docId: string,
      n: number,
      values: number[],
      tenantId: string | null,
      kind: KnowledgeKind = 'runbook',
    ): VectorRecord => ({
      chunkId: `${docId}#${n}`,
      docId,
      tenantId,
      kind,
      values,
    });

    /** Runs `check` once, or for an eventually consistent index until it passes (up to ~60 s). */
    const eventually = async (check: () => Promise<void>): Promise<void> => {
      if (!eventual) return check();
      const deadline = Date.now() + POLL_TIMEOUT_MS;
      for (;;) {
        try {
          return await check();
        } catch (err) {
          if (Date.now() >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        }
      }
    };
    const query = (vector: number[], q: VectorQuery) => index.query(vector, q);
    const ids = (matches: VectorMatch[]) => matches.map((m) => m.chunkId);
    const expectWellFormed = (matches: VectorMatch[], topK: number) => {
      expect(matches.length).toBeLessThanOrEqual(topK);
      expect(new Set(ids(matches)).size).toBe(matches.length);
      for (let i = 1; i < matches.length; i++) expect(matches[i]!.score).toBeLessThanOrEqual(matches[i - 1]!.score);
    };

    beforeAll(async () => {
      index = await open();
    });
    afterAll(async () => {
      if (!index) return;
      for (const docId of created) await index.deleteDocument(docId);
    });

    it('has a name', () => {
      expect(index.name).toMatch(/\S/);
    });

    it('upserting nothing is a no-op', async () => {
      await expect(index.upsert([])).resolves.toBeUndefined();
    });

    it('returns the nearest chunk first, with cosine scores', async () => {
      const tenant = newTenant('nearest');
      const doc = newDoc('nearest');
      await index.upsert([
        record(doc, 0, axisVector(0), tenant),
        record(doc, 1, axisVector(1), tenant),
        record(doc, 2, axisVector(1, 0.5), tenant),
      ]);
      await eventually(async () => {
        const matches = await query(axisVector(1), { tenantId: tenant, topK: 3 });
        expectWellFormed(matches, 3);
        expect(ids(matches)).toEqual([`${doc}#1`, `${doc}#2`, `${doc}#0`]);
        expect(matches.every((m) => m.docId === doc)).toBe(true);
        expect(matches[0]!.score).toBeCloseTo(1, 3);
        expect(matches[1]!.score).toBeCloseTo(1 / Math.sqrt(1.25), 3);
        expect(matches[2]!.score).toBeCloseTo(0, 3);
      });
    });

    it('isolates tenants: each sees its own and the global chunks, never the other tenant', async () => {
      const [a, b] = [newTenant('a'), newTenant('b')];
      const [docA, docB, docG] = [newDoc('iso-a'), newDoc('iso-b'), newDoc('iso-global')];
      await index.upsert([
        record(docA, 0, axisVector(2), a),
        record(docB, 0, axisVector(2, 0.1), b),
        record(docG, 0, axisVector(2, 0.2), null),
      ]);
      const mine = (matches: VectorMatch[]) => matches.filter((m) => [docA, docB, docG].includes(m.docId)).map((m) => m.docId);
      await eventually(async () => {
        const seenByA = await query(axisVector(2), { tenantId: a, topK: 10 });
        expectWellFormed(seenByA, 10);
        expect(mine(seenByA)).toEqual([docA, docG]);
        const seenByB = await query(axisVector(2), { tenantId: b, topK: 10 });
        expect(mine(seenByB)).toEqual([docB, docG]);
        // No tenant (a global-only caller) sees only the global document.
        const seenByNobody = await query(axisVector(2), { tenantId: null, topK: 10 });
        expect(mine(seenByNobody)).toEqual([docG]);
        // A tenant with no documents of its own still sees the global one.
        const seenByOther = await query(axisVector(2), { tenantId: newTenant('other'), topK: 10 });
        expect(mine(seenByOther)).toEqual([docG]);
      });
      // Global chunks are visible to every later test's tenants: take this one away again.
      await index.deleteDocument(docG);
      await eventually(async () => {
        expect(ids(await query(axisVector(2), { tenantId: a, topK: 10 }))).not.toContain(`${docG}#0`);
      });
    });

    it('filters by kind', async () => {
      const tenant = newTenant('kinds');
      const [runbook, sop, architecture] = [newDoc('kind-runbook'), newDoc('kind-sop'), newDoc('kind-arch')];
      await index.upsert([
        record(runbook, 0, axisVector(3), tenant, 'runbook'),
        record(sop, 0, axisVector(3, 0.1), tenant, 'sop'),
        record(architecture, 0, axisVector(3, 0.2), tenant, 'architecture'),
      ]);
      const docs = (matches: VectorMatch[]) => matches.map((m) => m.docId).sort();
      await eventually(async () => {
        expect(docs(await query(axisVector(3), { tenantId: tenant, topK: 10 }))).toEqual([runbook, sop, architecture].sort());
        expect(docs(await query(axisVector(3), { tenantId: tenant, topK: 10, kinds: ['runbook'] }))).toEqual([runbook]);
        expect(docs(await query(axisVector(3), { tenantId: tenant, topK: 10, kinds: ['sop', 'architecture'] }))).toEqual(
          [sop, architecture].sort(),
        );
        expect(await query(axisVector(3), { tenantId: tenant, topK: 10, kinds: ['doc'] })).toEqual([]);
        expect(await query(axisVector(3), { tenantId: tenant, topK: 10, kinds: [] })).toEqual([]);
      });
    });

    it('replaces a chunk upserted again under the same chunk id (values and metadata)', async () => {
      const tenant = newTenant('replace');
      const doc = newDoc('replace');
      await index.upsert([record(doc, 0, axisVector(4), tenant, 'runbook')]);
      await eventually(async () => {
        expect(ids(await query(axisVector(4), { tenantId: tenant, topK: 5 }))).toEqual([`${doc}#0`]);
      });
      await index.upsert([record(doc, 0, axisVector(5), tenant, 'sop')]);
      await eventually(async () => {
        const matches = await query(axisVector(5), { tenantId: tenant, topK: 5 });
        expect(ids(matches)).toEqual([`${doc}#0`]);
        expect(matches[0]!.score).toBeCloseTo(1, 3);
        expect(await query(axisVector(5), { tenantId: tenant, topK: 5, kinds: ['runbook'] })).toEqual([]);
        expect(ids(await query(axisVector(5), { tenantId: tenant, topK: 5, kinds: ['sop'] }))).toEqual([`${doc}#0`]);
      });
    });

    it('deleteDocument removes only that document, not one whose id merely starts the same', async () => {
      const tenant = newTenant('delete');
      const doc = newDoc('del');
      const sibling = `${doc}0`; // `…-del-N0`: shares the id prefix but not `${doc}#`
      created.add(sibling);
      const keep = newDoc('keep');
      await index.upsert([
        record(doc, 0, axisVector(6), tenant),
        record(doc, 1, axisVector(6, 0.1), tenant),
        record(doc, 2, axisVector(6, 0.2), tenant),
        record(sibling, 0, axisVector(6, 0.3), tenant),
        record(keep, 0, axisVector(6, 0.4), tenant),
      ]);
      await eventually(async () => {
        expect(await query(axisVector(6), { tenantId: tenant, topK: 10 })).toHaveLength(5);
      });
      await index.deleteDocument(doc);
      await eventually(async () => {
        const matches = await query(axisVector(6), { tenantId: tenant, topK: 10 });
        expect(matches.map((m) => m.docId).sort()).toEqual([keep, sibling].sort());
      });
    });

    it('deleting an unknown document is not an error', async () => {
      await expect(index.deleteDocument(`vic-${run}-never-${randomUUID()}`)).resolves.toBeUndefined();
    });

    it('bounds the answer by topK', async () => {
      const tenant = newTenant('topk');
      const doc = newDoc('topk');
      await index.upsert(Array.from({ length: 6 }, (_, n) => record(doc, n, axisVector(7, n / 10), tenant)));
      await eventually(async () => {
        const all = await query(axisVector(7), { tenantId: tenant, topK: 100 });
        expectWellFormed(all, 100);
        expect(all).toHaveLength(6);
        const two = await query(axisVector(7), { tenantId: tenant, topK: 2 });
        expectWellFormed(two, 2);
        expect(ids(two)).toEqual([`${doc}#0`, `${doc}#1`]);
        const one = await query(axisVector(7), { tenantId: tenant, topK: 1 });
        expect(ids(one)).toEqual([`${doc}#0`]);
      });
    });
  });
}
