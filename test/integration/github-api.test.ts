import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../adapters/github/create.js';
import {
  GitHubAuthError,
  GitHubError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubUnavailableError,
  GitHubValidationError,
  type GitHubClient,
  type IssueDetail,
} from '../../adapters/github/port.js';
import { createGitHubTools } from '../../tools/github.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, ToolRefusedError } from '../../tools/tool.js';
import { FakeGitHub, type FakePullFile } from '../support/fake-github.js';
import { toolContext } from '../support/integration-tool-context.js';

// The GitHub adapter and tools against a local server that speaks GitHub's REST API for the calls
// made: exact requests, paging, the diff and its fallback, error and rate-limit mapping; then the
// tools through the registry as the chat agent and the MCP server call them.

const TOKEN = `ghp_${'x'.repeat(12)}${Date.now()}`;

async function failure<E extends Error>(run: () => Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    expect(`${String(err)} ${inspect(err)} ${JSON.stringify(err)}`).not.toContain(TOKEN);
    return err as E;
  }
  throw new Error('expected the call to fail');
}

function files(count: number): FakePullFile[] {
  return Array.from({ length: count }, (_, i) => ({
    filename: `src/module-${i}.ts`,
    status: 'modified' as const,
    additions: 2,
    deletions: 1,
    patch: `@@ -1,3 +1,4 @@\n-export const timeout = 5_000;\n+export const timeout = 15_000;\n+export const retries = ${i};\n export default timeout;`,
  }));
}

