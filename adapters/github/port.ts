// The GitHub port: issue, pull request and commit search and one issue or pull request with its diff,
// for the chat agent's GitHub tools. octokit.ts speaks GitHub's REST API (github.com or GitHub
// Enterprise Server) through @octokit/rest. Each call is one attempt: failures are classified here
// (retryable or not, with a retry time when GitHub gives one) and the caller decides whether to retry.

export interface GitHubConfig {
  token: string;
  /** API root: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  baseUrl: string;
  /** Searches that name no repo:, org: or user: are scoped to this owner (a user or an organisation). */
  defaultOwner?: string | undefined;
  /** Per request; 15 s by default. */
  timeoutMs?: number;
}

export interface SearchPaging {
  /** 1-based. GitHub serves the first 1000 results of a search: page × perPage ≤ 1000. */
  page?: number;
  /** 1..100; 10 by default. */
  perPage?: number;
  signal?: AbortSignal;
}

export interface SearchResult<T> {
  /** The query as sent, after the default owner was added. */
  query: string;
  totalCount: number;
  /** GitHub timed out part of the search: there may be matches it did not return. */
  incompleteResults: boolean;
  page: number;
  perPage: number;
  /** Another page exists within the 1000 results GitHub serves. */
  hasMore: boolean;
  items: T[];
}

export interface IssueSummary {
  /** owner/name */
  repository: string;
  number: number;
  title: string;
  state: 'open' | 'closed';
  isPullRequest: boolean;
  author: string | null;
  labels: string[];
  comments: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  url: string;
}

export interface CommitSummary {
  repository: string;
  sha: string;
  /** The first line of the commit message. */
  title: string;
  authorName: string | null;
  authorLogin: string | null;
  /** Author date (ISO 8601). */
  date: string | null;
  url: string;
}

export interface PullRequestDetail {
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  base: string;
  head: string;
  additions: number;
  deletions: number;
  changedFiles: number;
  reviewComments: number;
  /** The unified diff, cut at maxDiffChars; null when it was not asked for. */
  diff: string | null;
  /** The diff was longer than maxDiffChars (or GitHub refused to render it whole and it came from the files list). */
  diffTruncated: boolean;
  /** `diff`: GitHub's rendered diff; `files`: assembled from the files list's patches (GitHub refuses diffs of very large pull requests). */
  diffSource: 'diff' | 'files' | null;
}

export interface IssueDetail extends IssueSummary {
  /** Markdown body, cut at maxBodyChars. */
  body: string;
  bodyTruncated: boolean;
  assignees: string[];
  milestone: string | null;
  pullRequest: PullRequestDetail | null;
}

export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

export interface GitHubClient {
  /** GET /search/issues: qualifiers pass through unchanged. */
  searchIssues(
    query: string,
    options?: SearchPaging & { sort?: 'created' | 'updated' | 'comments'; order?: 'asc' | 'desc' },
  ): Promise<SearchResult<IssueSummary>>;
  /** GET /search/commits. */
  searchCommits(
    query: string,
    options?: SearchPaging & { sort?: 'author-date' | 'committer-date'; order?: 'asc' | 'desc' },
  ): Promise<SearchResult<CommitSummary>>;
  /** An issue or pull request; a pull request with its diff unless includeDiff is false. */
  getIssue(
    ref: IssueRef,
    options?: { includeDiff?: boolean; maxDiffChars?: number; maxBodyChars?: number; signal?: AbortSignal },
  ): Promise<IssueDetail>;
}

/** A GitHub call failed. `status` is GitHub's HTTP status when it answered. The message never carries the token. */
export class GitHubError extends Error {
  override readonly name: string = 'GitHubError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** 401 (token rejected) or 403 (the token may not see this): not retryable. */
export class GitHubAuthError extends GitHubError {
  override readonly name = 'GitHubAuthError';
  constructor(message: string, status: number) {
    super(message, status, false);
  }
}

/** 404: no such repository, issue or pull request, or the token may not see it. */
export class GitHubNotFoundError extends GitHubError {
  override readonly name = 'GitHubNotFoundError';
  constructor(message: string) {
    super(message, 404, false);
  }
}

/** 422: GitHub refused the query or the paging (a bad qualifier, past the first 1000 results). */
export class GitHubValidationError extends GitHubError {
  override readonly name = 'GitHubValidationError';
  constructor(message: string) {
    super(message, 422, false);
  }
}

/** Rate limited (403 with x-ratelimit-remaining 0, a secondary limit, or 429): retryable at `retryAt`. */
export class GitHubRateLimitError extends GitHubError {
  override readonly name = 'GitHubRateLimitError';
  constructor(
    message: string,
    status: number,
    readonly retryAt: Date | null,
  ) {
    super(message, status, true);
  }
}

/** 5xx, a timeout or a network failure: retryable. */
export class GitHubUnavailableError extends GitHubError {
  override readonly name = 'GitHubUnavailableError';
  constructor(message: string, status: number | null = null) {
    super(message, status, true);
  }
}

/** GitHub serves at most the first 1000 results of any search. */
export const SEARCH_RESULT_LIMIT = 1000;

/**
 * The query scoped to `defaultOwner` when it names no repo:, org: or user: qualifier. `user:` matches
 * repositories owned by a user or an organisation, so it works for either kind of owner.
 */
export function scopeQuery(query: string, defaultOwner: string | undefined): string {
  const trimmed = query.trim();
  if (!defaultOwner || /(?:^|\s)-?(?:repo|org|user):/i.test(trimmed)) return trimmed;
  return `${trimmed} user:${defaultOwner}`.trim();
}
