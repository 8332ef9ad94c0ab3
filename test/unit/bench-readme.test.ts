import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadmeSectionMissingError, renderTables, updateReadmeSection } from '../../bench/lib.js';

// The benchmarks rewrite their README tables between markers; everything outside them stays as written.

let dir: string;
let readme: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infraai-bench-readme-'));
  readme = join(dir, 'README.md');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('updateReadmeSection', () => {
  it('replaces only what lies between the section markers', async () => {
    await writeFile(
      readme,
      [
        'intro',
        '<!-- bench:api -->',
        'old table',
        '<!-- /bench:api -->',
        'between',
        '<!-- bench:intake -->',
        'kept',
        '<!-- /bench:intake -->',
        'outro',
        '',
      ].join('\n'),
    );
    const markdown = renderTables([{ title: 'Reads', columns: ['endpoint', 'req/s'], rows: [['GET /me', 1200]] }], ['Machine: test.'], 4);
    await updateReadmeSection('api', markdown, readme);
    expect(await readFile(readme, 'utf8')).toBe(
      [
        'intro',
        '<!-- bench:api -->',
        '#### Reads',
        '',
        '| endpoint | req/s |',
        '| --- | --- |',
        '| GET /me | 1200 |',
        '',
        '- Machine: test.',
        '<!-- /bench:api -->',
        'between',
        '<!-- bench:intake -->',
        'kept',
        '<!-- /bench:intake -->',
        'outro',
        '',
      ].join('\n'),
    );
  });

  it('refuses a README without the markers and leaves it unchanged', async () => {
    await writeFile(readme, 'no markers here\n');
    await expect(updateReadmeSection('worker-memory', 'table', readme)).rejects.toBeInstanceOf(ReadmeSectionMissingError);
    expect(await readFile(readme, 'utf8')).toBe('no markers here\n');
  });
});
