import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConfluenceClient } from '../../adapters/confluence/create.js';
import {
  ConfluenceAuthError,
  ConfluenceInvalidRequestError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
  type ConfluenceClient,
} from '../../adapters/confluence/port.js';
import { createConfluenceTools } from '../../tools/confluence.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError } from '../../tools/tool.js';
import { FakeConfluence } from '../support/fake-confluence.js';
import { toolContext } from '../support/integration-tool-context.js';

// The Confluence adapter and tools against a local server that speaks Confluence Cloud's v1 search
// and v2 pages APIs: exact requests, cursor and offset paging, storage XHTML as text, error mapping;
// then the tools through the registry.

const EMAIL = 'ops-bot@example.com';
const API_TOKEN = `ATATT3x${Date.now()}CfL0`;
const BASIC = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`;

const RUNBOOK = [
  '<h1>Payments DB failover</h1>',
  '<p>Use this when the <strong>primary</strong> is down &mdash; see <a href="https://status.example.com">status</a> and ',
  '<ac:link><ri:page ri:content-title="DB topology" /></ac:link>.</p>',
  '<ac:structured-macro ac:name="warning" ac:schema-version="1"><ac:parameter ac:name="title">Careful</ac:parameter>',
  '<ac:rich-text-body><p>Never promote both replicas.</p></ac:rich-text-body></ac:structured-macro>',
  '<ol><li><p>Check replication</p><ul><li>lag &lt; 5 s</li><li>no errors</li></ul></li><li>Promote the replica</li></ol>',
  '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>',
  '<ac:plain-text-body><![CDATA[pg_ctl promote -D /var/lib/pgsql/data && echo "<done>"]]></ac:plain-text-body></ac:structured-macro>',
  '<table><tbody><tr><th>Host</th><th>Role</th></tr><tr><td>db-1</td><td>primary</td></tr></tbody></table>',
  '<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Page on-call</ac:task-body></ac:task>',
  '<ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Write the postmortem</ac:task-body></ac:task></ac:task-list>',
].join('');

async function failure<E extends Error>(run: () => Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    const shown = `${String(err)} ${inspect(err)} ${JSON.stringify(err)}`;
    expect(shown).not.toContain(API_TOKEN);
    expect(shown).not.toContain(BASIC.slice(6));
    return err as E;
  }
  throw new Error('expected the call to fail');
}

describe('confluence adapter (local Confluence Cloud server)', () => {
  let fake: FakeConfluence;
  let confluence: ConfluenceClient;
  let runbookId: string;

  beforeAll(async () => {
    fake = await FakeConfluence.start({ email: EMAIL, apiToken: API_TOKEN });
    confluence = await createConfluenceClient({ baseUrl: fake.baseUrl, email: EMAIL, apiToken: API_TOKEN });
    fake.addSpace('OPS', 'Operations');
    fake.addSpace('ENG', 'Engineering');
    runbookId = fake.addPage({ spaceKey: 'OPS', title: 'Payments DB failover', storage: RUNBOOK, labels: ['runbook'] }).id;
    for (let i = 1; i <= 12; i++)
      fake.addPage({ spaceKey: 'ENG', title: `Service ${i} failover notes`, storage: `<p>How service ${i} fails over.</p>` });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
  });

  it('searches with GET /wiki/rest/api/search: the CQL and limit, Basic auth; excerpts without highlight markers', async () => {
    const result = await confluence.searchPages('type = page AND space = OPS AND text ~ "failover"', { limit: 5 });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe('GET /wiki/rest/api/search');
    expect(request!.query).toEqual({ cql: 'type = page AND space = OPS AND text ~ "failover"', limit: '5' });
    expect(request!.headers.authorization).toBe(BASIC);
    expect(request!.headers.accept).toBe('application/json');

    expect(result).toMatchObject({ totalSize: 1, nextCursor: null });
    expect(result.results).toHaveLength(1);
    const hit = result.results[0]!;
    expect(hit).toMatchObject({ id: runbookId, type: 'page', title: 'Payments DB failover', space: 'Operations' });
    expect(hit.url).toBe(`${fake.baseUrl}/wiki/spaces/OPS/pages/${runbookId}/Payments%2BDB%2Bfailover`);
    expect(hit.excerpt).toContain('Payments DB failover Use this when the primary is down');
    expect(hit.excerpt).not.toContain('@@@');
  });

  it('pages with the cursor from _links.next, and with start on sites that page by offset', async () => {
    const titles: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await confluence.searchPages('space = ENG ORDER BY title ASC', { limit: 5, ...(cursor ? { cursor } : {}) });
      titles.push(...page.results.map((r) => r.title));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(titles).toHaveLength(12);
    expect(new Set(titles).size).toBe(12);
    expect(fake.requests.map((r) => Object.keys(r.query).sort().join(','))).toEqual(['cql,limit', 'cql,cursor,limit', 'cql,cursor,limit']);

    const offset = await FakeConfluence.start({ email: EMAIL, apiToken: API_TOKEN, offsetPaging: true });
    try {
      offset.addSpace('ENG', 'Engineering');
      for (let i = 1; i <= 7; i++) offset.addPage({ spaceKey: 'ENG', title: `Note ${i}`, storage: '<p>x</p>' });
      const client = await createConfluenceClient({ baseUrl: offset.baseUrl, email: EMAIL, apiToken: API_TOKEN });
      const first = await client.searchPages('space = ENG', { limit: 5 });
      expect(first.nextCursor).toBe('offset:5');
      const second = await client.searchPages('space = ENG', { limit: 5, cursor: first.nextCursor! });
      expect(offset.requests[1]!.query).toEqual({ cql: 'space = ENG', limit: '5', start: '5' });
      expect(second.results.map((r) => r.title)).toEqual(['Note 6', 'Note 7']);
      expect(second.nextCursor).toBeNull();
    } finally {
      await offset.close();
    }
  });

  it('gets a page with GET /wiki/api/v2/pages/{id}?body-format=storage as readable text', async () => {
    const page = await confluence.getPage(runbookId);
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe(`GET /wiki/api/v2/pages/${runbookId}`);
    expect(request!.query).toEqual({ 'body-format': 'storage' });
    expect(request!.headers.authorization).toBe(BASIC);

    expect(page).toMatchObject({ id: runbookId, title: 'Payments DB failover', status: 'current', version: 1, truncated: false });
    expect(page.url).toBe(`${fake.baseUrl}/wiki/spaces/OPS/pages/${runbookId}/Payments%2BDB%2Bfailover`);
    expect(page.text).toBe(
      [
        '# Payments DB failover',
        '',
        'Use this when the primary is down — see status (https://status.example.com) and DB topology.',
        '',
        'Warning: Never promote both replicas.',
        '',
        '1. Check replication',
        '  - lag < 5 s',
        '  - no errors',
        '2. Promote the replica',
        '',
        '```',
        'pg_ctl promote -D /var/lib/pgsql/data && echo "<done>"',
        '```',
        '',
        '| Host | Role |',
        '| db-1 | primary |',
        '',
        '[x] Page on-call',
        '[ ] Write the postmortem',
      ].join('\n'),
    );

    const withWiki = await createConfluenceClient({ baseUrl: `${fake.baseUrl}/wiki/`, email: EMAIL, apiToken: API_TOKEN });
    await expect(withWiki.getPage(runbookId)).resolves.toMatchObject({ text: page.text, url: page.url });

    const cut = await confluence.getPage(runbookId, { maxChars: 100 });
    expect(cut.truncated).toBe(true);
    expect(cut.text.length).toBeLessThanOrEqual(100);
  });

  it('maps 404, 400 (CQL), 401, 429 with Retry-After and 5xx', async () => {
    const missing = await failure(() => confluence.getPage('123'), ConfluenceNotFoundError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
    expect(missing.message).toContain('get page 123');
    await failure(() => confluence.getPage('../admin'), ConfluenceInvalidRequestError);

    const bad = await failure(() => confluence.searchPages('type = page AND'), ConfluenceInvalidRequestError);
    expect(bad).toMatchObject({ status: 400, retryable: false });
    expect(bad.message).toContain('Could not parse cql');

    const wrong = await createConfluenceClient({ baseUrl: fake.baseUrl, email: EMAIL, apiToken: 'nope-nope' });
    await expect(failure(() => wrong.searchPages('space = OPS'), ConfluenceAuthError)).resolves.toMatchObject({
      status: 401,
      retryable: false,
    });

    fake.server.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { statusCode: 429, message: 'Rate limit exceeded' } });
    await expect(failure(() => confluence.searchPages('space = OPS'), ConfluenceRateLimitError)).resolves.toMatchObject({
      status: 429,
      retryable: true,
      retryAfterMs: 7_000,
    });

    fake.server.failNext({
      status: 500,
      body: { errors: [{ status: 500, code: 'INTERNAL_SERVER_ERROR', title: 'Internal Server Error', detail: null }] },
    });
    await expect(failure(() => confluence.getPage(runbookId), ConfluenceUnavailableError)).resolves.toMatchObject({
      status: 500,
      retryable: true,
    });
  });
});

