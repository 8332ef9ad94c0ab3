import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect, promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHost, gitHostConfigFromEnv, gitHostConfigSchema } from '../../adapters/git-host/create.js';
import { GitHubGitHost } from '../../adapters/git-host/github.js';
import { LocalGitHost } from '../../adapters/git-host/local.js';
import { MemoryPullRequestRecords } from '../../adapters/git-host/memory-records.js';
import { GitHostRefusedError, GitHostUnavailableError, type GitHost, type PullRequestRecords } from '../../adapters/git-host/port.js';
import type { ProvisionFile } from '../../core/provisioning/types.js';
import { FakeGitHubGit } from '../support/fake-github-git.js';

// One contract for the git host port, run against the embedded local host (a temporary repository)
// and the GitHub host (a local server speaking GitHub's REST API): branches, the one commit per
// request, one pull request per branch, concurrent and resumed attempts. Then what only one of them
// has: GitHub's exact requests and error mapping; the local host's merges, untouched working tree
// and refusal of a directory that is not its repository.

const run = promisify(execFile);
const TOKEN = `ghp_${'k'.repeat(20)}${Date.now()}`;
const BRANCH = 'infraai/provision-req-1';

const FILES: ProvisionFile[] = [
  { path: 'terraform/dev/s3_bucket/reports/main.tf', content: 'resource "aws_s3_bucket" "reports" {\n  bucket = "reports-dev"\n}\n' },
  { path: 'terraform/dev/s3_bucket/reports/variables.tf', content: 'variable "region" {\n  default = "eu-west-1"\n}\n' },
];

interface CommitView {
  parents: string[];
  message: string;
  files: Record<string, string>;
}

/** What the contract needs to see behind the port: heads, commits, and the reviewer's merge/close. */
interface Harness {
  host: GitHost;
  /** A second adapter instance on the same repository (a restarted worker). */
  another(): GitHost;
  headOf(branch: string): Promise<string | undefined>;
  commit(sha: string): Promise<CommitView>;
  pullRequestCount(): Promise<number>;
  merge(number: number): Promise<void>;
  close(number: number): Promise<void>;
  dispose(): Promise<void>;
}

async function git(gitDir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', gitDir, ...args], { env: { ...process.env, LC_ALL: 'C' } });
  return stdout;
}

async function localHarness(): Promise<Harness & { local: LocalGitHost; repoPath: string; records: MemoryPullRequestRecords }> {
  const repoPath = await mkdtemp(path.join(tmpdir(), 'infraai-git-host-'));
  const records = new MemoryPullRequestRecords();
  const local = new LocalGitHost({ repoPath, records });
  // Opens (creates) the repository, so that the harness can read it before the first call.
  await local.defaultBranch();
  return {
    host: local,
    local,
    repoPath,
    records,
    another: () => new LocalGitHost({ repoPath, records }),
    async headOf(branch) {
      return (await git(repoPath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => '')).trim() || undefined;
    },
    async commit(sha) {
      const [parents = '', ...message] = (await git(repoPath, ['show', '-s', '--format=%P%n%B', sha])).split('\n');
      const files: Record<string, string> = {};
      for (const name of (await git(repoPath, ['ls-tree', '-r', '--name-only', '-z', sha])).split('\0').filter(Boolean)) {
        files[name] = await git(repoPath, ['cat-file', 'blob', `${sha}:${name}`]);
      }
      return { parents: parents.split(' ').filter(Boolean), message: message.join('\n').trim(), files };
    },
    pullRequestCount: async () => {
      let count = 0;
      while (await records.get(count + 1)) count++;
      return count;
    },
    merge: async (number) => void (await local.merge(number)),
    close: async (number) => void (await local.close(number)),
    dispose: () => rm(repoPath, { recursive: true, force: true }),
  };
}

