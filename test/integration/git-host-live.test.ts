import { Octokit } from '@octokit/rest';
import { afterAll, describe, expect, it } from 'vitest';
import { GitHubGitHost } from '../../adapters/git-host/github.js';
import { GitHostRefusedError } from '../../adapters/git-host/port.js';

// The GitHub git host against the real API: a branch, one commit and one pull request in a scratch
// repository, each made twice to prove the second attempt finds the first; the pull request is
// closed and the branch deleted afterwards. Runs only when INFRAAI_GITHUB_LIVE_TOKEN (a token that
// may push branches and open pull requests) and INFRAAI_GITHUB_LIVE_REPO (owner/name of a repository
// that may receive them) are set, INFRAAI_GITHUB_LIVE_API_URL for GitHub Enterprise Server; skipped
// otherwise, CI included (no credentials there).
const env = process.env;
const token = env.INFRAAI_GITHUB_LIVE_TOKEN?.trim();
const [owner, repo] = (env.INFRAAI_GITHUB_LIVE_REPO?.trim() ?? '').split('/');
const settings =
  token && owner && repo ? { token, owner, repo, baseUrl: env.INFRAAI_GITHUB_LIVE_API_URL?.trim() || 'https://api.github.com' } : null;

describe.skipIf(!settings)('GitHub git host (live)', () => {
  const live = settings!;
  const branch = `infraai/live-test-${Date.now()}`;
  const requestId = `live-${Date.now()}`;
  const opened: number[] = [];

  afterAll(async () => {
    const octokit = new Octokit({ auth: live.token, baseUrl: live.baseUrl });
    for (const number of opened)
      await octokit.rest.pulls.update({ owner: live.owner, repo: live.repo, pull_number: number, state: 'closed' });
    await octokit.rest.git.deleteRef({ owner: live.owner, repo: live.repo, ref: `heads/${branch}` }).catch(() => undefined);
  });

  it('makes one branch, one commit and one pull request, and finds each again', async () => {
    const host = new GitHubGitHost(live);
    const base = await host.defaultBranch();
    const created = await host.ensureBranch(branch);
    expect(created.created).toBe(true);
    expect((await host.ensureBranch(branch)).created).toBe(false);

    const files = [{ path: `infraai-live-test/${requestId}/main.tf`, content: `# InfraAI live test ${requestId}\n` }];
    const commit = await host.commitFiles({ branch, requestId, message: 'InfraAI live test (closed automatically)', files });
    expect(commit.created).toBe(true);
    // A fresh instance, as after a worker restart.
    expect(await new GitHubGitHost(live).commitFiles({ branch, requestId, message: 'again', files })).toEqual({
      sha: commit.sha,
      created: false,
    });

    const pull = await host.openPullRequest({
      branch,
      title: `InfraAI live test ${requestId}`,
      body: 'Opened and closed by the live test.',
    });
    opened.push(pull.number);
    expect(pull).toMatchObject({ created: true, state: 'open', head: branch, base });
    expect(pull.url).toMatch(/^https:\/\/.+\/pull\/\d+$/);
    expect(await host.openPullRequest({ branch, title: 'x', body: '' })).toEqual({ ...pull, created: false });
    expect(await host.pullRequest(pull.number)).toEqual({ number: pull.number, url: pull.url, state: 'open', head: branch, base });
  });

  it('refuses a rejected token without repeating it', async () => {
    const wrong = new GitHubGitHost({ ...live, token: `${live.token}x` });
    const err = await wrong.defaultBranch().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHostRefusedError);
    expect(err).toMatchObject({ status: 401 });
    expect((err as Error).message).not.toContain(live.token);
  });
});