describe('confluence tools through the registry', () => {
  let fake: FakeConfluence;
  const registry = createToolRegistry(createConfluenceTools());
  const viewer = { tenantId: 'acme', userId: 'api-key:1', role: 'viewer' as const };
  const settings = () => ({ confluence: { baseUrl: fake.baseUrl, email: EMAIL, apiToken: API_TOKEN } });
  const run = async (name: string, args: unknown, context = toolContext(settings())) =>
    registry.run(await registry.prepare(name, args, viewer), context);

  beforeAll(async () => {
    fake = await FakeConfluence.start({ email: EMAIL, apiToken: API_TOKEN });
    fake.addSpace('OPS', 'Operations');
    fake.addPage({ spaceKey: 'OPS', title: 'Payments DB failover', storage: RUNBOOK });
    for (let i = 1; i <= 8; i++)
      fake.addPage({ spaceKey: 'OPS', title: `Disk cleanup on host ${i}`, storage: `<p>Free disk space on host ${i}.</p>` });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
  });

  it('offers two read tools to a viewer', () => {
    expect(registry.describe(viewer).map((t) => [t.name, t.mutating, t.integration])).toEqual([
      ['confluence_search_pages', false, 'confluence'],
      ['confluence_get_page', false, 'confluence'],
    ]);
  });

  it('confluence_search_pages builds CQL from plain words and a space, quoted; pages with the cursor', async () => {
    const first = await run('confluence_search_pages', { text: 'disk "space"', space: 'OPS', limit: 5 });
    expect(fake.requests[0]!.query.cql).toBe('type = page AND text ~ "disk \\"space\\"" AND space = "OPS"');
    expect(first.content).toContain('5 of 8 on this page');
    expect(first.content).toMatch(/- \[\d+\] Disk cleanup on host 1 \(Operations\), page, modified 2026-11-\d\d: /);
    const cursor = (first.data as { nextCursor: string }).nextCursor;
    expect(first.content).toContain(`cursor "${cursor}"`);
    expect(first.links).toHaveLength(5);

    const second = await run('confluence_search_pages', { text: 'disk "space"', space: 'OPS', limit: 5, cursor });
    expect(second.content).toContain('3 of 8 on this page');
    expect(second.content).not.toContain('More:');
  });

  it('confluence_get_page returns the page text with its link; refuses bad arguments and an unconfigured integration', async () => {
    const id = fake.pages[0]!.id;
    const page = await run('confluence_get_page', { id });
    expect(page.content).toContain(`Payments DB failover (Confluence page ${id}, version 1`);
    expect(page.content).toContain('1. Check replication');
    expect(page.links).toEqual([
      { title: 'Payments DB failover', url: `${fake.baseUrl}/wiki/spaces/OPS/pages/${id}/Payments%2BDB%2Bfailover` },
    ]);

    const short = await run('confluence_get_page', { id, maxChars: 1_000 });
    expect(short.content).not.toContain('raise maxChars');

    await expect(registry.prepare('confluence_search_pages', { cql: 'space = OPS', text: 'x' }, viewer)).rejects.toMatchObject({
      reason: 'invalid_arguments',
    });
    await expect(registry.prepare('confluence_search_pages', {}, viewer)).rejects.toMatchObject({ reason: 'invalid_arguments' });
    await expect(registry.prepare('confluence_get_page', { id: '12a' }, viewer)).rejects.toMatchObject({ reason: 'invalid_arguments' });
    await expect(run('confluence_get_page', { id }, toolContext({}))).rejects.toMatchObject({ reason: 'not_configured' });

    const missing = await run('confluence_get_page', { id: '1' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ToolFailedError);
    expect(missing).toMatchObject({ retryable: false, status: 404 });
  });
});