async function githubHarness(): Promise<Harness & { fake: FakeGitHubGit; github: GitHubGitHost }> {
  const fake = await FakeGitHubGit.start({ token: TOKEN, owner: 'acme', repo: 'infrastructure' });
  const make = () => new GitHubGitHost({ token: TOKEN, owner: 'acme', repo: 'infrastructure', baseUrl: fake.baseUrl, timeoutMs: 10_000 });
  const github = make();
  return {
    host: github,
    github,
    fake,
    another: make,
    headOf: async (branch) => fake.head(branch),
    commit: async (sha) => {
      const { parents, message } = fake.commit(sha);
      return { parents, message: message.trim(), files: fake.files(sha) };
    },
    pullRequestCount: async () => fake.pulls.length,
    merge: async (number) => void fake.mergePull(number),
    close: async (number) => void fake.closePull(number),
    dispose: () => fake.close(),
  };
}

async function failure<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const err = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  expect(`${String(err)} ${inspect(err)}`).not.toContain(TOKEN);
  return err as E;
}

describe.each([
  { kind: 'local', start: localHarness },
  { kind: 'github', start: githubHarness },
])('git host contract ($kind)', ({ kind, start }) => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('names its kind and the default branch', async () => {
    expect(h.host.kind).toBe(kind);
    expect(await h.host.defaultBranch()).toBe('main');
  });

  it('creates a branch from the default branch once, and finds it after', async () => {
    const main = await h.headOf('main');
    const first = await h.host.ensureBranch(BRANCH);
    expect(first).toEqual({ branch: BRANCH, created: true, baseSha: main });
    expect(await h.headOf(BRANCH)).toBe(main);
    expect(await h.host.ensureBranch(BRANCH)).toEqual({ branch: BRANCH, created: false, baseSha: main });
    const both = await Promise.all([h.host.ensureBranch('infraai/provision-req-2'), h.host.ensureBranch('infraai/provision-req-2')]);
    expect(both.map((b) => b.created).sort()).toEqual([false, true]);
  });

  it('puts exactly the files in one commit with the trailer, and a second call returns that commit', async () => {
    const { baseSha } = await h.host.ensureBranch(BRANCH);
    const committed = await h.host.commitFiles({
      branch: BRANCH,
      requestId: 'req-1',
      message: 'Provision s3_bucket reports (dev)',
      files: FILES,
    });
    expect(committed.created).toBe(true);
    expect(await h.headOf(BRANCH)).toBe(committed.sha);

    const commit = await h.commit(committed.sha);
    const base = await h.commit(baseSha);
    expect(commit.parents).toEqual([baseSha]);
    expect(commit.message).toBe('Provision s3_bucket reports (dev)\n\nProvision-Request: req-1');
    expect(commit.files).toEqual({ ...base.files, ...Object.fromEntries(FILES.map((f) => [f.path, f.content])) });

    const again = await h.host.commitFiles({
      branch: BRANCH,
      requestId: 'req-1',
      message: 'Provision s3_bucket reports (dev)',
      files: FILES,
    });
    expect(again).toEqual({ sha: committed.sha, created: false });
    expect(await h.headOf(BRANCH)).toBe(committed.sha);

    // Another request's files are another commit, on top.
    const next = await h.host.commitFiles({
      branch: BRANCH,
      requestId: 'req-1b',
      message: 'Resize',
      files: [{ path: FILES[0]!.path, content: 'changed\n' }],
    });
    expect(next.created).toBe(true);
    expect((await h.commit(next.sha)).parents).toEqual([committed.sha]);
    expect((await h.commit(next.sha)).files[FILES[0]!.path]).toBe('changed\n');
  });

  it('opens one pull request per branch: a second call finds it', async () => {
    await h.host.ensureBranch(BRANCH);
    await h.host.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const opened = await h.host.openPullRequest({ branch: BRANCH, title: 'Provision reports bucket', body: 'Requested by alice' });
    expect(opened).toMatchObject({ created: true, state: 'open', head: BRANCH, base: 'main' });
    expect(opened.url).toMatch(kind === 'github' ? /^https:\/\/github\.com\/acme\/infrastructure\/pull\/\d+$/ : /^local:\/\/\/.+#\d+$/);
    const again = await h.host.openPullRequest({ branch: BRANCH, title: 'Provision reports bucket', body: 'Requested by alice' });
    expect(again).toEqual({ ...opened, created: false });
    expect(await h.host.pullRequest(opened.number)).toEqual({
      number: opened.number,
      url: opened.url,
      state: 'open',
      head: BRANCH,
      base: 'main',
    });
    expect(await h.pullRequestCount()).toBe(1);
  });

  it('makes one commit and one pull request when two attempts run at once', async () => {
    const { baseSha } = await h.host.ensureBranch(BRANCH);
    // Two attempts at one request (messages differ, so a lost update could not hide as the same commit).
    const input = { branch: BRANCH, requestId: 'req-1', files: FILES };
    const commits = await Promise.all([
      h.host.commitFiles({ ...input, message: 'Provision (attempt 1)' }),
      h.another().commitFiles({ ...input, message: 'Provision (attempt 2)' }),
    ]);
    expect(commits[0].sha).toBe(commits[1].sha);
    expect(commits.some((c) => c.created)).toBe(true);
    expect((await h.commit(commits[0].sha)).parents).toEqual([baseSha]);
    expect(await h.headOf(BRANCH)).toBe(commits[0].sha);

    const pulls = await Promise.all([
      h.host.openPullRequest({ branch: BRANCH, title: 'Provision', body: '' }),
      h.another().openPullRequest({ branch: BRANCH, title: 'Provision', body: '' }),
    ]);
    expect(pulls[0].number).toBe(pulls[1].number);
    expect(pulls.map((p) => p.created).sort()).toEqual([false, true]);
    expect(await h.pullRequestCount()).toBe(1);
  });

  it('resumes after a crash: a new instance finds the branch and commit, and opens one pull request', async () => {
    const { baseSha } = await h.host.ensureBranch(BRANCH);
    const before = await h.host.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    // The worker died here; the retried activity runs on a fresh adapter.
    const resumed = h.another();
    expect(await resumed.ensureBranch(BRANCH)).toEqual({ branch: BRANCH, created: false, baseSha: before.sha });
    expect(await resumed.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES })).toEqual({
      sha: before.sha,
      created: false,
    });
    expect((await h.commit(before.sha)).parents).toEqual([baseSha]);
    const pull = await resumed.openPullRequest({ branch: BRANCH, title: 'Provision', body: '' });
    expect(pull.created).toBe(true);
    expect((await h.another().openPullRequest({ branch: BRANCH, title: 'Provision', body: '' })).created).toBe(false);
    expect(await h.pullRequestCount()).toBe(1);
  });

  it('reports a merged and a closed pull request', async () => {
    for (const [i, branch] of [BRANCH, 'infraai/provision-req-2'].entries()) {
      await h.host.ensureBranch(branch);
      await h.host.commitFiles({ branch, requestId: `req-${i}`, message: 'Provision', files: [{ path: `${branch}.tf`, content: branch }] });
    }
    const merged = await h.host.openPullRequest({ branch: BRANCH, title: 'one', body: '' });
    const closed = await h.host.openPullRequest({ branch: 'infraai/provision-req-2', title: 'two', body: '' });
    await h.merge(merged.number);
    await h.close(closed.number);
    expect(await h.host.pullRequest(merged.number)).toMatchObject({ state: 'merged', head: BRANCH });
    expect(await h.host.pullRequest(closed.number)).toMatchObject({ state: 'closed', head: 'infraai/provision-req-2' });
    const main = await h.commit((await h.headOf('main'))!);
    expect(main.parents).toHaveLength(2);
    expect(main.files[`${BRANCH}.tf`]).toBe(BRANCH);
    expect(main.files['infraai/provision-req-2.tf']).toBeUndefined();
    // A pull request found again after it was merged is the merged one, not a new one.
    expect(await h.host.openPullRequest({ branch: BRANCH, title: 'one', body: '' })).toMatchObject({ created: false, state: 'merged' });
  });

  it('closes an open pull request unmerged (an expired request), answers a closed one as it is, and refuses a merged one', async () => {
    for (const [i, branch] of [BRANCH, 'infraai/provision-req-2'].entries()) {
      await h.host.ensureBranch(branch);
      await h.host.commitFiles({ branch, requestId: `req-${i}`, message: 'Provision', files: [{ path: `${branch}.tf`, content: branch }] });
    }
    const open = await h.host.openPullRequest({ branch: BRANCH, title: 'one', body: '' });
    const merged = await h.host.openPullRequest({ branch: 'infraai/provision-req-2', title: 'two', body: '' });
    const mainBefore = await h.headOf('main');
    expect(await h.host.close(open.number)).toMatchObject({ number: open.number, state: 'closed', head: BRANCH });
    expect(await h.host.close(open.number)).toMatchObject({ state: 'closed' });
    expect(await h.host.pullRequest(open.number)).toMatchObject({ state: 'closed' });
    expect(await h.headOf('main')).toBe(mainBefore);
    await h.merge(merged.number);
    await failure(h.host.close(merged.number), GitHostRefusedError);
    expect(await h.host.pullRequest(merged.number)).toMatchObject({ state: 'merged' });
  });

  it('refuses a missing branch, an unsafe path, a pull request with no commits, and an unknown pull request', async () => {
    await failure(h.host.commitFiles({ branch: 'infraai/nope', requestId: 'r', message: 'm', files: FILES }), GitHostRefusedError);
    await h.host.ensureBranch(BRANCH);
    for (const bad of ['../escape.tf', '/abs.tf', '.git/config', 'a//b.tf']) {
      await failure(
        h.host.commitFiles({ branch: BRANCH, requestId: 'r', message: 'm', files: [{ path: bad, content: '' }] }),
        GitHostRefusedError,
      );
    }
    await failure(h.host.ensureBranch('bad..name'), GitHostRefusedError);
    const empty = await failure(h.host.openPullRequest({ branch: BRANCH, title: 't', body: '' }), GitHostRefusedError);
    expect(empty.status).toBe(422);
    const unknown = await failure(h.host.pullRequest(404), GitHostRefusedError);
    expect(unknown.status).toBe(404);
  });
});

