import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbooksIntoKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// The knowledge endpoints over a real store: bundled runbooks as global knowledge, tenant SOPs,
// architecture documents, search, listing and deletion, tenant isolation.

let stack: TestStack;
let otherKey: string;
let operatorKey: string;

beforeAll(async () => {
  stack = await startTestStack();
  otherKey = await stack.keyFor('globex', 'admin');
  operatorKey = await stack.keyFor('acme', 'operator');
  const runbooks = await loadRunbooks();
  expect(await loadRunbooksIntoKnowledgeBase(stack.knowledge, runbooks)).toBe(runbooks.length);
  expect(await loadRunbooksIntoKnowledgeBase(stack.knowledge, runbooks)).toBe(0);
});

afterAll(async () => {
  await stack?.close();
});

type Hit = { docId: string; title: string; kind: string; global: boolean; text: string };
const search = async (q: string, key?: string) =>
  ((await (await stack.call('GET', `/api/v1/knowledge/search?q=${encodeURIComponent(q)}&k=3`, key ? { key } : {})).json()) as { items: Hit[] }).items;

describe('knowledge base API', () => {
  it('finds the bundled runbook for an operator question', async () => {
    const [top] = await search('postgres writes fail with No space left on device');
    expect(top).toMatchObject({ kind: 'runbook', global: true, title: 'Filesystem or directory full' });
    expect((await search('terraform Error acquiring the state lock', otherKey))[0]?.title).toBe('Terraform state lock held');
  });

  it('ingests a tenant SOP once, finds it for that tenant only, and deletes it', async () => {
    const body = { title: 'Ledger service SOP', text: '# Ledger\n## Restart\nRun ledgerctl drain, then restart the ledger workers.\n## Escalation\nPage the payments team.' };
    const created = await stack.call('POST', '/api/v1/knowledge', { key: operatorKey, body });
    expect(created.status).toBe(201);
    const doc = (await created.json()) as { id: string; chunkCount: number; global: boolean };
    expect(doc).toMatchObject({ chunkCount: 3, global: false });
    const repeat = await stack.call('POST', '/api/v1/knowledge', { key: operatorKey, body });
    expect(repeat.status).toBe(200);
    expect(((await repeat.json()) as { id: string }).id).toBe(doc.id);

    expect((await search('ledgerctl drain'))[0]).toMatchObject({ docId: doc.id, global: false });
    expect((await search('ledgerctl drain', otherKey)).map((h) => h.docId)).not.toContain(doc.id);
    const docs = (await (await stack.call('GET', '/api/v1/knowledge/docs')).json()) as { items: { id: string; global: boolean }[] };
    expect(docs.items.find((d) => d.id === doc.id)).toMatchObject({ global: false });
    expect(docs.items.filter((d) => d.global).length).toBeGreaterThanOrEqual(14);

    expect((await stack.call('DELETE', `/api/v1/knowledge/${doc.id}`, { key: otherKey })).status).toBe(404);
    expect((await stack.call('DELETE', `/api/v1/knowledge/${doc.id}`)).status).toBe(204);
    expect((await search('ledgerctl drain')).map((h) => h.docId)).not.toContain(doc.id);
  });

  it('keeps global architecture documents to admins and shows them to every tenant', async () => {
    const body = { title: 'Platform architecture', text: '# Platform\nAll traffic enters through the zephyr gateway in front of the mesh.' };
    expect((await stack.call('POST', '/api/v1/knowledge/architecture', { key: operatorKey, body })).status).toBe(403);
    const created = await stack.call('POST', '/api/v1/knowledge/architecture', { body });
    expect(created.status).toBe(201);
    expect((await search('zephyr gateway', otherKey))[0]).toMatchObject({ kind: 'architecture', global: true });
  });

  it('validates input', async () => {
    expect((await stack.call('GET', '/api/v1/knowledge/search?q=')).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/knowledge/search?q=disk&k=0')).status).toBe(422);
    expect((await stack.call('POST', '/api/v1/knowledge', { body: { title: 'x', text: 'y', secret: true } })).status).toBe(422);
    expect((await stack.call('POST', '/api/v1/knowledge', { body: { title: 'x', text: '' } })).status).toBe(422);
    expect((await stack.call('DELETE', '/api/v1/knowledge/not-a-uuid')).status).toBe(404);
  });
});
