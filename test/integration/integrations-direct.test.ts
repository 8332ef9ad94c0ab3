import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../launcher/ports.js';
import { FakeConfluence } from '../support/fake-confluence.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeJira } from '../support/fake-jira.js';
import { FakePagerDuty } from '../support/fake-pagerduty.js';
import { listenLocal, localUrl } from '../support/local-server.js';
import { prometheusAvailable, startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// Reference 000's direct integration endpoints through the app: each runs on the caller's settings
// (the user's fields over the tenant's, per tenant) against local servers speaking GitHub's, Jira's,
// Confluence's and PagerDuty's APIs and a real Prometheus. Shapes, paging, GET and POST, the
// problems (not configured, credentials refused, rate limited with Retry-After, unreachable, a
// query the service refuses), bad input, roles, and one tenant never using another's settings.

const GITHUB_TOKEN = 'ghp_direct_tenant_token_4471';
const JIRA = { email: 'ops@acme.example', apiToken: 'ATATT-direct-jira-9902' };
const CONFLUENCE = { email: 'ops@acme.example', apiToken: 'ATATT-direct-confluence-5150' };
const PAGERDUTY = { apiKey: 'pd-direct-key-7733', users: ['oncall@acme.example'] };
const SECRETS = [GITHUB_TOKEN, JIRA.apiToken, CONFLUENCE.apiToken, PAGERDUTY.apiKey];

let stack: TestStack;
let github: FakeGitHub;
let jira: FakeJira;
let confluence: FakeConfluence;
let pagerduty: FakePagerDuty;
let prometheus: PrometheusHandle | null = null;
let exporter: Server;
let admin: string;
let alice: string;
let viewer: string;
let otherTenant: string;

type Json = Record<string, unknown>;

async function call(method: 'GET' | 'POST', path: string, options: { key?: string; body?: unknown; query?: string } = {}) {
  const response = await stack.call(method, `/api/v1/integrations/${path}${options.query ? `?${options.query}` : ''}`, {
    key: options.key ?? admin,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.text();
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as Json, text };
}

async function configure(name: string, settings: Json, options: { key?: string; scope?: 'user' | 'tenant' } = {}) {
  const response = await stack.call('PUT', `/api/v1/integrations/${name}/config?scope=${options.scope ?? 'tenant'}`, {
    key: options.key ?? admin,
    body: settings,
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

beforeAll(async () => {
  stack = await startTestStack();
  admin = stack.adminKey;
  alice = await stack.keyFor('acme', 'operator');
  viewer = await stack.keyFor('acme', 'viewer');
  otherTenant = await stack.keyFor('globex', 'admin');

  github = await FakeGitHub.start({ token: GITHUB_TOKEN, searchQuota: 10_000 });
  github.addRepo('acme', 'payments');
  github.addRepo('acme', 'web');
  for (let i = 1; i <= 25; i++) {
    github.addIssue({ repo: 'acme/payments', title: `Checkout timeout on node ${i}`, body: 'times out under load', labels: ['bug'] });
  }
  github.addIssue({
    repo: 'acme/web',
    title: 'Raise the checkout timeout',
    pull: { draft: false, merged: false, mergedAt: null, base: 'main', head: 'timeout', reviewComments: 0, files: [] },
  });
  github.addCommit({ repo: 'acme/payments', message: 'Raise the checkout timeout to 15 s\n\nFixes #3' });
  github.addCommit({ repo: 'acme/web', message: 'Retry checkout timeout once' });

  jira = await FakeJira.start(JIRA);
  jira.addProject('OPS', 'Operations');
  for (let i = 1; i <= 7; i++) jira.addIssue({ project: 'OPS', summary: `Disk full on db-${i}`, labels: ['disk'] });

  confluence = await FakeConfluence.start(CONFLUENCE);
  confluence.addSpace('OPS', 'Operations');
  for (let i = 1; i <= 5; i++) {
    confluence.addPage({ spaceKey: 'OPS', title: `Failover runbook ${i}`, storage: `<p>How to fail over database ${i}.</p>` });
  }

  pagerduty = await FakePagerDuty.start(PAGERDUTY);
  for (let i = 1; i <= 5; i++) pagerduty.addIncident({ title: `CPU high on web-${i}` });
  pagerduty.addIncident({ title: 'Disk full on db-1', status: 'acknowledged' });
  pagerduty.addIncident({ title: 'Old one', status: 'resolved' });

  await configure('github', { token: GITHUB_TOKEN, baseUrl: github.baseUrl, defaultOwner: 'acme' });
  await configure('jira', { baseUrl: jira.baseUrl, ...JIRA });
  await configure('confluence', { baseUrl: confluence.baseUrl, ...CONFLUENCE });
  await configure('pagerduty', { apiToken: PAGERDUTY.apiKey, fromEmail: PAGERDUTY.users[0]!, baseUrl: pagerduty.url });

  if (prometheusAvailable()) {
    exporter = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end('# TYPE checkout_queue_depth gauge\ncheckout_queue_depth 7\n');
    });
    await listenLocal(exporter);
    prometheus = await startPrometheus([{ job: 'checkout', targets: [localUrl(exporter).replace(/^http:\/\//, '')] }]);
    await configure('prometheus', { url: prometheus.url });
  }
});

afterAll(async () => {
  await prometheus?.stop();
  await new Promise<void>((resolve) => (exporter ? exporter.close(() => resolve()) : resolve()));
  await Promise.all([github?.close(), jira?.close(), confluence?.close(), pagerduty?.close()]);
  await stack?.close();
});

describe('GitHub search', () => {
  it('pages issues with GET and answers the same page to POST', async () => {
    const first = await call('GET', 'github/issues/search', { query: 'q=checkout%20timeout&perPage=10' });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({
      query: 'checkout timeout user:acme',
      totalCount: 26,
      incompleteResults: false,
      page: 1,
      perPage: 10,
      hasMore: true,
      nextPage: 2,
    });
    const items = first.body.items as Json[];
    expect(items).toHaveLength(10);
    expect(items[0]).toEqual({
      repository: expect.stringMatching(/^acme\//),
      number: expect.any(Number),
      title: expect.stringContaining('imeout'),
      state: 'open',
      isPullRequest: expect.any(Boolean),
      author: 'octocat',
      labels: expect.any(Array),
      comments: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      closedAt: null,
      url: expect.stringMatching(/^https:\/\/github\.com\/acme\//),
    });
    // The tenant's token went to GitHub, and the query as given plus the default owner.
    const sent = github.requests.at(-1)!;
    expect(sent.headers.authorization).toMatch(new RegExp(`^(token|Bearer) ${GITHUB_TOKEN}$`));
    expect(sent.query).toMatchObject({ q: 'checkout timeout user:acme', per_page: '10', page: '1' });

    const last = await call('POST', 'github/issues/search', { body: { q: 'checkout timeout', perPage: 10, page: 3 } });
    expect(last.status, last.text).toBe(200);
    expect(last.body).toMatchObject({ page: 3, hasMore: false, nextPage: null });
    expect(last.body.items).toHaveLength(6);

    const pulls = await call('GET', 'github/issues/search', { query: 'q=checkout&kind=pr' });
    expect(pulls.body).toMatchObject({ query: 'checkout is:pr user:acme', totalCount: 1 });
    expect((pulls.body.items as Json[])[0]).toMatchObject({ repository: 'acme/web', isPullRequest: true });
  });

  it('searches commits', async () => {
    const found = await call('GET', 'github/commits/search', { query: 'q=checkout%20timeout' });
    expect(found.status, found.text).toBe(200);
    expect(found.body).toMatchObject({ totalCount: 2, page: 1, hasMore: false, nextPage: null });
    expect((found.body.items as Json[]).map((c) => c.title).sort()).toEqual([
      'Raise the checkout timeout to 15 s',
      'Retry checkout timeout once',
    ]);
    expect((found.body.items as Json[])[0]).toEqual({
      repository: expect.any(String),
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      title: expect.any(String),
      authorName: 'Mona Lisa',
      authorLogin: 'mona',
      date: expect.any(String),
      url: expect.any(String),
    });
    const posted = await call('POST', 'github/commits/search', { body: { q: 'repo:acme/web checkout' } });
    expect(posted.body).toMatchObject({ query: 'repo:acme/web checkout', totalCount: 1 });
  });

  it("answers 424 when GitHub refuses the user's own token, while the tenant's still works for others", async () => {
    // Alice's own token overrides the tenant's for her only.
    await configure('github', { token: 'ghp_revoked_token' }, { key: alice, scope: 'user' });
    const refused = await call('GET', 'github/issues/search', { key: alice, query: 'q=checkout' });
    expect(refused.status, refused.text).toBe(424);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ type: 'urn:infraai:problem:integration-credentials-refused', status: 424 });
    expect(refused.body.detail).toMatch(/GitHub refused the configured credentials \(HTTP 401\)/);
    expect(refused.text).not.toContain('ghp_revoked_token');
    expect((await call('GET', 'github/issues/search', { query: 'q=checkout' })).status).toBe(200);
    await stack.call('DELETE', '/api/v1/integrations/github/config?scope=user', { key: alice });
    expect((await call('GET', 'github/issues/search', { key: alice, query: 'q=checkout' })).status).toBe(200);
  });

  it("answers GitHub's rate limit as 429 with Retry-After, and a refused query as 422 on q", async () => {
    const resetAt = github.exhaustSearchQuota();
    const limited = await call('GET', 'github/issues/search', { query: 'q=checkout' });
    github.refillSearchQuota(10_000);
    expect(limited.status, limited.text).toBe(429);
    expect(limited.body).toMatchObject({ type: 'urn:infraai:problem:integration-rate-limited' });
    const wait = Number(limited.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(resetAt - Math.floor(Date.now() / 1000) + 1);

    const unknownRepo = await call('GET', 'github/issues/search', { query: 'q=repo:nobody/nothing%20x' });
    expect(unknownRepo.status, unknownRepo.text).toBe(422);
    expect(unknownRepo.body).toMatchObject({
      type: 'urn:infraai:problem:integration-query-rejected',
      errors: [{ path: 'q', code: 'rejected_by_integration' }],
    });
  });

  it('answers 502 when GitHub cannot be reached', async () => {
    const closed = await freePort();
    await configure('github', { token: GITHUB_TOKEN, baseUrl: `http://127.0.0.1:${closed}` }, { key: alice, scope: 'user' });
    try {
      const down = await call('GET', 'github/issues/search', { key: alice, query: 'q=checkout' });
      expect(down.status, down.text).toBe(502);
      expect(down.body).toMatchObject({ type: 'urn:infraai:problem:integration-unavailable' });
    } finally {
      await stack.call('DELETE', '/api/v1/integrations/github/config?scope=user', { key: alice });
    }
  });
});

describe('Jira search', () => {
  it('pages by nextPageToken, GET and POST alike', async () => {
    const first = await call('GET', 'jira/issues/search', {
      query: `jql=${encodeURIComponent('project = OPS ORDER BY key ASC')}&maxResults=3`,
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ jql: 'project = OPS ORDER BY key ASC', maxResults: 3, isLast: false });
    expect((first.body.issues as Json[]).map((i) => i.key)).toEqual(['OPS-1', 'OPS-2', 'OPS-3']);
    expect((first.body.issues as Json[])[0]).toEqual({
      key: 'OPS-1',
      id: expect.any(String),
      summary: 'Disk full on db-1',
      status: 'To Do',
      statusCategory: 'new',
      issueType: 'Task',
      priority: 'Medium',
      assignee: null,
      labels: ['disk'],
      created: expect.any(String),
      updated: expect.any(String),
      url: `${jira.baseUrl}/browse/OPS-1`,
    });
    const keys = (first.body.issues as Json[]).map((i) => i.key);
    let token = first.body.nextPageToken as string | null;
    while (token) {
      const next = await call('POST', 'jira/issues/search', {
        body: { jql: 'project = OPS ORDER BY key ASC', maxResults: 3, nextPageToken: token },
      });
      expect(next.status, next.text).toBe(200);
      keys.push(...(next.body.issues as Json[]).map((i) => i.key as string));
      token = next.body.nextPageToken as string | null;
      if (!token) expect(next.body.isLast).toBe(true);
    }
    expect(keys).toEqual(['OPS-1', 'OPS-2', 'OPS-3', 'OPS-4', 'OPS-5', 'OPS-6', 'OPS-7']);

    // startAt is taken as 0 only: Jira Cloud's search pages by token.
    expect((await call('POST', 'jira/issues/search', { body: { jql: 'project = OPS', startAt: 0 } })).status).toBe(200);
    const startAt = await call('POST', 'jira/issues/search', { body: { jql: 'project = OPS', startAt: 3 } });
    expect(startAt.status).toBe(422);
    expect(startAt.body).toMatchObject({ errors: [{ path: 'startAt' }] });
  });

  it("answers Jira's 429 with its Retry-After, and an unbounded JQL as 422 on jql", async () => {
    jira.server.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { errorMessages: ['Rate limit exceeded.'] } });
    const limited = await call('GET', 'jira/issues/search', { query: 'jql=project%20%3D%20OPS' });
    expect(limited.status, limited.text).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body).toMatchObject({ type: 'urn:infraai:problem:integration-rate-limited', status: 429 });

    const unbounded = await call('POST', 'jira/issues/search', { body: { jql: 'ORDER BY created DESC' } });
    expect(unbounded.status, unbounded.text).toBe(422);
    expect(unbounded.body).toMatchObject({ type: 'urn:infraai:problem:integration-query-rejected', errors: [{ path: 'jql' }] });
    expect(unbounded.body.detail).toMatch(/Unbounded JQL/);
  });
});

describe('Confluence search', () => {
  it('pages by cursor', async () => {
    const first = await call('GET', 'confluence/pages/search', {
      query: `cql=${encodeURIComponent('type = page AND space = OPS ORDER BY title ASC')}&limit=2`,
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ limit: 2, totalSize: 5, nextCursor: expect.any(String) });
    expect((first.body.results as Json[])[0]).toEqual({
      id: expect.any(String),
      type: 'page',
      title: 'Failover runbook 1',
      space: expect.any(String),
      excerpt: expect.any(String),
      lastModified: expect.any(String),
      url: expect.stringContaining(confluence.baseUrl),
    });
    const titles = (first.body.results as Json[]).map((r) => r.title);
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const next = await call('POST', 'confluence/pages/search', {
        body: { cql: 'type = page AND space = OPS ORDER BY title ASC', limit: 2, cursor },
      });
      expect(next.status, next.text).toBe(200);
      titles.push(...(next.body.results as Json[]).map((r) => r.title as string));
      cursor = next.body.nextCursor as string | null;
    }
    expect(titles).toEqual([1, 2, 3, 4, 5].map((i) => `Failover runbook ${i}`));
  });

  it("answers 424 when Confluence refuses the token, and Confluence's own refusal of the CQL as 422", async () => {
    await configure('confluence', { apiToken: 'ATATT-wrong' }, { key: alice, scope: 'user' });
    try {
      const refused = await call('GET', 'confluence/pages/search', { key: alice, query: 'cql=type%20%3D%20page' });
      expect(refused.status, refused.text).toBe(424);
      expect(refused.body).toMatchObject({ type: 'urn:infraai:problem:integration-credentials-refused' });
      expect(refused.body.detail).toMatch(/^Confluence refused the configured credentials \(HTTP 401\)/);
    } finally {
      await stack.call('DELETE', '/api/v1/integrations/confluence/config?scope=user', { key: alice });
    }
    const bad = await call('GET', 'confluence/pages/search', { query: `cql=${encodeURIComponent('creator.fullname !! x')}` });
    expect(bad.status, bad.text).toBe(422);
    expect(bad.body).toMatchObject({ type: 'urn:infraai:problem:integration-query-rejected', errors: [{ path: 'cql' }] });
  });
});

describe('PagerDuty incidents', () => {
  it('lists by statuses[] with limit and offset paging, newest first', async () => {
    const open = await call('GET', 'pagerduty/incidents', { query: 'statuses[]=triggered&statuses[]=acknowledged&limit=4' });
    expect(open.status, open.text).toBe(200);
    expect(open.body).toMatchObject({ limit: 4, offset: 0, more: true, total: 6, nextOffset: 4 });
    expect((open.body.incidents as Json[])[0]).toEqual({
      id: expect.any(String),
      number: expect.any(Number),
      title: 'Disk full on db-1',
      status: 'acknowledged',
      urgency: 'high',
      priority: 'P1',
      service: { id: 'PSVC001', name: 'Default Service' },
      assignees: ['Alex Oncall'],
      escalationPolicy: 'Default',
      createdAt: expect.any(String),
      lastStatusChangeAt: expect.any(String),
      url: expect.any(String),
    });
    const rest = await call('GET', 'pagerduty/incidents', { query: 'statuses[]=triggered&statuses[]=acknowledged&limit=4&offset=4' });
    expect(rest.body).toMatchObject({ offset: 4, more: false, nextOffset: null });
    expect(rest.body.incidents).toHaveLength(2);
    expect(pagerduty.requestsTo('GET', '/incidents').at(-1)!.query).toEqual(
      expect.arrayContaining([
        ['statuses[]', 'triggered'],
        ['statuses[]', 'acknowledged'],
        ['limit', '4'],
        ['offset', '4'],
      ]),
    );

    const resolved = await call('GET', 'pagerduty/incidents', { query: 'statuses[]=resolved' });
    expect((resolved.body.incidents as Json[]).map((i) => i.title)).toEqual(['Old one']);
    // No status: the open ones (PagerDuty's triggered and acknowledged).
    expect((await call('GET', 'pagerduty/incidents')).body).toMatchObject({ total: 6 });
  });

  it("answers PagerDuty's 429 with Retry-After, and an unknown status as 422", async () => {
    pagerduty.failNext(429, 1, { retryAfter: '12' });
    const limited = await call('GET', 'pagerduty/incidents');
    expect(limited.status, limited.text).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('12');
    const bad = await call('GET', 'pagerduty/incidents', { query: 'statuses[]=sleeping' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ type: 'urn:infraai:problem:validation-error' });
  });
});

describe.runIf(prometheusAvailable())('Prometheus queries (a real Prometheus)', () => {
  it('answers instant queries typed as Prometheus typed them, GET and POST', async () => {
    const depth = await waitFor(async () => {
      const answer = await call('GET', 'prometheus/query', { query: 'query=checkout_queue_depth' });
      return answer.status === 200 && (answer.body.samples as Json[]).length > 0 ? answer : null;
    }, 'the first scrape');
    expect(depth.body).toMatchObject({
      query: 'checkout_queue_depth',
      time: null,
      resultType: 'vector',
      series: [],
      totalSeries: 1,
      truncated: false,
    });
    expect((depth.body.samples as Json[])[0]).toEqual({
      labels: expect.objectContaining({ __name__: 'checkout_queue_depth', job: 'checkout' }),
      value: 7,
      timestamp: expect.any(Number),
    });

    const at = Math.floor(Date.now() / 1000);
    const scalar = await call('POST', 'prometheus/query', { body: { query: '1 + 1', time: String(at) } });
    expect(scalar.status, scalar.text).toBe(200);
    expect(scalar.body).toMatchObject({
      resultType: 'scalar',
      time: new Date(at * 1000).toISOString(),
      samples: [{ labels: {}, value: 2, timestamp: at }],
    });

    const matrix = await call('GET', 'prometheus/query', { query: `query=${encodeURIComponent('checkout_queue_depth[1m]')}` });
    expect(matrix.body).toMatchObject({ resultType: 'matrix', samples: [], totalSeries: 1 });
    expect(((matrix.body.series as Json[])[0]!.points as unknown[]).length).toBeGreaterThan(0);

    // JSON has no NaN: null.
    const nan = await call('GET', 'prometheus/query', { query: `query=${encodeURIComponent('vector(0) / 0')}` });
    expect((nan.body.samples as Json[])[0]).toMatchObject({ value: null });
  });

  it('answers range queries with the step asked for or a default one', async () => {
    const stepped = await call('GET', 'prometheus/query_range', { query: 'query=vector(3)&start=now-5m&end=now&step=1m' });
    expect(stepped.status, stepped.text).toBe(200);
    expect(stepped.body).toMatchObject({ resultType: 'matrix', stepSeconds: 60, totalSeries: 1, truncated: false });
    expect((stepped.body.series as { points: [number, number][] }[])[0]!.points).toHaveLength(6);
    expect((stepped.body.series as { points: [number, number][] }[])[0]!.points.every(([, v]) => v === 3)).toBe(true);

    const end = new Date();
    const start = new Date(end.getTime() - 3_600_000);
    const defaulted = await call('POST', 'prometheus/query_range', {
      body: { query: 'vector(1)', start: start.toISOString(), end: end.toISOString() },
    });
    expect(defaulted.status, defaulted.text).toBe(200);
    expect(defaulted.body).toMatchObject({ stepSeconds: 15, start: start.toISOString(), end: end.toISOString() });
  });

  it('refuses bad PromQL (422 on query), a reversed range and too many points (422)', async () => {
    const bad = await call('GET', 'prometheus/query', { query: `query=${encodeURIComponent('sum(')}` });
    expect(bad.status, bad.text).toBe(422);
    expect(bad.body).toMatchObject({ type: 'urn:infraai:problem:integration-query-rejected', errors: [{ path: 'query' }] });
    const reversed = await call('GET', 'prometheus/query_range', { query: 'query=up&start=now&end=now-1h' });
    expect(reversed.status).toBe(422);
    expect(reversed.body).toMatchObject({ errors: [{ path: 'end', code: 'invalid_range' }] });
    const dense = await call('GET', 'prometheus/query_range', { query: 'query=up&start=now-1d&end=now&step=1s' });
    expect(dense.status).toBe(422);
    expect(dense.body).toMatchObject({ errors: [{ path: 'step' }] });
    const badTime = await call('GET', 'prometheus/query', { query: 'query=up&time=yesterday' });
    expect(badTime.status).toBe(422);
    expect(badTime.body).toMatchObject({ errors: [{ path: 'time' }] });
  });
});

describe('not configured, tenants and input', () => {
  it("answers 409 integration-not-configured in a tenant that has no settings, never using another tenant's", async () => {
    const requests = github.requests.length;
    for (const [method, path, body] of [
      ['GET', 'github/issues/search?q=checkout', undefined],
      ['POST', 'github/commits/search', { q: 'checkout' }],
      ['GET', 'jira/issues/search?jql=project%20%3D%20OPS', undefined],
      ['POST', 'confluence/pages/search', { cql: 'type = page' }],
      ['GET', 'pagerduty/incidents', undefined],
      ['GET', 'prometheus/query?query=up', undefined],
      ['POST', 'prometheus/query_range', { query: 'up' }],
    ] as const) {
      const [name, query] = path.split('?');
      const answer = await call(method, name!, { key: otherTenant, ...(query ? { query } : {}), ...(body ? { body } : {}) });
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(409);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ type: 'urn:infraai:problem:integration-not-configured', status: 409 });
      expect(answer.body.detail).toMatch(/PUT \/api\/v1\/integrations\/\w+\/config/);
    }
    expect(github.requests.length).toBe(requests);

    // Its own settings are its own: a token of its own, refused by this GitHub, never acme's.
    await configure('github', { token: 'ghp_globex_token', baseUrl: github.baseUrl }, { key: otherTenant });
    const own = await call('GET', 'github/issues/search', { key: otherTenant, query: 'q=checkout' });
    expect(own.status).toBe(424);
    expect(github.requests.at(-1)!.headers.authorization).toMatch(/ghp_globex_token$/);
    expect((await call('GET', 'github/issues/search', { query: 'q=checkout' })).status).toBe(200);
  });

  it('names the missing fields when the settings are incomplete', async () => {
    const user = await stack.keyFor('initech', 'operator');
    await configure('jira', { email: 'peter@initech.example' }, { key: user, scope: 'user' });
    const incomplete = await call('GET', 'jira/issues/search', { key: user, query: 'jql=project%20%3D%20OPS' });
    expect(incomplete.status, incomplete.text).toBe(409);
    expect(incomplete.body).toMatchObject({ type: 'urn:infraai:problem:integration-not-configured' });
    expect((incomplete.body.errors as Json[]).map((e) => e.path).sort()).toEqual(['apiToken', 'baseUrl']);
  });

  it('validates input: 422 naming the field, 400 for malformed JSON, 415 for a body that is not JSON', async () => {
    for (const [path, query, field] of [
      ['github/issues/search', '', 'q'],
      ['github/issues/search', 'q=x&perPage=0', 'perPage'],
      ['github/issues/search', 'q=x&page=11&perPage=100', 'page'],
      ['github/commits/search', 'q=x&sort=stars', 'sort'],
      ['jira/issues/search', 'jql=project%20%3D%20OPS&maxResults=500', 'maxResults'],
      ['confluence/pages/search', 'cql=type%3Dpage&limit=abc', 'limit'],
      ['pagerduty/incidents', 'offset=-1', 'offset'],
      ['prometheus/query_range', 'query=up&step=fast', 'step'],
      ['github/issues/search', 'q=x&unknown=1', 'unknown'],
    ] as const) {
      const answer = await call('GET', path, { query });
      expect(answer.status, `${path}?${query}: ${answer.text}`).toBe(422);
      expect(answer.body).toMatchObject({ type: 'urn:infraai:problem:validation-error' });
      expect((answer.body.errors as Json[]).map((e) => e.path)).toContain(field);
    }
    const wrongType = await call('POST', 'github/issues/search', { body: { q: 'x', page: '2' } });
    expect(wrongType.status).toBe(422);
    const malformed = await stack.call('POST', '/api/v1/integrations/jira/issues/search', {
      body: '{"jql": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ type: 'urn:infraai:problem:malformed-json' });
    const form = await stack.call('POST', '/api/v1/integrations/jira/issues/search', {
      body: 'jql=project',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    // PagerDuty's list is GET only.
    expect((await stack.call('POST', '/api/v1/integrations/pagerduty/incidents', { body: {} })).status).toBe(405);
  });

  it('lets a viewer search with POST (a read), and needs a key', async () => {
    const asViewer = await call('POST', 'jira/issues/search', { key: viewer, body: { jql: 'project = OPS' } });
    expect(asViewer.status, asViewer.text).toBe(200);
    const anonymous = await stack.call('GET', '/api/v1/integrations/github/issues/search?q=x', { key: '' });
    expect(anonymous.status).toBe(401);
  });
});
