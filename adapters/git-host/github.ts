import { Octokit } from '@octokit/rest';
import { redactText, truncateText } from '../../core/redact.js';
import type { ProvisionFile } from '../../core/provisioning/types.js';
import { checkBranchName, checkFiles, provisionCommitMessage, provisionRequestOf } from './commits.js';
import { GitHostRefusedError, GitHostUnavailableError, type GitHost, type PullRequestRef, type PullRequestState } from './port.js';

// The git host on GitHub (github.com or GitHub Enterprise Server) through @octokit/rest and its Git
// Data API: a branch is a ref made from the default branch's head, the files are one tree (inline
// blob contents over the branch head's tree) and one commit, and the ref moves by a fast-forward-only
// update, so a concurrent writer makes the update fail (422) instead of being overwritten. Every call
// is one attempt (no octokit retry or throttling plugin): failures are classified as retryable, with
// the wait GitHub asks for, or refused, and the activity's retry policy decides what comes next.

export interface GitHubGitHostConfig {
  token: string;
  owner: string;
  repo: string;
  /** API root: https://api.github.com (default), or https://<host>/api/v3 for GitHub Enterprise Server. */
  baseUrl?: string;
  /** Per request; 15 s by default. */
  timeoutMs?: number;
}

const DEFAULT_BASE_URL = 'https://api.github.com';
const DEFAULT_TIMEOUT_MS = 15_000;
/** GitHub asks clients hit by a secondary rate limit without a Retry-After to wait at least a minute. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** Attempts at moving a branch that another writer moved first. */
const REF_UPDATE_ATTEMPTS = 3;

interface PullJson {
  number: number;
  html_url: string;
  state: string;
  merged?: boolean;
  merged_at: string | null;
  head: { ref: string };
  base: { ref: string };
}

export class GitHubGitHost implements GitHost {
  readonly kind = 'github' as const;
  private readonly octokit: Octokit;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private defaultBranchName: Promise<string> | null = null;

