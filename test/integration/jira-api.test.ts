import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJiraClient } from '../../adapters/jira/create.js';
import {
  JiraAuthError,
  JiraInvalidRequestError,
  JiraNotFoundError,
  JiraRateLimitError,
  JiraUnavailableError,
  type JiraClient,
} from '../../adapters/jira/port.js';
import { createJiraTools } from '../../tools/jira.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, ToolRefusedError } from '../../tools/tool.js';
import { FakeJira } from '../support/fake-jira.js';
import { toolContext } from '../support/integration-tool-context.js';

// The Jira adapter and tools against a local server that speaks Jira Cloud's REST API v3 for the
// calls made: exact requests, nextPageToken paging, ADF rendering, error mapping, the idempotent
// create; then the tools through the registry, with the confirmation the create needs.

const EMAIL = 'ops-bot@example.com';
const API_TOKEN = `ATATT3x${Date.now()}FfF0`;
const BASIC = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`;
const SUMMARY_FIELDS = ['summary', 'status', 'issuetype', 'priority', 'assignee', 'labels', 'created', 'updated'];

const description = {
  type: 'doc',
  version: 1,
  content: [
    { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Impact' }] },
    {
      type: 'paragraph',
      content: [
        { type: 'text', text: 'Checkout fails for ' },
        { type: 'text', text: '5%', marks: [{ type: 'strong' }] },
        { type: 'text', text: ' of requests; see ' },
        { type: 'text', text: 'the dashboard', marks: [{ type: 'link', attrs: { href: 'https://grafana.example.com/d/checkout' } }] },
        { type: 'text', text: '.' },
        { type: 'hardBreak' },
        { type: 'mention', attrs: { id: '5b10ac8d82e05b22cc7d4ef5', text: '@Alice Smith' } },
        { type: 'text', text: ' is on it.' },
      ],
    },
    {
      type: 'bulletList',
      content: [
        { type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'web-1 timeouts' }] }] },
        { type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'web-2 timeouts' }] }] },
      ],
    },
    { type: 'codeBlock', attrs: { language: 'bash' }, content: [{ type: 'text', text: 'systemctl restart payments' }] },
  ],
};

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

describe('jira adapter (local Jira Cloud REST v3 server)', () => {
  let fake: FakeJira;
  let jira: JiraClient;

  beforeAll(async () => {
    fake = await FakeJira.start({ email: EMAIL, apiToken: API_TOKEN });
    jira = await createJiraClient({ baseUrl: fake.baseUrl, email: EMAIL, apiToken: API_TOKEN });
    fake.addProject('OPS', 'Operations');
    fake.addProject('WEB', 'Web');
    for (let i = 1; i <= 25; i++) {
      fake.addIssue({
        project: 'OPS',
        summary: `Disk pressure on db-${i}`,
        status: i % 5 === 0 ? 'Done' : 'In Progress',
        statusCategory: i % 5 === 0 ? 'done' : 'indeterminate',
        assignee: i % 2 ? 'Alice Smith' : null,
        labels: ['disk'],
      });
    }
    fake.addIssue({
      project: 'WEB',
      summary: 'Checkout errors after the deploy',
      issueType: 'Bug',
      priority: 'High',
      description,
      components: ['payments'],
      comments: [
        {
          author: 'Bob Jones',
          created: '2026-12-01T10:00:00.000+0000',
          body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Rolled back.' }] }] },
        },
      ],
    });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
  });

  it('searches with POST /rest/api/3/search/jql: the JQL, maxResults and the fields list, Basic auth', async () => {
    const result = await jira.searchIssues('project = OPS AND status = "Done" ORDER BY key ASC', { maxResults: 3 });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe('POST /rest/api/3/search/jql');
    expect(request!.headers.authorization).toBe(BASIC);
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.body).toEqual({ jql: 'project = OPS AND status = "Done" ORDER BY key ASC', maxResults: 3, fields: SUMMARY_FIELDS });

    expect(result.nextPageToken).not.toBeNull();
    expect(result.issues.map((i) => i.key)).toEqual(['OPS-5', 'OPS-10', 'OPS-15']);
    expect(result.issues[0]).toEqual({
      key: 'OPS-5',
      id: fake.issues[4]!.id,
      summary: 'Disk pressure on db-5',
      status: 'Done',
      statusCategory: 'done',
      issueType: 'Task',
      priority: 'Medium',
      assignee: 'Alice Smith',
      labels: ['disk'],
      created: fake.issues[4]!.created,
      updated: fake.issues[4]!.updated,
      url: `${fake.baseUrl}/browse/OPS-5`,
    });
  });

  it('pages with nextPageToken until the last page', async () => {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await jira.searchIssues('project = OPS ORDER BY key ASC', {
        maxResults: 10,
        ...(token ? { nextPageToken: token } : {}),
      });
      keys.push(...page.issues.map((i) => i.key));
      token = page.nextPageToken ?? undefined;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(keys).toEqual(Array.from({ length: 25 }, (_, i) => `OPS-${i + 1}`));
    expect(fake.requests.map((r) => (r.body as { nextPageToken?: string }).nextPageToken === undefined)).toEqual([true, false, false]);
  });

  it("reports Jira's own message for an unbounded or invalid query (400, not retryable)", async () => {
    const unbounded = await failure(() => jira.searchIssues('ORDER BY created DESC'), JiraInvalidRequestError);
    expect(unbounded).toMatchObject({ status: 400, retryable: false });
    expect(unbounded.message).toContain('Unbounded JQL queries are not allowed here');
    const unknown = await failure(() => jira.searchIssues('sprintt = 12'), JiraInvalidRequestError);
    expect(unknown.message).toContain("Field 'sprintt' does not exist");
  });

  it('gets an issue with the detail fields and renders its ADF description and comments as text', async () => {
    const issue = await jira.getIssue('web-1');
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe('GET /rest/api/3/issue/WEB-1');
    expect(request!.query.fields!.split(',')).toEqual([
      ...SUMMARY_FIELDS,
      'project',
      'reporter',
      'resolution',
      'components',
      'description',
      'comment',
    ]);
    expect(request!.headers.authorization).toBe(BASIC);

    expect(issue).toMatchObject({
      key: 'WEB-1',
      project: 'WEB',
      issueType: 'Bug',
      priority: 'High',
      components: ['payments'],
      commentCount: 1,
    });
    expect(issue.description).toBe(
      [
        '## Impact',
        '',
        'Checkout fails for 5% of requests; see the dashboard (https://grafana.example.com/d/checkout).',
        '@Alice Smith is on it.',
        '',
        '- web-1 timeouts',
        '- web-2 timeouts',
        '',
        '```bash',
        'systemctl restart payments',
        '```',
      ].join('\n'),
    );
    expect(issue.comments).toEqual([{ author: 'Bob Jones', created: '2026-12-01T10:00:00.000+0000', body: 'Rolled back.' }]);
  });

  it('maps 404, 401, 429 with Retry-After and 503', async () => {
    const missing = await failure(() => jira.getIssue('OPS-999'), JiraNotFoundError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
    expect(missing.message).toContain('Issue does not exist or you do not have permission to see it.');
    await failure(() => jira.getIssue('not a key'), JiraInvalidRequestError);

    const wrong = await createJiraClient({ baseUrl: fake.baseUrl, email: EMAIL, apiToken: `${API_TOKEN}x` });
    const auth = await failure(() => wrong.searchIssues('project = OPS'), JiraAuthError);
    expect(auth).toMatchObject({ status: 401, retryable: false });
    expect(auth.message).toContain('Client must be authenticated');

    fake.server.failNext({ status: 429, headers: { 'retry-after': '30' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } });
    const limited = await failure(() => jira.searchIssues('project = OPS'), JiraRateLimitError);
    expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterMs: 30_000 });

    fake.server.failNext({ status: 503, body: '<html><body>Service Unavailable</body></html>' });
    await expect(failure(() => jira.getIssue('OPS-1'), JiraUnavailableError)).resolves.toMatchObject({ status: 503, retryable: true });
  });

  it('creates an issue once per idempotency key: looked up by its label first, created with an ADF description', async () => {
    const input = {
      projectKey: 'OPS',
      summary: 'Rotate the expiring TLS certificate on lb-1',
      description: 'The certificate expires on 2026-12-20.\n\nRenew it through ACME.\nThen reload haproxy.',
      issueType: 'Task',
      labels: ['tls'],
      priority: 'High',
      idempotencyKey: 'chat-s1/3/call-1',
    };
    const first = await jira.createIssue(input);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /rest/api/3/search/jql', 'POST /rest/api/3/issue']);
    const label = (fake.requests[1]!.body as { fields: { labels: string[] } }).fields.labels.find((l) => l.startsWith('infraai-call-'))!;
    expect(label).toMatch(/^infraai-call-[0-9a-f]{20}$/);
    expect((fake.requests[0]!.body as { jql: string }).jql).toBe(`project = "OPS" AND labels = "${label}" ORDER BY created ASC`);
    expect(fake.requests[1]!.body).toEqual({
      fields: {
        project: { key: 'OPS' },
        summary: 'Rotate the expiring TLS certificate on lb-1',
        issuetype: { name: 'Task' },
        description: {
          type: 'doc',
          version: 1,
          content: [
            { type: 'paragraph', content: [{ type: 'text', text: 'The certificate expires on 2026-12-20.' }] },
            {
              type: 'paragraph',
              content: [
                { type: 'text', text: 'Renew it through ACME.' },
                { type: 'hardBreak' },
                { type: 'text', text: 'Then reload haproxy.' },
              ],
            },
          ],
        },
        labels: ['tls', 'infraai', label],
        priority: { name: 'High' },
      },
    });
    expect(first).toEqual({ key: 'OPS-26', id: fake.issues.at(-1)!.id, url: `${fake.baseUrl}/browse/OPS-26`, created: true });

    fake.server.clearRequests();
    const retry = await jira.createIssue(input);
    expect(retry).toEqual({ ...first, created: false });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /rest/api/3/search/jql']);
    expect(fake.issues.filter((i) => i.summary === input.summary)).toHaveLength(1);

    const other = await jira.createIssue({ ...input, idempotencyKey: 'chat-s1/3/call-2' });
    expect(other).toMatchObject({ key: 'OPS-27', created: true });
  });

  it("reports Jira's field errors on create (400)", async () => {
    const err = await failure(
      () => jira.createIssue({ projectKey: 'OPS', summary: 'x', description: '', issueType: 'Epic Saga', idempotencyKey: 'k-1' }),
      JiraInvalidRequestError,
    );
    expect(err.message).toContain('issuetype: Specify a valid issue type');
  });
});