describe('github git host: requests and failures', () => {
  let h: Awaited<ReturnType<typeof githubHarness>>;
  beforeEach(async () => {
    h = await githubHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('makes exactly these requests for a new request, and only reads for a repeated one', async () => {
    const { github, fake } = h;
    const main = fake.head('main')!;
    await github.ensureBranch(BRANCH);
    const { sha } = await github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const pull = await github.openPullRequest({ branch: BRANCH, title: 'Provision reports', body: 'Generated by InfraAI' });
    const repo = '/repos/acme/infrastructure';
    expect(fake.calls()).toEqual([
      `GET ${repo}/git/ref/heads/${BRANCH}`,
      `GET ${repo}`,
      `GET ${repo}/git/ref/heads/main`,
      `POST ${repo}/git/refs`,
      `GET ${repo}/git/ref/heads/${BRANCH}`,
      `GET ${repo}/git/commits/${main}`,
      `POST ${repo}/git/trees`,
      `POST ${repo}/git/commits`,
      `PATCH ${repo}/git/refs/heads/${BRANCH}`,
      `GET ${repo}/pulls`,
      `POST ${repo}/pulls`,
    ]);
    const [, , , createRef, , , tree, commit, update, list, create] = fake.requests;
    expect(createRef!.body).toEqual({ ref: `refs/heads/${BRANCH}`, sha: main });
    expect(tree!.body).toEqual({
      base_tree: fake.commit(main).tree,
      tree: FILES.map((f) => ({ path: f.path, mode: '100644', type: 'blob', content: f.content })),
    });
    expect(commit!.body).toEqual({ message: 'Provision\n\nProvision-Request: req-1\n', tree: fake.commit(sha).tree, parents: [main] });
    expect(update!.body).toEqual({ sha, force: false });
    expect(list!.query).toEqual({ head: `acme:${BRANCH}`, state: 'all', per_page: '10' });
    expect(create!.body).toEqual({ head: BRANCH, base: 'main', title: 'Provision reports', body: 'Generated by InfraAI' });
    expect(create!.headers.authorization).toBe(`token ${TOKEN}`);

    fake.clearRequests();
    await github.ensureBranch(BRANCH);
    await github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    expect(await github.openPullRequest({ branch: BRANCH, title: 'x', body: '' })).toMatchObject({ number: pull.number, created: false });
    expect(fake.calls()).toEqual([
      `GET ${repo}/git/ref/heads/${BRANCH}`,
      `GET ${repo}/git/ref/heads/${BRANCH}`,
      `GET ${repo}/git/commits/${sha}`,
      `GET ${repo}/pulls`,
    ]);
  });

  it('comments on a pull request (the review reminder) and closes it with these requests', async () => {
    const { github, fake } = h;
    await github.ensureBranch(BRANCH);
    await github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const pull = await github.openPullRequest({ branch: BRANCH, title: 'Provision reports', body: '' });
    fake.clearRequests();
    await github.comment(pull.number, 'Expires tomorrow unless merged.');
    await github.close(pull.number);
    const repo = '/repos/acme/infrastructure';
    expect(fake.calls()).toEqual([
      `POST ${repo}/issues/${pull.number}/comments`,
      `GET ${repo}/pulls/${pull.number}`,
      `PATCH ${repo}/pulls/${pull.number}`,
    ]);
    expect(fake.requests[0]!.body).toEqual({ body: 'Expires tomorrow unless merged.' });
    expect(fake.requests[2]!.body).toEqual({ state: 'closed' });
    expect(fake.comments).toEqual([{ number: pull.number, body: 'Expires tomorrow unless merged.' }]);
    expect(await github.pullRequest(pull.number)).toMatchObject({ state: 'closed' });
  });

  it('builds the same tree git builds for the same files', async () => {
    const { github, fake } = h;
    await github.ensureBranch(BRANCH);
    const { sha } = await github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const dir = await mkdtemp(path.join(tmpdir(), 'infraai-git-tree-'));
    try {
      await run('git', ['init', '--quiet', '--bare', dir]);
      const entries: string[] = [];
      for (const [name, content] of Object.entries(fake.files(sha))) {
        const file = path.join(dir, 'blob');
        await writeFile(file, content);
        entries.push(`100644 ${(await git(dir, ['hash-object', '-w', file])).trim()}\t${name}`);
      }
      const index = path.join(dir, 'scratch-index');
      const env = { ...process.env, GIT_INDEX_FILE: index };
      const update = execFile('git', ['--git-dir', dir, 'update-index', '--add', '--index-info'], { env });
      update.stdin!.end(`${entries.join('\n')}\n`);
      await new Promise((resolve, reject) =>
        update.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`exit ${code}`)))),
      );
      const { stdout } = await run('git', ['--git-dir', dir, 'write-tree'], { env });
      expect(stdout.trim()).toBe(fake.commit(sha).tree);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loses a commit race without a second commit: GitHub refuses the non-fast-forward update and the loser finds the winner', async () => {
    const { github, fake } = h;
    const { baseSha } = await github.ensureBranch(BRANCH);
    fake.clearRequests();
    // Different messages make different commits, so the second ref update cannot be a no-op.
    const [a, b] = await Promise.all([
      github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision (attempt 1)', files: FILES }),
      h.another().commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision (attempt 2)', files: FILES }),
    ]);
    expect(a.sha).toBe(b.sha);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(fake.head(BRANCH)).toBe(a.sha);
    expect(fake.commit(a.sha).parents).toEqual([baseSha]);
    const updates = fake.requests.filter((r) => r.method === 'PATCH');
    expect(updates).toHaveLength(2);
    expect(fake.calls().filter((c) => c.startsWith('GET') && c.includes(`/git/ref/heads/${BRANCH}`))).toHaveLength(3);
  });

  it('answers a duplicate-pull-request 422 with the pull request that exists', async () => {
    const { github, fake } = h;
    await github.ensureBranch(BRANCH);
    await github.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const first = await github.openPullRequest({ branch: BRANCH, title: 'Provision', body: '' });
    fake.clearRequests();
    // The list misses the pull request (opened by a concurrent attempt a moment ago): GitHub refuses the second.
    fake.failNext({ status: 200, body: [] });
    const found = await github.openPullRequest({ branch: BRANCH, title: 'Provision', body: '' });
    expect(found).toEqual({ ...first, created: false });
    expect(fake.calls().map((c) => c.split(' ')[0] + ' ' + c.split('/').pop())).toEqual(['GET pulls', 'POST pulls', 'GET pulls']);
    expect(fake.pulls).toHaveLength(1);
  });

  it('refuses a rejected token (401), a repository it cannot see (404) and a closed branch it cannot change', async () => {
    const { fake } = h;
    const wrong = new GitHubGitHost({ token: `${TOKEN}-wrong`, owner: 'acme', repo: 'infrastructure', baseUrl: fake.baseUrl });
    const unauthorised = await failure(wrong.ensureBranch(BRANCH), GitHostRefusedError);
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.message).toContain('Bad credentials');
    expect(unauthorised.message).not.toContain(TOKEN);
    const missing = new GitHubGitHost({ token: TOKEN, owner: 'acme', repo: 'nope', baseUrl: fake.baseUrl });
    expect((await failure(missing.defaultBranch(), GitHostRefusedError)).status).toBe(404);
  });

  it('reports rate limits and server errors as unavailable, with the wait GitHub asks for', async () => {
    const { github, fake } = h;
    fake.rateLimitNext({ retryAfterSeconds: 7 });
    const limited = await failure(github.defaultBranch(), GitHostUnavailableError);
    expect(limited.retryAfterMs).toBe(7000);
    fake.rateLimitNext({ secondary: true, retryAfterSeconds: 30 });
    expect((await failure(github.ensureBranch(BRANCH), GitHostUnavailableError)).retryAfterMs).toBe(30_000);
    fake.rateLimitNext({ secondary: true });
    expect((await failure(github.ensureBranch(BRANCH), GitHostUnavailableError)).retryAfterMs).toBe(60_000);
    fake.failNext({ status: 502, body: '<html>Bad gateway</html>' });
    const bad = await failure(github.pullRequest(1), GitHostUnavailableError);
    expect(bad.retryAfterMs).toBeNull();
    expect(bad.message).toContain('HTTP 502');
    // The primary limit: 403 with no requests left, until x-ratelimit-reset.
    const reset = Math.floor(Date.now() / 1000) + 120;
    fake.failNext({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for installation ID 1.', status: '403' },
    });
    const primary = await failure(github.pullRequest(1), GitHostUnavailableError);
    expect(primary.retryAfterMs).toBeGreaterThan(100_000);
    expect(primary.retryAfterMs).toBeLessThanOrEqual(120_000);
    // After the failures the same instance works: nothing was cached from them.
    expect(await github.defaultBranch()).toBe('main');
  });

  it('reports a host that does not answer as unavailable', async () => {
    const { fake } = h;
    const baseUrl = fake.baseUrl;
    await fake.close();
    const gone = new GitHubGitHost({ token: TOKEN, owner: 'acme', repo: 'infrastructure', baseUrl, timeoutMs: 5000 });
    const err = await failure(gone.defaultBranch(), GitHostUnavailableError);
    expect(err.message).toContain('did not answer');
    h.dispose = async () => undefined;
  });

  it('speaks to GitHub Enterprise Server under /api/v3', async () => {
    await h.dispose();
    const fake = await FakeGitHubGit.start({
      token: TOKEN,
      owner: 'acme',
      repo: 'infrastructure',
      prefix: '/api/v3',
      defaultBranch: 'trunk',
    });
    h.dispose = () => fake.close();
    const github = new GitHubGitHost({ token: TOKEN, owner: 'acme', repo: 'infrastructure', baseUrl: `${fake.baseUrl}/` });
    expect(await github.defaultBranch()).toBe('trunk');
    expect((await github.ensureBranch(BRANCH)).created).toBe(true);
    expect(fake.requests.every((r) => r.path.startsWith('/api/v3/repos/acme/infrastructure'))).toBe(true);
  });
});

