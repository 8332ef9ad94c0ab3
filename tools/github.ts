import { z } from 'zod';
import {
  GitHubError,
  GitHubRateLimitError,
  type GitHubClient,
  type GitHubConfig,
  type IssueDetail,
  type IssueSummary,
} from '../adapters/github/port.js';
import { integrationClients } from './integration-clients.js';
import { IntegrationNotConfiguredError } from './integrations.js';
import { ToolFailedError, ToolRefusedError, type ChatTool, type ToolRunContext } from './tool.js';
import { boundedBlock, boundedLines, day } from './text-budget.js';

// The chat agent's GitHub tools: issue and pull request search, commit search, and one issue or
// pull request with its diff. All read; each call builds a client from the caller's own settings
// (`context.integration('github')`: token, API root, default owner), so one user never searches
// with another's token.

export interface GitHubToolDeps {
  /** Builds a client for one caller's settings; the @octokit/rest adapter by default. */
  connect?: (config: GitHubConfig) => Promise<GitHubClient>;
}

const SEARCH_CONTENT_CHARS = 3_500;
/** Room for the header and the description besides the diff. */
const ISSUE_HEADER_CHARS = 4_000;
const BODY_CONTENT_CHARS = 2_500;

const query = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .describe('GitHub search syntax; qualifiers pass through (repo:owner/name, org:, is:open, label:, author:, created:>2026-01-01)');
const page = z.number().int().min(1).max(100).default(1).describe('1-based page of results');
const perPage = z.number().int().min(1).max(50).default(10).describe('Results per page (GitHub serves the first 1000 results of a search)');

const searchIssuesInput = z.strictObject({
  query,
  kind: z.enum(['issue', 'pr']).optional().describe('Only issues or only pull requests (adds is:issue / is:pr)'),
  sort: z.enum(['created', 'updated', 'comments']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  page,
  perPage,
});

const searchCommitsInput = z.strictObject({
  query,
  sort: z.enum(['author-date', 'committer-date']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  page,
  perPage,
});

const getIssueInput = z.strictObject({
  repository: z
    .string()
    .trim()
    .regex(/^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}\/)?[A-Za-z0-9._-]{1,100}$/, 'owner/name, or name alone in the default owner')
    .describe('owner/name, or the name alone when a default owner is configured'),
  number: z.number().int().min(1),
  includeDiff: z.boolean().default(true).describe('For a pull request, include its unified diff'),
  maxDiffChars: z.number().int().min(1_000).max(100_000).default(12_000).describe('Cut the diff after this many characters'),
});

export function createGitHubTools(deps: GitHubToolDeps = {}): ChatTool[] {
  const connect = deps.connect ?? integrationClients.github;

  async function client(context: ToolRunContext): Promise<{ github: GitHubClient; defaultOwner: string | undefined }> {
    const settings = await settingsOf(context);
    return {
      github: await connect({ token: settings.token, baseUrl: settings.baseUrl, defaultOwner: settings.defaultOwner }),
      defaultOwner: settings.defaultOwner,
    };
  }

  const searchIssues: ChatTool<z.output<typeof searchIssuesInput>> = {
    name: 'github_search_issues',
    description:
      'Search GitHub issues and pull requests with GitHub search syntax. Without repo:, org: or user: the search is scoped to the ' +
      'configured default owner. Returns number, title, state, author, labels and links; page through with page.',
    input: searchIssuesInput,
    integration: 'github',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const { github } = await client(context);
      const kindQualifier = args.kind === 'pr' ? 'is:pr' : args.kind === 'issue' ? 'is:issue' : '';
      const q =
        kindQualifier && !new RegExp(`(^|\\s)${kindQualifier}(\\s|$)`).test(args.query) ? `${args.query} ${kindQualifier}` : args.query;
      const result = await guarded(() =>
        github.searchIssues(q, { page: args.page, perPage: args.perPage, sort: args.sort, order: args.order, signal: context.signal }),
      );
      const first = (result.page - 1) * result.perPage + 1;
      const header =
        result.items.length === 0
          ? `No GitHub issues or pull requests match \`${result.query}\`${result.page > 1 ? ` on page ${result.page}` : ''}.`
          : `GitHub issues and pull requests matching \`${result.query}\`: ${first}–${first + result.items.length - 1} of ${result.totalCount}` +
            `${result.incompleteResults ? ' (GitHub timed out part of the search: there may be more)' : ''}.`;
      const more = result.hasMore
        ? `Next: page ${result.page + 1}, or narrow the query (repo:, is:open, label:, author:, created:>…).`
        : '';
      const { text } = boundedLines(header, result.items.map(issueLine), SEARCH_CONTENT_CHARS, 'Narrow the query or lower perPage.');
      return {
        content: more ? `${text}\n${more}` : text,
        data: result,
        links: result.items.map((item) => ({ title: `${item.repository}#${item.number} ${item.title}`, url: item.url })),
      };
    },
  };

  const searchCommits: ChatTool<z.output<typeof searchCommitsInput>> = {
    name: 'github_search_commits',
    description:
      'Search GitHub commits by message with GitHub search syntax (repo:, org:, author:, committer-date:>2026-11-01). Without repo:, ' +
      'org: or user: the search is scoped to the configured default owner. Returns sha, first line, author and date.',
    input: searchCommitsInput,
    integration: 'github',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const { github } = await client(context);
      const result = await guarded(() =>
        github.searchCommits(args.query, {
          page: args.page,
          perPage: args.perPage,
          sort: args.sort,
          order: args.order,
          signal: context.signal,
        }),
      );
      const first = (result.page - 1) * result.perPage + 1;
      const header =
        result.items.length === 0
          ? `No GitHub commits match \`${result.query}\`.`
          : `GitHub commits matching \`${result.query}\`: ${first}–${first + result.items.length - 1} of ${result.totalCount}` +
            `${result.incompleteResults ? ' (GitHub timed out part of the search: there may be more)' : ''}.`;
      const lines = result.items.map(
        (c) =>
          `- ${c.repository}@${c.sha.slice(0, 10)} ${c.title} — ${c.authorLogin ? `@${c.authorLogin}` : (c.authorName ?? 'unknown')}, ${day(c.date)}`,
      );
      const more = result.hasMore ? `Next: page ${result.page + 1}, or narrow the query (repo:, author:, author-date:>…).` : '';
      const { text } = boundedLines(header, lines, SEARCH_CONTENT_CHARS, 'Narrow the query or lower perPage.');
      return {
        content: more ? `${text}\n${more}` : text,
        data: result,
        links: result.items.map((c) => ({ title: `${c.repository}@${c.sha.slice(0, 7)} ${c.title}`, url: c.url })),
      };
    },
  };

  const getIssue: ChatTool<z.output<typeof getIssueInput>> = {
    name: 'github_get_issue',
    description:
      'One GitHub issue or pull request: title, state, author, labels, comment count and body; for a pull request also its branches, ' +
      'merge state, size and unified diff (cut at maxDiffChars; set includeDiff false to skip it).',
    input: getIssueInput,
    integration: 'github',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const { github, defaultOwner } = await client(context);
      const [owner, repo] = args.repository.includes('/') ? args.repository.split('/') : [defaultOwner, args.repository];
      if (!owner) {
        throw new ToolRefusedError(`Give the repository as owner/name: no default owner is configured for GitHub`, 'invalid_arguments');
      }
      const issue = await guarded(() =>
        github.getIssue(
          { owner, repo: repo!, number: args.number },
          { includeDiff: args.includeDiff, maxDiffChars: args.maxDiffChars, signal: context.signal },
        ),
      );
      return {
        content: describeIssue(issue, args.maxDiffChars),
        data: issue,
        links: [{ title: `${issue.repository}#${issue.number} ${issue.title}`, url: issue.url }],
      };
    },
  };

  return [searchIssues, searchCommits, getIssue];
}

