import { describe, expect, it } from 'vitest';
import { loadRunbooks, runbookToMarkdown } from '../../adapters/knowledge/runbook-files.js';
import { LexicalIndex } from '../../adapters/knowledge/lexical-index.js';
import { chunkDocument } from '../../core/chunking.js';

describe('chunkDocument', () => {
  it('splits by headings, keeps the heading path, and never loses text', () => {
    const doc =
      '# Payments\nintro line\n## Database\nprimary in eu-west\n### Failover\npromote the replica\n```\n# not a heading\n```\n## Queue\nsqs based';
    const chunks = chunkDocument(doc);
    expect(chunks.map((c) => c.section)).toEqual(['Payments', 'Payments > Database', 'Payments > Database > Failover', 'Payments > Queue']);
    expect(chunks[2]!.text).toContain('# not a heading');
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2, 3]);
  });

  it('cuts long sections by size with overlap', () => {
    const sentence = (i: number) => `Sentence number ${i} talks about the disk and the service.`;
    const long = `# Big\n${Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ')}`;
    const chunks = chunkDocument(long, { maxChars: 400, overlapChars: 80 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(400);
    for (let i = 0; i < 60; i += 1)
      expect(
        chunks.some((c) => c.text.includes(sentence(i))),
        `sentence ${i}`,
      ).toBe(true);
    const tail = chunks[0]!.text.slice(-40);
    expect(chunks[1]!.text).toContain(tail.slice(tail.indexOf(' ') + 1));
  });
});

describe('LexicalIndex', () => {
  it('retrieves the right runbook and keeps tenants apart', async () => {
    const index = new LexicalIndex();
    for (const runbook of await loadRunbooks()) {
      index.add(
        chunkDocument(runbookToMarkdown(runbook)).map((c) => ({
          id: `${runbook.id}#${c.index}`,
          docId: runbook.id,
          tenantId: null,
          kind: 'runbook',
          title: runbook.title,
          section: c.section,
          text: c.text,
        })),
      );
    }
    index.add([
      {
        id: 'acme-1',
        docId: 'acme-sop',
        tenantId: 'acme',
        kind: 'sop',
        title: 'Acme payments SOP',
        section: '',
        text: 'flush the ledger cache with ledgerctl',
      },
    ]);
    expect(index.query('No space left on device on the database volume', { tenantId: 'acme', k: 3 })[0]?.chunk.docId).toBe('disk-full');
    expect(index.query('ledgerctl cache flush', { tenantId: 'acme', k: 3 })[0]?.chunk.docId).toBe('acme-sop');
    expect(index.query('ledgerctl cache flush', { tenantId: 'globex', k: 3 }).map((h) => h.chunk.docId)).not.toContain('acme-sop');
    expect(index.query('certificate expired', { tenantId: null, k: 3, kinds: ['sop'] })).toEqual([]);
    index.removeDocument('disk-full');
    expect(index.query('No space left on device', { tenantId: null, k: 5 }).map((h) => h.chunk.docId)).not.toContain('disk-full');
  });
});
