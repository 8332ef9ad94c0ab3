import { Octokit } from '@octokit/rest';
import { redactText, truncateText } from '../../core/redact.js';
import {
  GitHubAuthError,
  GitHubError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubUnavailableError,
  GitHubValidationError,
  SEARCH_RESULT_LIMIT,
  scopeQuery,
  type CommitSummary,
  type GitHubClient,
  type GitHubConfig,
  type IssueDetail,
  type IssueRef,
  type IssueSummary,
  type PullRequestDetail,
  type SearchPaging,
  type SearchResult,
} from './port.js';

// GitHub's REST API through @octokit/rest (without its retry and throttling plugins: a call is one
// attempt, and the chat activity's retry policy decides what happens next with the retry time this
// adapter reads from GitHub's rate-limit headers).

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_DIFF_CHARS = 20_000;
const DEFAULT_MAX_BODY_CHARS = 4_000;
/** Files-list fallback: GitHub lists at most 3000 files, 100 a page. */
const MAX_FILE_PAGES = 30;

export function createOctokitGitHubClient(config: GitHubConfig): GitHubClient {
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = [config.token];
  const octokit = new Octokit({
    auth: config.token,
    baseUrl,
    userAgent: 'infraai',
    // Octokit's debug and info lines are noise here; its deprecation warnings are worth seeing.
    log: { debug: () => undefined, info: () => undefined, warn: (message: string) => console.warn(message), error: () => undefined },
  });

  /** Runs one request with the caller's signal and a timeout; every failure becomes a GitHubError. */
  async function call<T>(what: string, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      return await run(combined);
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (timeout.aborted) throw new GitHubUnavailableError(`GitHub ${what}: no answer from ${baseUrl} within ${timeoutMs} ms`);
      throw toGitHubError(err, what, baseUrl, secrets);
    }
  }

  function paging(options: SearchPaging | undefined): { page: number; perPage: number } {
    const page = options?.page ?? 1;
    const perPage = options?.perPage ?? 10;
    if (!Number.isInteger(page) || page < 1) throw new GitHubValidationError(`page must be a whole number from 1 (got ${page})`);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100)
      throw new GitHubValidationError(`perPage must be from 1 to 100 (got ${perPage})`);
    if ((page - 1) * perPage >= SEARCH_RESULT_LIMIT)
      throw new GitHubValidationError(
        `GitHub serves only the first ${SEARCH_RESULT_LIMIT} results of a search (page ${page} × ${perPage} is past them): narrow the query instead`,
      );
    return { page, perPage };
  }

  function page<T>(query: string, p: { page: number; perPage: number }, data: SearchData, items: T[]): SearchResult<T> {
    const reachable = Math.min(data.total_count, SEARCH_RESULT_LIMIT);
    return {
      query,
      totalCount: data.total_count,
      incompleteResults: data.incomplete_results,
      page: p.page,
      perPage: p.perPage,
      hasMore: p.page * p.perPage < reachable,
      items,
    };
  }

  return {
    async searchIssues(query, options) {
      const q = checkedQuery(scopeQuery(query, config.defaultOwner));
      const p = paging(options);
      const { data } = await call('issue search', options?.signal, (signal) =>
        octokit.rest.search.issuesAndPullRequests({
          q,
          per_page: p.perPage,
          page: p.page,
          ...(options?.sort ? { sort: options.sort } : {}),
          ...(options?.order ? { order: options.order } : {}),
          request: { signal },
        }),
      );
      return page(q, p, data, data.items.map(toIssueSummary));
    },

    async searchCommits(query, options) {
      const q = checkedQuery(scopeQuery(query, config.defaultOwner));
      const p = paging(options);
      const { data } = await call('commit search', options?.signal, (signal) =>
        octokit.rest.search.commits({
          q,
          per_page: p.perPage,
          page: p.page,
          ...(options?.sort ? { sort: options.sort } : {}),
          ...(options?.order ? { order: options.order } : {}),
          request: { signal },
        }),
      );
      return page(q, p, data, data.items.map(toCommitSummary));
    },

    async getIssue(ref, options) {
      const { owner, repo, number } = checkedRef(ref);
      const name = `${owner}/${repo}#${number}`;
      const { data: issue } = await call(`get ${name}`, options?.signal, (signal) =>
        octokit.rest.issues.get({ owner, repo, issue_number: number, request: { signal } }),
      );
      const summary = toIssueSummary(issue);
      const body = cut(issue.body ?? '', options?.maxBodyChars ?? DEFAULT_MAX_BODY_CHARS);
      const detail: IssueDetail = {
        ...summary,
        repository: `${owner}/${repo}`,
        body: body.text,
        bodyTruncated: body.truncated,
        assignees: (issue.assignees ?? []).map((a) => a.login),
        milestone: issue.milestone?.title ?? null,
        pullRequest: null,
      };
      if (!issue.pull_request) return detail;

      const { data: pull } = await call(`get pull request ${name}`, options?.signal, (signal) =>
        octokit.rest.pulls.get({ owner, repo, pull_number: number, request: { signal } }),
      );
      const pr: PullRequestDetail = {
        draft: pull.draft ?? false,
        merged: pull.merged,
        mergedAt: pull.merged_at,
        base: pull.base.ref,
        head: pull.head.label ?? pull.head.ref,
        additions: pull.additions,
        deletions: pull.deletions,
        changedFiles: pull.changed_files,
        reviewComments: pull.review_comments,
        diff: null,
        diffTruncated: false,
        diffSource: null,
      };
      if (options?.includeDiff !== false) {
        Object.assign(pr, await diffOf(ref, options?.maxDiffChars ?? DEFAULT_MAX_DIFF_CHARS, options?.signal));
      }
      return { ...detail, pullRequest: pr };
    },
  };

  /**
   * GitHub's rendered diff, read as a stream and cut at maxChars so a huge pull request costs no more
   * than what is kept. GitHub refuses to render the diffs of very large pull requests (406 or 422);
   * then the diff is assembled from the files list's patches.
   */
  async function diffOf(ref: IssueRef, maxChars: number, signal: AbortSignal | undefined): Promise<Partial<PullRequestDetail>> {
    const name = `${ref.owner}/${ref.repo}#${ref.number}`;
    try {
      return await call(`diff of ${name}`, signal, async (combined) => {
        const response = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
          owner: ref.owner,
          repo: ref.repo,
          pull_number: ref.number,
          headers: { accept: 'application/vnd.github.diff' },
          request: { signal: combined, parseSuccessResponseBody: false },
        });
        const { text, truncated } = await readBounded(response.data as unknown as ReadableStream<Uint8Array> | null, maxChars);
        return { diff: text, diffTruncated: truncated, diffSource: 'diff' as const };
      });
    } catch (err) {
      if (!(err instanceof GitHubError) || (err.status !== 406 && err.status !== 422)) throw err;
    }
    let diff = '';
    let truncated = false;
    for (let filePage = 1; filePage <= MAX_FILE_PAGES && !truncated; filePage++) {
      const { data: files } = await call(`files of ${name}`, signal, (combined) =>
        octokit.rest.pulls.listFiles({
          owner: ref.owner,
          repo: ref.repo,
          pull_number: ref.number,
          per_page: 100,
          page: filePage,
          request: { signal: combined },
        }),
      );
      for (const file of files) {
        const from = file.previous_filename ?? file.filename;
        const section =
          `diff --git a/${from} b/${file.filename}\n--- a/${from}\n+++ b/${file.filename}\n` +
          (file.patch !== undefined
            ? `${file.patch}\n`
            : `(no patch: ${file.status}, binary or too large to show; +${file.additions} -${file.deletions})\n`);
        if (diff.length + section.length > maxChars) {
          diff += section.slice(0, Math.max(0, maxChars - diff.length));
          truncated = true;
          break;
        }
        diff += section;
      }
      if (files.length < 100) break;
    }
    return { diff, diffTruncated: truncated, diffSource: 'files' };
  }
}

