import { describe, expect, it } from 'vitest';
import { createConfluenceClient } from '../../adapters/confluence/create.js';
import { ConfluenceAuthError, ConfluenceNotFoundError } from '../../adapters/confluence/port.js';
import { createGitHubClient } from '../../adapters/github/create.js';
import { GitHubAuthError, GitHubNotFoundError } from '../../adapters/github/port.js';
import { createJiraClient } from '../../adapters/jira/create.js';
import { JiraAuthError, JiraNotFoundError } from '../../adapters/jira/port.js';

// The GitHub, Jira and Confluence adapters against the real services, read-only calls only. Each
// block runs when its credentials are set (otherwise, CI included, it is skipped):
//   GITHUB_TOKEN [GITHUB_API_URL for GitHub Enterprise Server] [GITHUB_LIVE_REPO, default octokit/rest.js]
//   JIRA_BASE_URL JIRA_EMAIL JIRA_API_TOKEN [JIRA_LIVE_JQL]
//   CONFLUENCE_BASE_URL CONFLUENCE_EMAIL CONFLUENCE_API_TOKEN [CONFLUENCE_LIVE_CQL]
const env = process.env;
const github = env.GITHUB_TOKEN ? { token: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL || 'https://api.github.com' } : null;
const repo = env.GITHUB_LIVE_REPO || 'octokit/rest.js';
const jira =
  env.JIRA_BASE_URL && env.JIRA_EMAIL && env.JIRA_API_TOKEN
    ? { baseUrl: env.JIRA_BASE_URL, email: env.JIRA_EMAIL, apiToken: env.JIRA_API_TOKEN }
    : null;
const confluence =
  env.CONFLUENCE_BASE_URL && env.CONFLUENCE_EMAIL && env.CONFLUENCE_API_TOKEN
    ? { baseUrl: env.CONFLUENCE_BASE_URL, email: env.CONFLUENCE_EMAIL, apiToken: env.CONFLUENCE_API_TOKEN }
    : null;

for (const [name, configured, variables] of [
  ['GitHub', github, 'GITHUB_TOKEN'],
  ['Jira', jira, 'JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN'],
  ['Confluence', confluence, 'CONFLUENCE_BASE_URL, CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN'],
] as const) {
  if (!configured) console.info(`${name} live test skipped: set ${variables} to run it.`);
}

describe.skipIf(!github)('GitHub (live, read-only)', () => {
  it(`searches ${repo}, reads a merged pull request with its diff, and names a bad token and a missing issue`, async () => {
    const client = await createGitHubClient(github!);
    const pulls = await client.searchIssues(`repo:${repo} is:pr is:merged`, { perPage: 2, sort: 'updated', order: 'desc' });
    expect(pulls.totalCount).toBeGreaterThan(0);
    expect(pulls.items[0]!.isPullRequest).toBe(true);
    const [owner, name] = repo.split('/') as [string, string];
    const pull = await client.getIssue({ owner, repo: name, number: pulls.items[0]!.number }, { maxDiffChars: 4_000 });
    expect(pull.pullRequest).toMatchObject({ merged: true });
    expect(pull.pullRequest!.diff!.length).toBeGreaterThan(0);
    expect(pull.pullRequest!.diff!.length).toBeLessThanOrEqual(4_000);

    const commits = await client.searchCommits(`repo:${repo} fix`, { perPage: 2 });
    expect(commits.items.every((c) => c.repository.toLowerCase() === repo.toLowerCase())).toBe(true);

    await expect(client.getIssue({ owner, repo: name, number: 99_999_999 })).rejects.toBeInstanceOf(GitHubNotFoundError);
    const wrong = await createGitHubClient({ ...github!, token: 'ghp_000000000000000000000000000000000000' });
    await expect(wrong.searchIssues(`repo:${repo} bug`)).rejects.toBeInstanceOf(GitHubAuthError);
  });
});

describe.skipIf(!jira)('Jira (live, read-only)', () => {
  it('searches by JQL with nextPageToken, reads an issue, and names a bad token and a missing issue', async () => {
    const client = await createJiraClient(jira!);
    const jql = env.JIRA_LIVE_JQL || 'updated >= -365d ORDER BY updated DESC';
    const first = await client.searchIssues(jql, { maxResults: 2 });
    if (first.issues.length > 0) {
      const issue = await client.getIssue(first.issues[0]!.key);
      expect(issue.key).toBe(first.issues[0]!.key);
      expect(typeof issue.description).toBe('string');
    }
    if (first.nextPageToken) {
      const second = await client.searchIssues(jql, { maxResults: 2, nextPageToken: first.nextPageToken });
      expect(second.issues.map((i) => i.key)).not.toEqual(first.issues.map((i) => i.key));
    }
    await expect(client.getIssue('INFRAAINOPE-999999')).rejects.toBeInstanceOf(JiraNotFoundError);
    const wrong = await createJiraClient({ ...jira!, apiToken: 'not-a-token' });
    await expect(wrong.searchIssues(jql, { maxResults: 1 })).rejects.toBeInstanceOf(JiraAuthError);
  });
});

describe.skipIf(!confluence)('Confluence (live, read-only)', () => {
  it('searches by CQL, reads a page as text, and names a bad token and a missing page', async () => {
    const client = await createConfluenceClient(confluence!);
    const cql = env.CONFLUENCE_LIVE_CQL || 'type = page ORDER BY lastmodified DESC';
    const result = await client.searchPages(cql, { limit: 2 });
    const first = result.results.find((r) => r.type === 'page');
    if (first) {
      const page = await client.getPage(first.id, { maxChars: 2_000 });
      expect(page.id).toBe(first.id);
      expect(page.text.length).toBeLessThanOrEqual(2_000);
    }
    await expect(client.getPage('1')).rejects.toBeInstanceOf(ConfluenceNotFoundError);
    const wrong = await createConfluenceClient({ ...confluence!, apiToken: 'not-a-token' });
    await expect(wrong.searchPages(cql, { limit: 1 })).rejects.toBeInstanceOf(ConfluenceAuthError);
  });
});
