import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbooksIntoKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// The knowledge endpoints over a real store: bundled runbooks as global knowledge, tenant SOPs,
// architecture documents, search, listing and deletion, tenant isolation.

let stack: TestStack;
let otherKey: string;
let operatorKey: string;

let runbookCount = 0;

beforeAll(async () => {
  stack = await startTestStack();
  otherKey = await stack.keyFor('globex', 'admin');
  operatorKey = await stack.keyFor('acme', 'operator');
  const runbooks = await loadRunbooks();
  runbookCount = runbooks.length;
  expect(await loadRunbooksIntoKnowledgeBase(stack.knowledge, runbooks)).toBe(runbooks.length);
  expect(await loadRunbooksIntoKnowledgeBase(stack.knowledge, runbooks)).toBe(0);
});

afterAll(async () => {
  await stack?.close();
});

type Hit = { docId: string; title: string; kind: string; global: boolean; text: string };
const search = async (q: string, key?: string) =>
  (
    (await (await stack.call('GET', `/api/v1/knowledge/search?q=${encodeURIComponent(q)}&k=3`, key ? { key } : {})).json()) as {
      items: Hit[];
    }
  ).items;

describe('knowledge base API', () => {
  it('finds the bundled runbook for an operator question', async () => {
    const [top] = await search('postgres writes fail with No space left on device');
    expect(top).toMatchObject({ kind: 'runbook', global: true, title: 'Filesystem or directory full' });
    expect((await search('terraform Error acquiring the state lock', otherKey))[0]?.title).toBe('Terraform state lock held');
  });

  it('ingests a tenant SOP once, finds it for that tenant only, and deletes it', async () => {
    const body = {
      title: 'Ledger service SOP',
      text: '# Ledger\n## Restart\nRun ledgerctl drain, then restart the ledger workers.\n## Escalation\nPage the payments team.',
    };
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
    // The global documents so far are the bundled runbooks (architecture documents come later).
    expect(docs.items.filter((d) => d.global).length).toBe(runbookCount);

    expect((await stack.call('DELETE', `/api/v1/knowledge/${doc.id}`, { key: otherKey })).status).toBe(404);
    expect((await stack.call('DELETE', `/api/v1/knowledge/${doc.id}`)).status).toBe(204);
    expect((await search('ledgerctl drain')).map((h) => h.docId)).not.toContain(doc.id);
  });

  it('keeps global architecture documents to admins and shows them to every tenant', async () => {
    const body = {
      title: 'Platform architecture',
      text: '# Platform\nAll traffic enters through the zephyr gateway in front of the mesh.',
    };
    expect((await stack.call('POST', '/api/v1/knowledge/architecture', { key: operatorKey, body })).status).toBe(403);
    const created = await stack.call('POST', '/api/v1/knowledge/architecture', { body });
    expect(created.status).toBe(201);
    expect((await search('zephyr gateway', otherKey))[0]).toMatchObject({ kind: 'architecture', global: true });
  });

  it('ingests uploaded Markdown and PDF files, and refuses other types', async () => {
    const { PDFDocument, StandardFonts } = await import('pdf-lib');
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    pdf.addPage().drawText('Quasar cluster failover: promote the standby with quasarctl promote', { x: 50, y: 700, size: 12, font });
    const upload = async (file: File, extra: Record<string, string> = {}, key?: string) => {
      const form = new FormData();
      form.set('file', file);
      for (const [name, value] of Object.entries(extra)) form.set(name, value);
      return stack.app.request('/api/v1/knowledge', {
        method: 'POST',
        body: form,
        headers: { authorization: `Bearer ${key ?? stack.adminKey}` },
      });
    };

    const pdfResponse = await upload(new File([await pdf.save()], 'quasar-failover.pdf', { type: 'application/pdf' }));
    expect(pdfResponse.status).toBe(201);
    expect(await pdfResponse.json()).toMatchObject({
      title: 'quasar-failover',
      contentType: 'application/pdf',
      source: 'quasar-failover.pdf',
      kind: 'sop',
    });
    expect((await search('quasarctl promote standby'))[0]).toMatchObject({ title: 'quasar-failover', global: false });

    const md = await upload(new File(['# Nimbus\n## Restart\nUse nimbusctl bounce.'], 'nimbus.md', { type: 'text/markdown' }), {
      title: 'Nimbus SOP',
      kind: 'runbook',
    });
    expect(md.status).toBe(201);
    expect(await md.json()).toMatchObject({ title: 'Nimbus SOP', kind: 'runbook', chunkCount: 2 });

    const image = await upload(new File([new Uint8Array([137, 80, 78, 71])], 'diagram.png', { type: 'image/png' }));
    expect(image.status).toBe(415);
    expect(image.headers.get('content-type')).toContain('application/problem+json');
    const broken = await upload(new File(['%PDF-1.7 not really'], 'broken.pdf', { type: 'application/pdf' }));
    expect(broken.status).toBe(415);
    const noFile = new FormData();
    noFile.set('title', 'x');
    expect(
      (
        await stack.app.request('/api/v1/knowledge', {
          method: 'POST',
          body: noFile,
          headers: { authorization: `Bearer ${stack.adminKey}` },
        })
      ).status,
    ).toBe(422);
    // Multipart is accepted only for document uploads.
    const elsewhere = new FormData();
    elsewhere.set('tagId', 'x');
    expect(
      (await stack.app.request('/api/v1/cmdb', { method: 'POST', body: elsewhere, headers: { authorization: `Bearer ${stack.adminKey}` } }))
        .status,
    ).toBe(415);
  });

  it('validates input', async () => {
    expect((await stack.call('GET', '/api/v1/knowledge/search?q=')).status).toBe(422);
    expect((await stack.call('GET', '/api/v1/knowledge/search?q=disk&k=0')).status).toBe(422);
    expect((await stack.call('POST', '/api/v1/knowledge', { body: { title: 'x', text: 'y', secret: true } })).status).toBe(422);
    expect((await stack.call('POST', '/api/v1/knowledge', { body: { title: 'x', text: '' } })).status).toBe(422);
    expect((await stack.call('DELETE', '/api/v1/knowledge/not-a-uuid')).status).toBe(404);
    expect((await stack.call('POST', '/api/v1/knowledge')).status).toBe(415);
  });
});