describe('github adapter (local GitHub REST server)', () => {
  let fake: FakeGitHub;
  let github: GitHubClient;

  beforeAll(async () => {
    fake = await FakeGitHub.start({ token: TOKEN });
    github = await createGitHubClient({ token: TOKEN, baseUrl: fake.baseUrl, defaultOwner: 'acme' });
    fake.addRepo('acme', 'payments');
    fake.addRepo('acme', 'web');
    fake.addRepo('other', 'tools');
    for (let i = 1; i <= 25; i++) {
      fake.addIssue({
        repo: 'acme/payments',
        title: `Checkout timeout on node ${i}`,
        body: 'The payment client times out under load.',
        labels: i % 2 ? ['bug', 'p1'] : ['bug'],
        comments: i,
        updatedAt: `2026-11-${String(i).padStart(2, '0')}T10:00:00Z`,
      });
    }
    fake.addIssue({ repo: 'other/tools', title: 'Checkout timeout in the CLI', body: 'unrelated owner' });
    fake.addIssue({
      repo: 'acme/web',
      number: 412,
      title: 'Raise the payment client timeout',
      body: 'Fixes the checkout timeouts.\n\nCloses acme/payments#3',
      author: 'alice',
      assignees: ['bob'],
      comments: 4,
      pull: {
        draft: false,
        merged: true,
        mergedAt: '2026-11-30T12:00:00Z',
        base: 'main',
        head: 'fix-timeout',
        reviewComments: 2,
        files: files(3),
      },
    });
    fake.addIssue({
      repo: 'acme/web',
      number: 413,
      title: 'Regenerate the client for every service',
      pull: { draft: true, merged: false, mergedAt: null, base: 'main', head: 'regen', reviewComments: 0, files: files(150) },
    });
    fake.addCommit({
      repo: 'acme/payments',
      message: 'Raise the checkout timeout to 15 s\n\nLoad tests showed p99 of 9 s.',
      authorLogin: 'alice',
      authorName: 'Alice Smith',
      date: '2026-11-29T08:00:00.000+00:00',
    });
    fake.addCommit({
      repo: 'acme/web',
      message: 'Retry checkout calls once',
      authorLogin: null,
      authorName: 'CI Bot',
      date: '2026-11-28T08:00:00.000+00:00',
    });
    fake.addCommit({ repo: 'other/tools', message: 'checkout: unrelated' });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
    fake.refillSearchQuota();
  });

  it('searches issues with the query passed through, scoped to the default owner, one authenticated GET', async () => {
    const result = await github.searchIssues('checkout timeout is:open label:p1', { perPage: 5, sort: 'comments', order: 'desc' });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe('GET /search/issues');
    expect(request!.query).toEqual({
      q: 'checkout timeout is:open label:p1 user:acme',
      per_page: '5',
      page: '1',
      sort: 'comments',
      order: 'desc',
    });
    expect(request!.headers.authorization).toBe(`token ${TOKEN}`);
    expect(request!.headers.accept).toBe('application/vnd.github.v3+json');
    expect(request!.headers['user-agent']).toMatch(/^infraai /);

    expect(result).toMatchObject({
      query: 'checkout timeout is:open label:p1 user:acme',
      totalCount: 13,
      incompleteResults: false,
      page: 1,
      perPage: 5,
      hasMore: true,
    });
    expect(result.items.map((i) => i.number)).toEqual([25, 23, 21, 19, 17]);
    expect(result.items[0]).toEqual({
      repository: 'acme/payments',
      number: 25,
      title: 'Checkout timeout on node 25',
      state: 'open',
      isPullRequest: false,
      author: 'octocat',
      labels: ['bug', 'p1'],
      comments: 25,
      createdAt: '2026-11-02T09:15:00Z',
      updatedAt: '2026-11-25T10:00:00Z',
      closedAt: null,
      url: 'https://github.com/acme/payments/issues/25',
    });
  });

  it('leaves a query that names repo:, org: or user: unscoped', async () => {
    for (const q of ['checkout repo:other/tools', 'checkout org:other', 'checkout user:other']) {
      const result = await github.searchIssues(q);
      expect(result.query).toBe(q);
      expect(result.items.map((i) => i.repository)).toEqual(['other/tools']);
    }
    expect(fake.requests.map((r) => r.query.q)).toEqual(['checkout repo:other/tools', 'checkout org:other', 'checkout user:other']);
  });

  it('pages through results: page and per_page sent, hasMore false on the last page, the 1000-result window refused before a request', async () => {
    const second = await github.searchIssues('checkout repo:acme/payments', { page: 2, perPage: 10 });
    const third = await github.searchIssues('checkout repo:acme/payments', { page: 3, perPage: 10 });
    expect(second).toMatchObject({ totalCount: 25, hasMore: true, page: 2 });
    expect(second.items.map((i) => i.number)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
    expect(third).toMatchObject({ totalCount: 25, hasMore: false, page: 3 });
    expect(third.items.map((i) => i.number)).toEqual([5, 4, 3, 2, 1]);
    expect(fake.requests.map((r) => [r.query.page, r.query.per_page])).toEqual([
      ['2', '10'],
      ['3', '10'],
    ]);

    fake.server.clearRequests();
    const err = await failure(() => github.searchIssues('checkout', { page: 11, perPage: 100 }), GitHubValidationError);
    expect(err.message).toContain('first 1000 results');
    await failure(() => github.searchIssues('checkout', { perPage: 101 }), GitHubValidationError);
    await failure(() => github.searchIssues('x'.repeat(257)), GitHubValidationError);
    expect(fake.requests).toHaveLength(0);
  });

  it('searches commits: GET /search/commits, first line of the message, login or author name', async () => {
    const result = await github.searchCommits('checkout', { sort: 'author-date', order: 'desc' });
    const [request] = fake.requests;
    expect(`${request!.method} ${request!.path}`).toBe('GET /search/commits');
    expect(request!.query).toEqual({ q: 'checkout user:acme', per_page: '10', page: '1', sort: 'author-date', order: 'desc' });
    expect(result.totalCount).toBe(2);
    expect(result.items).toEqual([
      {
        repository: 'acme/payments',
        sha: fake.commits[0]!.sha,
        title: 'Raise the checkout timeout to 15 s',
        authorName: 'Alice Smith',
        authorLogin: 'alice',
        date: '2026-11-29T08:00:00.000+00:00',
        url: `https://github.com/acme/payments/commit/${fake.commits[0]!.sha}`,
      },
      expect.objectContaining({ repository: 'acme/web', title: 'Retry checkout calls once', authorLogin: null, authorName: 'CI Bot' }),
    ]);
  });

  it('gets an issue with one call, and a pull request with its details and diff', async () => {
    const issue = await github.getIssue({ owner: 'acme', repo: 'payments', number: 3 });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /repos/acme/payments/issues/3']);
    expect(issue).toMatchObject({ repository: 'acme/payments', number: 3, isPullRequest: false, comments: 3, pullRequest: null });
    expect(issue.body).toBe('The payment client times out under load.');

    fake.server.clearRequests();
    const pull = await github.getIssue({ owner: 'acme', repo: 'web', number: 412 });
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.headers.accept}`)).toEqual([
      'GET /repos/acme/web/issues/412 application/vnd.github.v3+json',
      'GET /repos/acme/web/pulls/412 application/vnd.github.v3+json',
      'GET /repos/acme/web/pulls/412 application/vnd.github.diff',
    ]);
    expect(pull).toMatchObject({
      isPullRequest: true,
      author: 'alice',
      assignees: ['bob'],
      comments: 4,
      url: 'https://github.com/acme/web/pull/412',
    });
    expect(pull.pullRequest).toMatchObject({
      draft: false,
      merged: true,
      mergedAt: '2026-11-30T12:00:00Z',
      base: 'main',
      head: 'acme:fix-timeout',
      additions: 6,
      deletions: 3,
      changedFiles: 3,
      reviewComments: 2,
      diffTruncated: false,
      diffSource: 'diff',
    });
    expect(pull.pullRequest!.diff).toContain('diff --git a/src/module-2.ts b/src/module-2.ts');
    expect(pull.pullRequest!.diff).toContain('+export const timeout = 15_000;');
  });

  it('cuts a long diff at maxDiffChars and says so; skips it when not asked for', async () => {
    const pull = await github.getIssue({ owner: 'acme', repo: 'web', number: 412 }, { maxDiffChars: 200 });
    expect(pull.pullRequest!.diff).toHaveLength(200);
    expect(pull.pullRequest!.diffTruncated).toBe(true);

    fake.server.clearRequests();
    const without = await github.getIssue({ owner: 'acme', repo: 'web', number: 412 }, { includeDiff: false });
    expect(without.pullRequest).toMatchObject({ diff: null, diffSource: null, changedFiles: 3 });
    expect(fake.requests).toHaveLength(2);
  });

  it('falls back to the files list, page by page, when GitHub refuses to render the diff (406)', async () => {
    const limited = await FakeGitHub.start({ token: TOKEN, diffFileLimit: 100 });
    try {
      limited.addRepo('acme', 'web');
      limited.addIssue({
        repo: 'acme/web',
        number: 413,
        title: 'Regenerate every client',
        pull: { draft: true, merged: false, mergedAt: null, base: 'main', head: 'regen', reviewComments: 0, files: files(150) },
      });
      const client = await createGitHubClient({ token: TOKEN, baseUrl: limited.baseUrl });
      const pull = await client.getIssue({ owner: 'acme', repo: 'web', number: 413 }, { maxDiffChars: 100_000 });
      expect(limited.requests.map((r) => `${r.path} ${r.query.page ?? ''}`)).toEqual([
        '/repos/acme/web/issues/413 ',
        '/repos/acme/web/pulls/413 ',
        '/repos/acme/web/pulls/413 ',
        '/repos/acme/web/pulls/413/files 1',
        '/repos/acme/web/pulls/413/files 2',
      ]);
      expect(limited.requests[3]!.query.per_page).toBe('100');
      const detail = pull.pullRequest!;
      expect(detail).toMatchObject({ diffSource: 'files', diffTruncated: false, draft: true, changedFiles: 150 });
      expect(detail.diff!.match(/^diff --git /gm)).toHaveLength(150);

      limited.server.clearRequests();
      const cut = await client.getIssue({ owner: 'acme', repo: 'web', number: 413 }, { maxDiffChars: 1_000 });
      expect(cut.pullRequest).toMatchObject({ diffSource: 'files', diffTruncated: true });
      expect(cut.pullRequest!.diff!.length).toBeLessThanOrEqual(1_000);
      // Cut on the first page: the second is never fetched.
      expect(limited.requests.filter((r) => r.path.endsWith('/files'))).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });

  it('serves GitHub Enterprise Server under its /api/v3 root', async () => {
    const enterprise = await FakeGitHub.start({ token: TOKEN, prefix: '/api/v3' });
    try {
      enterprise.addRepo('platform', 'infra');
      enterprise.addIssue({ repo: 'platform/infra', title: 'Disk full on build agents' });
      const client = await createGitHubClient({ token: TOKEN, baseUrl: `${enterprise.baseUrl}/` });
      const result = await client.searchIssues('disk repo:platform/infra');
      expect(result.items.map((i) => i.title)).toEqual(['Disk full on build agents']);
      expect(enterprise.requests.map((r) => r.path)).toEqual(['/api/v3/search/issues']);
    } finally {
      await enterprise.close();
    }
  });

  it('maps 401, 404 and 422 to errors that are not retryable, without the token', async () => {
    const wrong = await createGitHubClient({ token: `${TOKEN}-revoked`, baseUrl: fake.baseUrl });
    const auth = await failure(() => wrong.searchIssues('checkout'), GitHubAuthError);
    expect(auth).toMatchObject({ status: 401, retryable: false });
    expect(auth.message).toContain('Bad credentials');

    const missing = await failure(() => github.getIssue({ owner: 'acme', repo: 'payments', number: 999 }), GitHubNotFoundError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
    expect(missing.message).toContain('acme/payments#999');

    const invalid = await failure(() => github.searchIssues('checkout user:nobody-here'), GitHubValidationError);
    expect(invalid).toMatchObject({ status: 422, retryable: false });
    expect(invalid.message).toContain('cannot be searched');
  });

  it("maps GitHub's primary rate-limit 403 to a retryable error with the reset time", async () => {
    const resetAt = fake.exhaustSearchQuota();
    const err = await failure(() => github.searchIssues('checkout'), GitHubRateLimitError);
    expect(err).toMatchObject({ status: 403, retryable: true });
    expect(err.retryAt!.getTime()).toBe(resetAt * 1000);
    expect(err.message).toContain(`retry after ${new Date(resetAt * 1000).toISOString()}`);
    // Only search is limited: reading an issue still works.
    await expect(github.getIssue({ owner: 'acme', repo: 'payments', number: 1 })).resolves.toMatchObject({ number: 1 });
  });

  it('maps a secondary rate limit (403 with Retry-After), 429 and 5xx to retryable errors', async () => {
    fake.server.failNext({
      status: 403,
      headers: { 'retry-after': '60' },
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest',
      },
    });
    const before = Date.now();
    const secondary = await failure(() => github.searchIssues('checkout'), GitHubRateLimitError);
    expect(secondary.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(secondary.retryAt!.getTime()).toBeLessThan(Date.now() + 61_000);

    fake.server.failNext({ status: 429, headers: { 'retry-after': '5' }, body: { message: 'Too Many Requests' } });
    await expect(failure(() => github.searchCommits('checkout'), GitHubRateLimitError)).resolves.toMatchObject({ status: 429 });

    fake.server.failNext({ status: 502, body: 'Bad Gateway' });
    await expect(
      failure(() => github.getIssue({ owner: 'acme', repo: 'payments', number: 1 }), GitHubUnavailableError),
    ).resolves.toMatchObject({
      status: 502,
      retryable: true,
    });
  });

  it('maps a refused connection and a silent server to retryable errors', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = await createGitHubClient({ token: TOKEN, baseUrl: `http://127.0.0.1:${port}` });
    await expect(failure(() => down.searchIssues('x'), GitHubUnavailableError)).resolves.toMatchObject({ retryable: true, status: null });

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = await createGitHubClient({
        token: TOKEN,
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 300,
      });
      const err = await failure(() => slow.searchIssues('x'), GitHubUnavailableError);
      expect(err.message).toContain('within 300 ms');
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('github tools through the registry', () => {
  let fake: FakeGitHub;
  const registry = createToolRegistry(createGitHubTools());
  const viewer = { tenantId: 'acme', userId: 'api-key:1', role: 'viewer' as const };
  const settings = () => ({ github: { token: TOKEN, baseUrl: fake.baseUrl, defaultOwner: 'acme' } });

  async function call(name: string, args: unknown, context = toolContext(settings())) {
    const prepared = await registry.prepare(name, args, viewer);
    return registry.run(prepared, context);
  }

  beforeAll(async () => {
    fake = await FakeGitHub.start({ token: TOKEN });
    fake.addRepo('acme', 'web');
    for (let i = 1; i <= 12; i++) fake.addIssue({ repo: 'acme/web', title: `Flaky deploy step ${i}`, labels: ['ci'] });
    fake.addIssue({
      repo: 'acme/web',
      number: 412,
      title: 'Raise the payment client timeout',
      body: 'Fixes the checkout timeouts.',
      pull: { draft: false, merged: false, mergedAt: null, base: 'main', head: 'fix-timeout', reviewComments: 0, files: files(40) },
    });
    fake.addCommit({ repo: 'acme/web', message: 'Deploy: retry the flaky step', authorLogin: 'alice' });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.server.clearRequests();
    fake.refillSearchQuota();
  });

  it('offers the three read tools to a viewer, all needing the github integration and none mutating', () => {
    const tools = registry.describe(viewer);
    expect(tools.map((t) => t.name)).toEqual(['github_search_issues', 'github_search_commits', 'github_get_issue']);
    for (const tool of tools) expect(tool).toMatchObject({ integration: 'github', mutating: false });
    expect(tools[0]!.parameters).toMatchObject({ type: 'object', required: ['query'] });
  });

  it('github_search_issues: read risk, a short summary that says how to get more, data and links', async () => {
    const prepared = await registry.prepare('github_search_issues', { query: 'flaky deploy', kind: 'issue', perPage: 5 }, viewer);
    expect(prepared.risk).toBe('read');
    const result = await registry.run(prepared, toolContext(settings()));

    expect(fake.requests[0]!.query.q).toBe('flaky deploy is:issue user:acme');
    expect(result.content).toContain('1–5 of 12');
    expect(result.content).toContain('acme/web#12 (issue, open) Flaky deploy step 12 [ci]');
    expect(result.content).toContain('Next: page 2');
    expect(result.links).toHaveLength(5);
    expect(result.links![0]).toEqual({ title: 'acme/web#12 Flaky deploy step 12', url: 'https://github.com/acme/web/issues/12' });
    expect(result.data).toMatchObject({ totalCount: 12, hasMore: true });

    const last = await call('github_search_issues', { query: 'flaky deploy', kind: 'issue', perPage: 5, page: 3 });
    expect(last.content).toContain('11–12 of 12');
    expect(last.content).not.toContain('Next:');
  });

  it('github_search_commits and github_get_issue with the repository named without its owner', async () => {
    const commits = await call('github_search_commits', { query: 'flaky' });
    expect(commits.content).toContain('acme/web@');
    expect(commits.content).toContain('Deploy: retry the flaky step — @alice');

    const pull = await call('github_get_issue', { repository: 'web', number: 412, maxDiffChars: 1_000 });
    expect(fake.requests.slice(-3).map((r) => r.path)).toEqual([
      '/repos/acme/web/issues/412',
      '/repos/acme/web/pulls/412',
      '/repos/acme/web/pulls/412',
    ]);
    expect(pull.content).toContain('acme/web#412 (pull request, open): Raise the payment client timeout');
    expect(pull.content).toContain('Branches: acme:fix-timeout → main; 40 files changed, +80 −40');
    expect(pull.content).toContain('```diff');
    expect(pull.content).toContain('raise maxDiffChars');
    expect((pull.data as IssueDetail).pullRequest!.diffTruncated).toBe(true);
    expect(pull.links).toEqual([{ title: 'acme/web#412 Raise the payment client timeout', url: 'https://github.com/acme/web/pull/412' }]);
  });

  it('refuses bad arguments, an unconfigured integration and a bare name without a default owner', async () => {
    await expect(registry.prepare('github_search_issues', { query: '' }, viewer)).rejects.toMatchObject({ reason: 'invalid_arguments' });
    await expect(registry.prepare('github_get_issue', { repository: 'a/b/c', number: 1 }, viewer)).rejects.toMatchObject({
      reason: 'invalid_arguments',
    });
    const unconfigured = call('github_search_issues', { query: 'x' }, toolContext({}));
    await expect(unconfigured).rejects.toBeInstanceOf(ToolRefusedError);
    await expect(unconfigured).rejects.toMatchObject({ reason: 'not_configured' });
    const noOwner = toolContext({ github: { token: TOKEN, baseUrl: fake.baseUrl } });
    await expect(call('github_get_issue', { repository: 'web', number: 1 }, noOwner)).rejects.toMatchObject({
      reason: 'invalid_arguments',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('reports GitHub failures as ToolFailedError: rate limit retryable, not found not', async () => {
    fake.exhaustSearchQuota();
    const limited = await call('github_search_issues', { query: 'x' }).catch((err: unknown) => err);
    expect(limited).toBeInstanceOf(ToolFailedError);
    expect(limited).toMatchObject({ retryable: true, status: 403 });
    expect((limited as Error).message).toContain('retry after');

    const missing = await call('github_get_issue', { repository: 'acme/web', number: 9999 }).catch((err: unknown) => err);
    expect(missing).toMatchObject({ retryable: false, status: 404 });
    expect(missing).not.toBeInstanceOf(GitHubError);
  });
});
