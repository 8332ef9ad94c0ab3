// The git host port: where provisioning puts its branch, commit and pull request. Two
// implementations: GitHub through @octokit/rest, and an embedded local git repository (a branch per
// request, the pull-request record kept by a PullRequestRecords repository) so the feature works
// without an account. Every method is idempotent by name: a retried or crashed step finds the branch,
// commit or pull request it already made (names derive from the request id) instead of making another.
import type { ProvisionFile } from '../../core/provisioning/types.js';

export type PullRequestState = 'open' | 'merged' | 'closed';

export interface PullRequestRef {
  number: number;
  url: string;
  state: PullRequestState;
  /** The branch the pull request merges (`infraai/provision-<id>`). */
  head: string;
  base: string;
}

export interface GitHost {
  readonly kind: 'local' | 'github';
  /** The branch pull requests merge into (the repository's default branch). */
  defaultBranch(): Promise<string>;
  /**
   * Creates `branch` from the default branch's head, or finds it (`created: false`). `baseSha` is the
   * commit the branch was created from; for a branch found, its current head (what a commit would go
   * on top of: after a resumed attempt, the commit already made).
   */
  ensureBranch(branch: string): Promise<{ branch: string; created: boolean; baseSha: string }>;
  /**
   * Puts all `files` on `branch` as ONE commit with `message`, or finds the commit already there: a
   * branch whose head commit carries the same `Provision-Request: <requestId>` trailer is not committed
   * to again (`created: false`).
   */
  commitFiles(input: {
    branch: string;
    requestId: string;
    message: string;
    files: ProvisionFile[];
  }): Promise<{ sha: string; created: boolean }>;
  /** Opens a pull request from `branch`, or finds the one already open/closed/merged from it (`created: false`). */
  openPullRequest(input: { branch: string; title: string; body: string }): Promise<PullRequestRef & { created: boolean }>;
  /** The pull request's state now (polling fallback when no webhook arrives). */
  pullRequest(number: number): Promise<PullRequestRef>;
  /** Closes an open pull request unmerged (an expired request); a closed one is answered as it is; a merged one is refused. */
  close(number: number): Promise<PullRequestRef>;
  /**
   * Comments on the pull request (the review reminder), where the host has comments: GitHub does;
   * the local host has none (absent).
   */
  comment?(number: number, body: string): Promise<void>;
}

/**
 * The embedded local host's review: there is no web UI to merge or close on, so an operator does it
 * through the API (POST /api/v1/provision/{id}/review). GitHub has none: reviews happen on GitHub.
 */
export interface LocalPullRequestReview {
  merge(number: number): Promise<unknown>;
}

export function hasLocalReview(host: GitHost): host is GitHost & LocalPullRequestReview {
  return host.kind === 'local' && typeof (host as Partial<LocalPullRequestReview>).merge === 'function';
}

/** The git host could not be reached or answered a retryable error (5xx, 429, network). */
export class GitHostUnavailableError extends Error {
  override readonly name = 'GitHostUnavailableError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The git host refused the request for good (401/403 credentials, 404 repository, 422 validation). */
export class GitHostRefusedError extends Error {
  override readonly name = 'GitHostRefusedError';
  constructor(
    message: string,
    readonly status: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Where the local git host keeps its pull-request records (the store implements it; tests use memory). */
export interface PullRequestRecords {
  findByHead(head: string): Promise<PullRequestRef | null>;
  get(number: number): Promise<PullRequestRef | null>;
  /** Inserts the record with the next number; a concurrent insert for the same head returns the existing one. */
  create(input: { head: string; base: string; title: string; body: string }): Promise<PullRequestRef>;
  setState(number: number, state: PullRequestState): Promise<PullRequestRef | null>;
}