interface SearchData {
  total_count: number;
  incomplete_results: boolean;
}

/** GitHub caps a search query at 256 characters; refuse longer ones before spending a request. */
function checkedQuery(q: string): string {
  if (q === '') throw new GitHubValidationError('The search query is empty');
  if (q.length > 256) throw new GitHubValidationError(`The search query is ${q.length} characters; GitHub accepts at most 256`);
  return q;
}

function checkedRef(ref: IssueRef): IssueRef {
  const name = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
  const repo = /^[A-Za-z0-9._-]{1,100}$/;
  if (!name.test(ref.owner)) throw new GitHubValidationError(`"${ref.owner}" is not a GitHub user or organisation name`);
  if (!repo.test(ref.repo) || ref.repo === '.' || ref.repo === '..')
    throw new GitHubValidationError(`"${ref.repo}" is not a repository name`);
  if (!Number.isInteger(ref.number) || ref.number < 1) throw new GitHubValidationError(`${ref.number} is not an issue number`);
  return ref;
}

interface IssueItem {
  number: number;
  title: string;
  state: string;
  html_url: string;
  repository_url: string;
  user?: { login: string } | null;
  labels: (string | { name?: string | null })[];
  comments: number;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull_request?: unknown;
}

function toIssueSummary(item: IssueItem): IssueSummary {
  return {
    repository: item.repository_url.split('/repos/')[1] ?? item.repository_url,
    number: item.number,
    title: item.title,
    state: item.state === 'closed' ? 'closed' : 'open',
    isPullRequest: item.pull_request !== undefined && item.pull_request !== null,
    author: item.user?.login ?? null,
    labels: item.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).filter(Boolean),
    comments: item.comments,
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    closedAt: item.closed_at,
    url: item.html_url,
  };
}