async function settingsOf(context: ToolRunContext) {
  try {
    return await context.integration('github');
  } catch (err) {
    if (err instanceof IntegrationNotConfiguredError) throw new ToolRefusedError(err.message, 'not_configured');
    throw err;
  }
}

/** GitHub failures as the registry's ToolFailedError (retryable for rate limits, 5xx and network). */
async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof GitHubRateLimitError) {
      throw new ToolFailedError(`${err.message}. Wait before searching GitHub again.`, true, err.status ?? undefined);
    }
    if (err instanceof GitHubError) throw new ToolFailedError(err.message, err.retryable, err.status ?? undefined);
    throw err;
  }
}

function issueLine(item: IssueSummary): string {
  const kind = item.isPullRequest ? 'PR' : 'issue';
  const labels = item.labels.length ? ` [${item.labels.join(', ')}]` : '';
  return `- ${item.repository}#${item.number} (${kind}, ${item.state}) ${item.title}${labels} — @${item.author ?? 'ghost'}, updated ${day(item.updatedAt)}, ${item.comments} comments`;
}

function describeIssue(issue: IssueDetail, maxDiffChars: number): string {
  const pr = issue.pullRequest;
  const lines = [
    `${issue.repository}#${issue.number} (${pr ? 'pull request' : 'issue'}, ${pr?.merged ? 'merged' : issue.state}${pr?.draft ? ', draft' : ''}): ${issue.title}`,
    `Author @${issue.author ?? 'ghost'}; opened ${day(issue.createdAt)}, updated ${day(issue.updatedAt)}${issue.closedAt ? `, closed ${day(issue.closedAt)}` : ''}; ${issue.comments} comments.`,
  ];
  if (issue.labels.length) lines.push(`Labels: ${issue.labels.join(', ')}`);
  if (issue.assignees.length) lines.push(`Assignees: ${issue.assignees.map((a) => `@${a}`).join(', ')}`);
  if (issue.milestone) lines.push(`Milestone: ${issue.milestone}`);
  if (pr) {
    lines.push(
      `Branches: ${pr.head} → ${pr.base}; ${pr.changedFiles} files changed, +${pr.additions} −${pr.deletions}; ${pr.reviewComments} review comments${pr.mergedAt ? `; merged ${day(pr.mergedAt)}` : ''}.`,
    );
  }
  lines.push(
    `URL: ${issue.url}`,
    '',
    boundedBlock(issue.body.trim() || '(no description)', BODY_CONTENT_CHARS, 'the description is longer').text,
  );
  if (issue.bodyTruncated) lines.push('[the description is longer than shown]');
  if (pr?.diff !== null && pr?.diff !== undefined) {
    const source = pr.diffSource === 'files' ? ' (assembled from the files list: GitHub would not render this diff whole)' : '';
    lines.push('', `Diff${source}:`, '```diff', pr.diff, '```');
    if (pr.diffTruncated)
      lines.push(`[diff cut at ${pr.diff.length} characters of a longer one: raise maxDiffChars, or read the files on GitHub]`);
  }
  return boundedBlock(lines.join('\n'), maxDiffChars + ISSUE_HEADER_CHARS, 'lower maxDiffChars or set includeDiff false').text;
}