describe('jira tools through the registry', () => {
  let fake: FakeJira;
  const registry = createToolRegistry(createJiraTools());
  const viewer = { tenantId: 'acme', userId: 'api-key:1', role: 'viewer' as const };
  const operator = { tenantId: 'acme', userId: 'api-key:2', role: 'operator' as const };
  const settings = () => ({ jira: { baseUrl: fake.baseUrl, email: EMAIL, apiToken: API_TOKEN, defaultProject: 'OPS' } });

  beforeAll(async () => {
    fake = await FakeJira.start({ email: EMAIL, apiToken: API_TOKEN });
    fake.addProject('OPS', 'Operations');
    for (let i = 1; i <= 12; i++) fake.addIssue({ project: 'OPS', summary: `Backup job failed on db-${i}`, labels: ['backup'] });
    fake.addIssue({ project: 'OPS', summary: 'Slow queries on db-1', description, assignee: 'Alice Smith' });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
  });

  it('offers search and get to a viewer; create to an operator only, as mutating', () => {
    expect(registry.describe(viewer).map((t) => t.name)).toEqual(['jira_search_issues', 'jira_get_issue']);
    const forOperator = registry.describe(operator);
    expect(forOperator.map((t) => [t.name, t.mutating])).toEqual([
      ['jira_search_issues', false],
      ['jira_get_issue', false],
      ['jira_create_issue', true],
    ]);
  });

  it('jira_search_issues pages with the returned pageToken; jira_get_issue renders the issue', async () => {
    const first = await registry.run(
      await registry.prepare('jira_search_issues', { jql: 'labels = backup ORDER BY key ASC', maxResults: 5 }, viewer),
      toolContext(settings()),
    );
    expect(first.content).toContain('(5 on this page)');
    expect(first.content).toContain('- OPS-1 [To Do] Backup job failed on db-1 — Task, Medium priority, unassigned');
    const token = (first.data as { nextPageToken: string }).nextPageToken;
    expect(first.content).toContain(`pageToken "${token}"`);
    expect(first.links![0]).toEqual({ title: 'OPS-1 Backup job failed on db-1', url: `${fake.baseUrl}/browse/OPS-1` });

    const second = await registry.run(
      await registry.prepare('jira_search_issues', { jql: 'labels = backup ORDER BY key ASC', maxResults: 5, pageToken: token }, viewer),
      toolContext(settings()),
    );
    expect(second.content).toContain('OPS-6 ');
    expect((fake.requests[1]!.body as { nextPageToken: string }).nextPageToken).toBe(token);

    const issue = await registry.run(await registry.prepare('jira_get_issue', { key: 'ops-13' }, viewer), toolContext(settings()));
    expect(issue.content).toContain('OPS-13 (Task, To Do): Slow queries on db-1');
    expect(issue.content).toContain('assignee Alice Smith');
    expect(issue.content).toContain('- web-1 timeouts');
  });

  it('jira_create_issue: refused for a viewer, refused without the matching hash, created once with it, once per call key', async () => {
    const args = {
      summary: 'Investigate backup failures on db hosts',
      description: 'Twelve backup jobs failed overnight.',
      labels: ['backup'],
    };
    await expect(registry.prepare('jira_create_issue', args, viewer)).rejects.toMatchObject({ reason: 'role' });

    const prepared = await registry.prepare('jira_create_issue', args, operator);
    expect(prepared.risk).toBe('change');
    const context = toolContext(settings(), { caller: operator, callKey: 'chat-s9/2/call-7' });

    await expect(registry.run(prepared, context)).rejects.toMatchObject({ reason: 'confirmation' });
    const wrongHash = await registry.prepare('jira_create_issue', { ...args, summary: 'Something else' }, operator);
    await expect(registry.run(prepared, context, wrongHash.hash)).rejects.toBeInstanceOf(ToolRefusedError);
    expect(fake.requests).toHaveLength(0);

    const created = await registry.run(prepared, context, prepared.hash);
    expect(created.content).toBe(`Created Jira issue OPS-14: ${fake.baseUrl}/browse/OPS-14`);
    expect(created.links).toEqual([{ title: 'OPS-14 Investigate backup failures on db hosts', url: `${fake.baseUrl}/browse/OPS-14` }]);
    expect(fake.issues.at(-1)).toMatchObject({ project: 'OPS', summary: args.summary, issueType: 'Task' });

    const again = await registry.run(prepared, toolContext(settings(), { caller: operator, callKey: 'chat-s9/2/call-7' }), prepared.hash);
    expect(again.content).toContain('OPS-14 already existed');
    expect(fake.issues.filter((i) => i.summary === args.summary)).toHaveLength(1);
    expect(fake.server.requestsTo('POST', '/rest/api/3/issue')).toHaveLength(1);
  });

  it('refuses when neither the call nor the settings name a project, or Jira is not configured; reports failures', async () => {
    const args = { summary: 'x' };
    const prepared = await registry.prepare('jira_create_issue', args, operator);
    const noDefault = toolContext({ jira: { baseUrl: fake.baseUrl, email: EMAIL, apiToken: API_TOKEN } }, { caller: operator });
    await expect(registry.run(prepared, noDefault, prepared.hash)).rejects.toMatchObject({ reason: 'invalid_arguments' });
    await expect(registry.run(prepared, toolContext({}, { caller: operator }), prepared.hash)).rejects.toMatchObject({
      reason: 'not_configured',
    });

    fake.server.failNext({ status: 429, headers: { 'retry-after': '12' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } });
    const limited = await registry
      .run(await registry.prepare('jira_get_issue', { key: 'OPS-1' }, viewer), toolContext(settings()))
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ToolFailedError);
    expect(limited).toMatchObject({ retryable: true, status: 429 });
    expect((limited as Error).message).toContain('Retry after 12 s');
  });
});