describe('local git host: merges and its repository', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'infraai-local-git-'));
    dirs.push(dir);
    return dir;
  }

  it('creates a bare repository with an initial commit in a missing directory, with local:// urls', async () => {
    const repoPath = path.join(await tempDir(), 'nested', 'provisioning-repo');
    const local = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords(), defaultBranch: 'trunk' });
    expect(await local.defaultBranch()).toBe('trunk');
    expect((await git(repoPath, ['rev-parse', '--is-bare-repository'])).trim()).toBe('true');
    expect((await git(repoPath, ['log', '--format=%s', 'trunk'])).trim()).toBe('Initial commit');
    expect(await local.urlOf(3)).toBe(`local://${repoPath}#3`);
  });

  it('never touches the working tree of a normal repository', async () => {
    const repoPath = await tempDir();
    await run('git', ['init', '--quiet', '--initial-branch=main', repoPath]);
    await writeFile(path.join(repoPath, 'README.md'), 'infrastructure\n');
    const identity = ['-c', 'user.name=Mona', '-c', 'user.email=mona@example.com'];
    await run('git', ['-C', repoPath, 'add', 'README.md']);
    await run('git', ['-C', repoPath, ...identity, 'commit', '--quiet', '-m', 'start']);
    const local = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords() });
    await local.ensureBranch(BRANCH);
    const { sha } = await local.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    expect((await run('git', ['-C', repoPath, 'status', '--porcelain'])).stdout).toBe('');
    expect((await run('git', ['-C', repoPath, 'symbolic-ref', '--short', 'HEAD'])).stdout.trim()).toBe('main');
    await expect(readFile(path.join(repoPath, FILES[0]!.path))).rejects.toThrow();
    expect((await run('git', ['-C', repoPath, 'show', `${sha}:${FILES[0]!.path}`])).stdout).toBe(FILES[0]!.content);
  });

  it('refuses a directory that is neither empty nor a repository, even inside another repository', async () => {
    const outer = await tempDir();
    await run('git', ['init', '--quiet', outer]);
    const repoPath = path.join(outer, 'not-a-repo');
    await mkdir(repoPath);
    await writeFile(path.join(repoPath, 'notes.txt'), 'mine\n');
    const local = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords() });
    await failure(local.defaultBranch(), GitHostRefusedError);
    expect((await git(path.join(outer, '.git'), ['for-each-ref'])).trim()).toBe('');
  });

  it('refuses an existing repository without the configured default branch, and a missing git', async () => {
    const repoPath = await tempDir();
    await run('git', ['init', '--quiet', '--bare', '--initial-branch=master', repoPath]);
    const seed = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords(), defaultBranch: 'master' });
    expect(await seed.defaultBranch()).toBe('master');
    const wrong = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords(), defaultBranch: 'main' });
    const err = await failure(wrong.ensureBranch(BRANCH), GitHostRefusedError);
    expect(err.message).toMatch(/no branch 'main' \(it has master\).*INFRAAI_GIT_DEFAULT_BRANCH/);
    expect((await git(repoPath, ['for-each-ref', '--format=%(refname)'])).trim()).toBe('refs/heads/master');
    // Without a configured default branch an existing repository's HEAD names it.
    expect(await new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords() }).defaultBranch()).toBe('master');
    const noGit = new LocalGitHost({ repoPath, records: new MemoryPullRequestRecords(), gitPath: path.join(repoPath, 'no-such-git') });
    expect((await failure(noGit.defaultBranch(), GitHostRefusedError)).message).toContain('git is not installed');
  });

  it('finishes a merge that stopped after moving the branch, without a second merge commit', async () => {
    const repoPath = await tempDir();
    const records = new MemoryPullRequestRecords();
    let crash = true;
    const flaky: PullRequestRecords = {
      findByHead: (head) => records.findByHead(head),
      get: (number) => records.get(number),
      create: (input) => records.create(input),
      setState: async (number, state) => {
        if (crash) {
          crash = false;
          throw new Error('worker died');
        }
        return records.setState(number, state);
      },
    };
    const local = new LocalGitHost({ repoPath, records: flaky });
    await local.ensureBranch(BRANCH);
    await local.commitFiles({ branch: BRANCH, requestId: 'req-1', message: 'Provision', files: FILES });
    const pull = await local.openPullRequest({ branch: BRANCH, title: 'Provision', body: '' });
    await expect(local.merge(pull.number)).rejects.toThrow('worker died');
    const mergedAt = (await git(repoPath, ['rev-parse', 'main'])).trim();
    expect((await local.pullRequest(pull.number)).state).toBe('open');
    expect(await new LocalGitHost({ repoPath, records: flaky }).merge(pull.number)).toMatchObject({ state: 'merged', sha: mergedAt });
    expect((await git(repoPath, ['rev-parse', 'main'])).trim()).toBe(mergedAt);
    expect((await git(repoPath, ['rev-list', '--merges', '--count', 'main'])).trim()).toBe('1');
  });

  it('merges with a merge commit, refuses a conflicting merge (409), and refuses to merge a closed or close a merged one', async () => {
    const { local, repoPath, dispose } = await localHarness();
    try {
      for (const [branch, content] of [
        ['infraai/provision-a', 'a\n'],
        ['infraai/provision-b', 'b\n'],
      ] as const) {
        await local.ensureBranch(branch);
        await local.commitFiles({
          branch,
          requestId: branch.replace('infraai/', ''),
          message: 'Provision',
          files: [{ path: 'shared.tf', content }],
        });
        await local.openPullRequest({ branch, title: branch, body: '' });
      }
      const merged = await local.merge(1);
      expect(merged).toMatchObject({ number: 1, state: 'merged' });
      expect((await git(repoPath, ['rev-parse', 'main'])).trim()).toBe(merged.sha);
      expect(await git(repoPath, ['show', 'main:shared.tf'])).toBe('a\n');
      expect((await git(repoPath, ['log', '-1', '--format=%s', 'main'])).trim()).toBe('Merge pull request #1 from infraai/provision-a');
      expect((await local.merge(1)).sha).toBe(merged.sha);
      expect((await failure(local.merge(2), GitHostRefusedError)).status).toBe(409);
      expect((await local.pullRequest(2)).state).toBe('open');
      expect((await failure(local.close(1), GitHostRefusedError)).status).toBe(405);
      await local.close(2);
      expect((await failure(local.merge(2), GitHostRefusedError)).status).toBe(405);
    } finally {
      await dispose();
    }
  });
});