  constructor(private readonly config: GitHubGitHostConfig) {
    this.baseUrl = (config.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.octokit = new Octokit({
      auth: config.token,
      baseUrl: this.baseUrl,
      userAgent: 'infraai',
      log: { debug: () => undefined, info: () => undefined, warn: (message: string) => console.warn(message), error: () => undefined },
    });
  }

  /** Read once per instance: a repository's default branch changes rarely, and never mid-request. */
  defaultBranch(): Promise<string> {
    this.defaultBranchName ??= this.call('get repository', (request) =>
      this.octokit.rest.repos.get({ owner: this.config.owner, repo: this.config.repo, request }),
    ).then(
      ({ data }) => data.default_branch,
      (err: unknown) => {
        this.defaultBranchName = null;
        throw err;
      },
    );
    return this.defaultBranchName;
  }

  async ensureBranch(branch: string): Promise<{ branch: string; created: boolean; baseSha: string }> {
    checkBranchName(branch);
    const existing = await this.headOf(branch);
    if (existing) return { branch, created: false, baseSha: existing };
    const defaultBranch = await this.defaultBranch();
    const base = await this.headOf(defaultBranch);
    if (!base) throw new GitHostRefusedError(`GitHub: the default branch '${defaultBranch}' has no commit`, 404);
    try {
      await this.call(`create branch ${branch}`, (request) =>
        this.octokit.rest.git.createRef({ ...this.repo(), ref: `refs/heads/${branch}`, sha: base, request }),
      );
      return { branch, created: true, baseSha: base };
    } catch (err) {
      // "Reference already exists": a concurrent ensureBranch made it first.
      if (!isStatus(err, 422)) throw err;
      const head = await this.headOf(branch);
      if (!head) throw err;
      return { branch, created: false, baseSha: head };
    }
  }

  async commitFiles(input: {
    branch: string;
    requestId: string;
    message: string;
    files: ProvisionFile[];
  }): Promise<{ sha: string; created: boolean }> {
    checkBranchName(input.branch);
    checkFiles(input.files);
    const message = provisionCommitMessage(input.message, input.requestId);
    for (let attempt = 1; ; attempt++) {
      const head = await this.headOf(input.branch);
      if (!head) throw new GitHostRefusedError(`GitHub: branch '${input.branch}' does not exist (ensureBranch first)`, 404);
      const { data: headCommit } = await this.call(`get commit ${head}`, (request) =>
        this.octokit.rest.git.getCommit({ ...this.repo(), commit_sha: head, request }),
      );
      if (provisionRequestOf(headCommit.message) === input.requestId) return { sha: head, created: false };
      const { data: tree } = await this.call('create tree', (request) =>
        this.octokit.rest.git.createTree({
          ...this.repo(),
          base_tree: headCommit.tree.sha,
          tree: input.files.map((file) => ({ path: file.path, mode: '100644' as const, type: 'blob' as const, content: file.content })),
          request,
        }),
      );
      const { data: commit } = await this.call('create commit', (request) =>
        this.octokit.rest.git.createCommit({ ...this.repo(), message, tree: tree.sha, parents: [head], request }),
      );
      try {
        await this.call(`update branch ${input.branch}`, (request) =>
          this.octokit.rest.git.updateRef({ ...this.repo(), ref: `heads/${input.branch}`, sha: commit.sha, force: false, request }),
        );
        return { sha: commit.sha, created: true };
      } catch (err) {
        // "Update is not a fast forward": another writer moved the branch. The next round finds its
        // commit if it carries this request's trailer, or builds on the new head.
        if (!isStatus(err, 422) || attempt >= REF_UPDATE_ATTEMPTS) throw err;
      }
    }
  }

  async openPullRequest(input: { branch: string; title: string; body: string }): Promise<PullRequestRef & { created: boolean }> {
    checkBranchName(input.branch);
    const existing = await this.findPull(input.branch);
    if (existing) return { ...existing, created: false };
    const base = await this.defaultBranch();
    try {
      const { data } = await this.call(`open pull request from ${input.branch}`, (request) =>
        this.octokit.rest.pulls.create({ ...this.repo(), head: input.branch, base, title: input.title, body: input.body, request }),
      );
      return { ...toRef(data), created: true };
    } catch (err) {
      // "A pull request already exists for owner:branch": a concurrent call opened it first.
      if (!isStatus(err, 422) || !/already exists/i.test((err as Error).message)) throw err;
      const found = await this.findPull(input.branch);
      if (!found) throw err;
      return { ...found, created: false };
    }
  }

  async pullRequest(number: number): Promise<PullRequestRef> {
    const { data } = await this.call(`get pull request #${number}`, (request) =>
      this.octokit.rest.pulls.get({ ...this.repo(), pull_number: number, request }),
    );
    return toRef(data);
  }

  async close(number: number): Promise<PullRequestRef> {
    const current = await this.pullRequest(number);
    if (current.state === 'merged') throw new GitHostRefusedError(`pull request #${number} is merged`, 405);
    if (current.state === 'closed') return current;
    const { data } = await this.call(`close pull request #${number}`, (request) =>
      this.octokit.rest.pulls.update({ ...this.repo(), pull_number: number, state: 'closed', request }),
    );
    return toRef(data);
  }

  async comment(number: number, body: string): Promise<void> {
    await this.call(`comment on pull request #${number}`, (request) =>
      this.octokit.rest.issues.createComment({ ...this.repo(), issue_number: number, body, request }),
    );
  }

  /** The pull request from `branch`: the open one, else the most recent closed or merged one. */
  private async findPull(branch: string): Promise<PullRequestRef | null> {
    const { data } = await this.call(`find pull request from ${branch}`, (request) =>
      this.octokit.rest.pulls.list({ ...this.repo(), head: `${this.config.owner}:${branch}`, state: 'all', per_page: 10, request }),
    );
    const pulls = data.filter((pull) => pull.head.ref === branch);
    const pick = pulls.find((pull) => pull.state === 'open') ?? pulls[0];
    return pick ? toRef(pick) : null;
  }

  /** The branch's head commit, or null when GitHub has no such branch (404). */
  private async headOf(branch: string): Promise<string | null> {
    try {
      const { data } = await this.call(`get branch ${branch}`, (request) =>
        this.octokit.rest.git.getRef({ ...this.repo(), ref: `heads/${branch}`, request }),
      );
      return data.object.sha;
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  private repo(): { owner: string; repo: string } {
    return { owner: this.config.owner, repo: this.config.repo };
  }

  /** One request with a timeout; every failure becomes a GitHostUnavailableError or GitHostRefusedError. */
  private async call<T>(what: string, run: (request: { signal: AbortSignal }) => Promise<T>): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await run({ signal: timeout });
    } catch (err) {
      if (timeout.aborted) {
        throw new GitHostUnavailableError(`GitHub ${what}: no answer from ${this.baseUrl} within ${this.timeoutMs} ms`, null, {
          cause: err,
        });
      }
      throw toGitHostError(err, what, this.baseUrl, [this.config.token]);
    }
  }
}

function toRef(pull: PullJson): PullRequestRef {
  const state: PullRequestState = pull.merged || pull.merged_at ? 'merged' : pull.state === 'closed' ? 'closed' : 'open';
  return { number: pull.number, url: pull.html_url, state, head: pull.head.ref, base: pull.base.ref };
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof GitHostRefusedError && err.status === status;
}

interface OctokitFailure {
  status?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/**
 * 5xx, 429, a primary or secondary rate limit (403 with x-ratelimit-remaining 0, a Retry-After or
 * "secondary rate limit" in the message) and no answer at all are retryable, with the wait GitHub
 * asks for; any other answer (401, 403, 404, 409, 422) is a refusal.
 */
function toGitHostError(err: unknown, what: string, baseUrl: string, secrets: readonly string[]): Error {
  if (err instanceof GitHostRefusedError || err instanceof GitHostUnavailableError) return err;
  const failure = (err ?? {}) as OctokitFailure;
  const status = typeof failure.status === 'number' ? failure.status : null;
  const response = failure.response;
  if (!response || status === null) {
    // No answer: a refused connection, DNS, TLS (octokit reports these as status 500 without a response).
    const detail = err instanceof Error ? err.message : String(err);
    return new GitHostUnavailableError(
      redactText(`GitHub ${what}: ${baseUrl} did not answer (${truncateText(detail, 200)})`, secrets),
      null,
      {
        cause: err,
      },
    );
  }
  const headers = response.headers ?? {};
  const header = (name: string) => (headers[name] === undefined ? undefined : String(headers[name]).trim());
  const text = serviceText(response.data);
  const said = text ? `: ${redactText(truncateText(text, 300), secrets)}` : '';
  const retryAfter = header('retry-after');
  const retryAfterSeconds = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  const remaining = header('x-ratelimit-remaining');
  const reset = Number(header('x-ratelimit-reset'));
  const secondary = /secondary rate limit|abuse detection/i.test(text ?? '');
  const limited = status === 429 || (status === 403 && (remaining === '0' || secondary || retryAfterSeconds !== null));
  if (limited || status >= 500) {
    const waitMs =
      retryAfterSeconds !== null
        ? retryAfterSeconds * 1000
        : remaining === '0' && Number.isFinite(reset)
          ? Math.max(0, reset * 1000 - Date.now())
          : secondary
            ? SECONDARY_LIMIT_WAIT_MS
            : null;
    const kind = limited ? 'rate limited' : 'server error';
    return new GitHostUnavailableError(
      `GitHub ${what}: ${kind} (HTTP ${status})${waitMs !== null ? `; retry in ${waitMs} ms` : ''}${said}`,
      waitMs,
    );
  }
  const reason =
    status === 401
      ? 'the token was rejected'
      : status === 403
        ? 'forbidden for this token'
        : status === 404
          ? 'not found, or the token may not see it'
          : status === 422
            ? 'GitHub refused the request'
            : 'refused';
  return new GitHostRefusedError(`GitHub ${what}: ${reason} (HTTP ${status})${said}`, status);
}

/** GitHub's error body: { message, errors: [{ message } | { resource, code, field }], documentation_url }. */
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