interface CommitItem {
  sha: string;
  html_url: string;
  commit: { message: string; author?: { name?: string; date?: string } | null };
  author?: { login: string } | null;
  repository: { full_name: string };
}

function toCommitSummary(item: CommitItem): CommitSummary {
  return {
    repository: item.repository.full_name,
    sha: item.sha,
    title: item.commit.message.split('\n', 1)[0] ?? '',
    authorName: item.commit.author?.name ?? null,
    authorLogin: item.author?.login ?? null,
    date: item.commit.author?.date ?? null,
    url: item.html_url,
  };
}

function cut(text: string, maxChars: number): { text: string; truncated: boolean } {
  return text.length > maxChars ? { text: text.slice(0, maxChars), truncated: true } : { text, truncated: false };
}

async function readBounded(stream: ReadableStream<Uint8Array> | null, maxChars: number): Promise<{ text: string; truncated: boolean }> {
  if (!stream) return { text: '', truncated: false };
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length > maxChars) return { text: text.slice(0, maxChars), truncated: true };
    }
    text += decoder.decode();
    return cut(text, maxChars);
  } finally {
    // Stops the download when the diff was cut.
    await reader.cancel().catch(() => undefined);
  }
}

interface OctokitFailure {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function toGitHubError(err: unknown, what: string, baseUrl: string, secrets: readonly string[]): GitHubError {
  if (err instanceof GitHubError) return err;
  const failure = (err ?? {}) as OctokitFailure;
  const status = typeof failure.status === 'number' ? failure.status : null;
  const response = failure.response;
  if (!response || status === null) {
    // No answer: a refused connection, DNS, TLS (octokit reports these as status 500 without a response).
    const detail = err instanceof Error ? err.message : String(err);
    return new GitHubUnavailableError(redactText(`GitHub ${what}: ${baseUrl} did not answer (${truncateText(detail, 200)})`, secrets));
  }
  const headers = response.headers ?? {};
  const text = serviceText(response.data);
  const said = text ? `: ${redactText(truncateText(text, 300), secrets)}` : '';
  const header = (name: string) => (headers[name] === undefined ? undefined : String(headers[name]));
  const retryAfter = Number(header('retry-after'));
  const remaining = header('x-ratelimit-remaining');
  const reset = Number(header('x-ratelimit-reset'));
  const secondary = /secondary rate limit|abuse/i.test(text ?? '');
  if (status === 429 || (status === 403 && (remaining === '0' || secondary || Number.isFinite(retryAfter)))) {
    const retryAt =
      Number.isFinite(retryAfter) && header('retry-after') !== undefined
        ? new Date(Date.now() + retryAfter * 1000)
        : remaining === '0' && Number.isFinite(reset)
          ? new Date(reset * 1000)
          : null;
    return new GitHubRateLimitError(
      `GitHub ${what}: rate limited (HTTP ${status})${retryAt ? `; retry after ${retryAt.toISOString()}` : ''}${said}`,
      status,
      retryAt,
    );
  }
  if (status === 401) return new GitHubAuthError(`GitHub ${what}: the token was rejected (HTTP 401)${said}`, 401);
  if (status === 403) return new GitHubAuthError(`GitHub ${what}: forbidden for this token (HTTP 403)${said}`, 403);
  if (status === 404) return new GitHubNotFoundError(`GitHub ${what}: not found, or the token may not see it (HTTP 404)`);
  if (status === 422) return new GitHubValidationError(`GitHub ${what}: GitHub refused the request (HTTP 422)${said}`);
  if (status >= 500) return new GitHubUnavailableError(`GitHub ${what}: server error (HTTP ${status})${said}`, status);
  return new GitHubError(`GitHub ${what}: HTTP ${status}${said}`, status, false);
}

/** GitHub's error body: { message, errors: [{ message } | { code, field }], documentation_url }. */
function serviceText(data: unknown): string | undefined {
  if (typeof data === 'string') return data.trim() || undefined;
  if (typeof data !== 'object' || data === null) return undefined;
  const body = data as { message?: unknown; errors?: unknown };
  const details = Array.isArray(body.errors)
    ? body.errors
        .map((e: { message?: unknown; code?: unknown; field?: unknown }) =>
          typeof e?.message === 'string' ? e.message : [e?.field, e?.code].filter((x) => typeof x === 'string').join(' '),
        )
        .filter(Boolean)
    : [];
  const message = typeof body.message === 'string' ? body.message : '';
  return [message, ...details].filter(Boolean).join('; ') || undefined;
}