describe('git host config', () => {
  it('defaults to the local host under .data and reads GitHub settings', async () => {
    expect(gitHostConfigFromEnv({})).toEqual({ kind: 'local', repoPath: '.data/provisioning-repo', defaultBranch: 'main' });
    expect(
      gitHostConfigFromEnv({
        INFRAAI_GIT_HOST: 'github',
        INFRAAI_GITHUB_TOKEN: ' ghp_x ',
        INFRAAI_GITHUB_REPO: 'acme/infrastructure',
        INFRAAI_GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      }),
    ).toEqual({
      kind: 'github',
      token: 'ghp_x',
      owner: 'acme',
      repo: 'infrastructure',
      baseUrl: 'https://ghe.example.com/api/v3',
      timeoutMs: 15_000,
    });
    expect(() => gitHostConfigFromEnv({ INFRAAI_GIT_HOST: 'github', INFRAAI_GITHUB_REPO: 'acme' })).toThrow(/INFRAAI_GITHUB_REPO/);
    expect(() => gitHostConfigFromEnv({ INFRAAI_GIT_HOST: 'github', INFRAAI_GITHUB_REPO: 'acme/x' })).toThrow(/INFRAAI_GITHUB_TOKEN/);
    expect(() =>
      gitHostConfigFromEnv({
        INFRAAI_GIT_HOST: 'github',
        INFRAAI_GITHUB_REPO: 'acme/x',
        INFRAAI_GITHUB_TOKEN: 't',
        INFRAAI_GITHUB_API_URL: 'ftp://x',
      }),
    ).toThrow(/INFRAAI_GITHUB_API_URL/);
    expect(() => gitHostConfigFromEnv({ INFRAAI_GIT_HOST: 'gitlab' })).toThrow(/INFRAAI_GIT_HOST/);
    expect(gitHostConfigSchema.safeParse({ kind: 'local', repoPath: '' }).success).toBe(false);
  });

  it('builds the configured implementation', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'infraai-git-create-'));
    try {
      const records = new MemoryPullRequestRecords();
      const local = await createGitHost(gitHostConfigSchema.parse({ kind: 'local', repoPath: dir }), { records });
      expect(local).toBeInstanceOf(LocalGitHost);
      expect(await local.defaultBranch()).toBe('main');
      const github = await createGitHost(gitHostConfigSchema.parse({ kind: 'github', token: 't', owner: 'acme', repo: 'x' }), { records });
      expect(github).toBeInstanceOf(GitHubGitHost);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
