import { createHash } from 'node:crypto';
import { ProtocolServer, ReplyError, type RecordedRequest, type Reply } from './protocol-server.js';

// A local stand-in for GitHub's REST API, for exactly the calls the GitHub adapter makes:
//   GET /search/issues?q&per_page&page&sort&order     { total_count, incomplete_results, items }
//   GET /search/commits?q&per_page&page&sort&order    same envelope, commit items
//   GET /repos/{owner}/{repo}/issues/{number}          an issue (a pull request carries `pull_request`)
//   GET /repos/{owner}/{repo}/pulls/{number}           JSON, or the unified diff with
//                                                      Accept: application/vnd.github.diff (406 past diffFileLimit files)
//   GET /repos/{owner}/{repo}/pulls/{number}/files     [{ filename, status, additions, deletions, patch }]
// Bodies follow GitHub's shapes; search pages carry a Link header and stop at GitHub's 1000-result
// window (422 past it). The query language covers free text (title and body), repo:, user:, org:,
// is:issue|pr|open|closed, state:, label:, author:; a repo:/user:/org: naming nothing GitHub knows
// answers GitHub's 422. Every request needs the token (`token` or `Bearer`, 401 otherwise) and gets
// x-ratelimit-* headers; the search quota (30 a minute, as on github.com) answers GitHub's
// primary rate-limit 403 when spent. `prefix` serves it under /api/v3 like GitHub Enterprise Server.

export interface FakeRepo {
  owner: string;
  name: string;
}

export interface FakePullFile {
  filename: string;
  status: 'added' | 'modified' | 'removed' | 'renamed';
  previous_filename?: string;
  additions: number;
  deletions: number;
  /** Absent for binary files and for files GitHub finds too large to show. */
  patch?: string;
}

export interface FakeIssue {
  repo: string;
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  author: string;
  labels: string[];
  comments: number;
  assignees: string[];
  milestone: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  pull: null | {
    draft: boolean;
    merged: boolean;
    mergedAt: string | null;
    base: string;
    head: string;
    reviewComments: number;
    files: FakePullFile[];
  };
}

export interface FakeCommit {
  repo: string;
  sha: string;
  message: string;
  authorName: string;
  authorEmail: string;
  authorLogin: string | null;
  date: string;
}

export interface FakeGitHubOptions {
  token: string;
  /** '/api/v3' to serve as GitHub Enterprise Server does. */
  prefix?: string;
  /** Searches allowed per window before the primary rate limit answers 403 (30, as github.com). */
  searchQuota?: number;
  /** Files past which GitHub refuses to render a pull request's diff (300 on github.com). */
  diffFileLimit?: number;
}

const DOCS = 'https://docs.github.com/rest';

export class FakeGitHub {
  readonly repos: FakeRepo[] = [];
  readonly issues: FakeIssue[] = [];
  readonly commits: FakeCommit[] = [];
  private searchesLeft: number;
  private readonly resetAt = Math.floor(Date.now() / 1000) + 60;

  private constructor(
    readonly server: ProtocolServer,
    private readonly options: FakeGitHubOptions,
  ) {
    this.searchesLeft = options.searchQuota ?? 30;
  }

  static async start(options: FakeGitHubOptions): Promise<FakeGitHub> {
    const routeTo: { fake?: FakeGitHub } = {};
    const server = await ProtocolServer.start((request) => routeTo.fake!.route(request));
    routeTo.fake = new FakeGitHub(server, options);
    return routeTo.fake;
  }

  /** The API root to configure (with the Enterprise prefix when there is one). */
  get baseUrl(): string {
    return `${this.server.url}${this.options.prefix ?? ''}`;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** The search quota is spent until `resetAt` (epoch seconds). */
  exhaustSearchQuota(): number {
    this.searchesLeft = 0;
    return this.resetAt;
  }

  refillSearchQuota(quota = 30): void {
    this.searchesLeft = quota;
  }

  addRepo(owner: string, name: string): void {
    this.repos.push({ owner, name });
  }

  addIssue(issue: Partial<FakeIssue> & Pick<FakeIssue, 'repo' | 'title'>): FakeIssue {
    const number = issue.number ?? this.issues.filter((i) => i.repo === issue.repo).length + 1;
    const created: FakeIssue = {
      body: '',
      state: 'open',
      author: 'octocat',
      labels: [],
      comments: 0,
      assignees: [],
      milestone: null,
      createdAt: '2026-11-02T09:15:00Z',
      updatedAt: '2026-11-03T10:00:00Z',
      closedAt: null,
      pull: null,
      ...issue,
      number,
    };
    this.issues.push(created);
    return created;
  }

  addCommit(commit: Partial<FakeCommit> & Pick<FakeCommit, 'repo' | 'message'>): FakeCommit {
    const created: FakeCommit = {
      sha: createHash('sha1').update(`${commit.repo}\n${commit.message}\n${this.commits.length}`).digest('hex'),
      authorName: 'Mona Lisa',
      authorEmail: 'mona@example.com',
      authorLogin: 'mona',
      date: '2026-11-20T08:00:00.000+00:00',
      ...commit,
    };
    this.commits.push(created);
    return created;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private route(request: RecordedRequest): Reply {
    const prefix = this.options.prefix ?? '';
    if (!request.path.startsWith(prefix)) throw notFound();
    const path = request.path.slice(prefix.length);
    const auth = request.headers.authorization ?? '';
    if (auth !== `token ${this.options.token}` && auth !== `Bearer ${this.options.token}`) {
      throw new ReplyError({ status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } });
    }
    if (request.method !== 'GET') throw notFound();
    if (path === '/search/issues' || path === '/search/commits') return this.search(request, path);
    const core = {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4990',
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-resource': 'core',
    };
    const issue = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/.exec(path);
    if (issue) return { status: 200, headers: core, body: this.issueJson(this.findIssue(issue, false)) };
    const pull = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)(\/files)?$/.exec(path);
    if (pull) {
      const found = this.findIssue(pull, true);
      if (pull[4]) return this.files(request, found, core);
      if ((request.headers.accept ?? '').includes('application/vnd.github.diff')) return this.diff(found, core);
      return { status: 200, headers: core, body: this.pullJson(found) };
    }
    throw notFound();
  }

  private search(request: RecordedRequest, path: string): Reply {
    const headers = { 'x-ratelimit-limit': '30', 'x-ratelimit-reset': String(this.resetAt), 'x-ratelimit-resource': 'search' };
    if (this.searchesLeft <= 0) {
      throw new ReplyError({
        status: 403,
        headers: { ...headers, 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '30' },
        body: {
          message: 'API rate limit exceeded for user ID 583231.',
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
          status: '403',
        },
      });
    }
    this.searchesLeft -= 1;
    const remaining = { ...headers, 'x-ratelimit-remaining': String(this.searchesLeft) };
    const q = request.query.q;
    if (!q) throw validation('q', 'missing');
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const page = Number(request.query.page ?? 1);
    if ((page - 1) * perPage >= 1000) {
      throw new ReplyError({
        status: 422,
        body: { message: 'Only the first 1000 search results are available', documentation_url: `${DOCS}/search/search`, status: '422' },
      });
    }
    const terms = parseQuery(q);
    for (const [key, value] of terms.qualifiers) {
      const known =
        key === 'repo'
          ? this.repos.some((r) => `${r.owner}/${r.name}`.toLowerCase() === value.toLowerCase())
          : key === 'user' || key === 'org'
            ? this.repos.some((r) => r.owner.toLowerCase() === value.toLowerCase())
            : true;
      if (!known)
        throw validation(
          'q',
          'invalid',
          'The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.',
        );
    }
    const order = request.query.order === 'asc' ? 1 : -1;
    let items: unknown[];
    let total: number;
    if (path === '/search/issues') {
      const matches = this.issues.filter((i) => issueMatches(i, terms));
      const sort = request.query.sort;
      matches.sort((a, b) =>
        sort === 'comments'
          ? order * (a.comments - b.comments)
          : sort === 'created'
            ? order * a.createdAt.localeCompare(b.createdAt)
            : sort === 'updated'
              ? order * a.updatedAt.localeCompare(b.updatedAt)
              : b.number - a.number,
      );
      total = matches.length;
      items = matches.slice((page - 1) * perPage, page * perPage).map((i) => ({ ...this.issueJson(i), score: 1 }));
    } else {
      const matches = this.commits.filter((c) => commitMatches(c, terms));
      matches.sort((a, b) => order * a.date.localeCompare(b.date));
      total = matches.length;
      items = matches.slice((page - 1) * perPage, page * perPage).map((c) => this.commitJson(c));
    }
    const last = Math.max(1, Math.ceil(Math.min(total, 1000) / perPage));
    const link = (n: number, rel: string) =>
      `<${this.baseUrl}${path}?q=${encodeURIComponent(q)}&per_page=${perPage}&page=${n}>; rel="${rel}"`;
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    return {
      status: 200,
      headers: { ...remaining, ...(links.length ? { link: links.join(', ') } : {}) },
      body: { total_count: total, incomplete_results: false, items },
    };
  }

  private findIssue(match: RegExpExecArray, pullOnly: boolean): FakeIssue {
    const repo = `${match[1]}/${match[2]}`;
    const found = this.issues.find((i) => i.repo.toLowerCase() === repo.toLowerCase() && i.number === Number(match[3]));
    if (!found || (pullOnly && !found.pull)) throw notFound();
    return found;
  }

  private diff(issue: FakeIssue, headers: Record<string, string>): Reply {
    const files = issue.pull!.files;
    if (files.length > (this.options.diffFileLimit ?? 300)) {
      throw new ReplyError({
        status: 406,
        body: {
          message: `Sorry, the diff exceeded the maximum number of files (${this.options.diffFileLimit ?? 300}). Consider using 'List pull requests files' API or locally cloning the repository instead.`,
          errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
          documentation_url: `${DOCS}/pulls/pulls#list-pull-requests-files`,
          status: '406',
        },
      });
    }
    const text = files
      .map((f) => {
        const from = f.previous_filename ?? f.filename;
        return `diff --git a/${from} b/${f.filename}\nindex 83db48f..bf269f4 100644\n--- a/${from}\n+++ b/${f.filename}\n${f.patch ?? 'Binary files differ'}\n`;
      })
      .join('');
    return { status: 200, headers: { ...headers, 'content-type': 'application/vnd.github.diff; charset=utf-8' }, body: text };
  }

  private files(request: RecordedRequest, issue: FakeIssue, headers: Record<string, string>): Reply {
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const page = Number(request.query.page ?? 1);
    const files = issue.pull!.files.slice((page - 1) * perPage, page * perPage);
    return {
      status: 200,
      headers,
      body: files.map((f, index) => ({
        sha: createHash('sha1').update(f.filename).digest('hex'),
        filename: f.filename,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        changes: f.additions + f.deletions,
        blob_url: `https://github.com/${issue.repo}/blob/main/${f.filename}`,
        raw_url: `https://github.com/${issue.repo}/raw/main/${f.filename}`,
        contents_url: `${this.baseUrl}/repos/${issue.repo}/contents/${f.filename}?ref=main`,
        ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
        ...(f.patch !== undefined ? { patch: f.patch } : {}),
        position: (page - 1) * perPage + index,
      })),
    };
  }

  private user(login: string): Record<string, unknown> {
    return {
      login,
      id: login.length * 1000 + 7,
      type: 'User',
      html_url: `https://github.com/${login}`,
      url: `${this.baseUrl}/users/${login}`,
    };
  }

  private issueJson(issue: FakeIssue): Record<string, unknown> {
    const api = `${this.baseUrl}/repos/${issue.repo}`;
    return {
      url: `${api}/issues/${issue.number}`,
      repository_url: api,
      html_url: `https://github.com/${issue.repo}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
      id: issue.number * 7919,
      node_id: `I_kwDO${issue.number}`,
      number: issue.number,
      title: issue.title,
      user: this.user(issue.author),
      labels: issue.labels.map((name, id) => ({ id, name, color: 'd73a4a', default: false, description: null })),
      state: issue.state,
      locked: false,
      assignee: issue.assignees[0] ? this.user(issue.assignees[0]) : null,
      assignees: issue.assignees.map((a) => this.user(a)),
      milestone: issue.milestone ? { number: 1, title: issue.milestone, state: 'open' } : null,
      comments: issue.comments,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: 'MEMBER',
      body: issue.body,
      ...(issue.pull
        ? {
            draft: issue.pull.draft,
            pull_request: {
              url: `${api}/pulls/${issue.number}`,
              html_url: `https://github.com/${issue.repo}/pull/${issue.number}`,
              diff_url: `https://github.com/${issue.repo}/pull/${issue.number}.diff`,
              patch_url: `https://github.com/${issue.repo}/pull/${issue.number}.patch`,
              merged_at: issue.pull.mergedAt,
            },
          }
        : {}),
    };
  }

  private pullJson(issue: FakeIssue): Record<string, unknown> {
    const pull = issue.pull!;
    const [owner] = issue.repo.split('/');
    return {
      ...this.issueJson(issue),
      url: `${this.baseUrl}/repos/${issue.repo}/pulls/${issue.number}`,
      html_url: `https://github.com/${issue.repo}/pull/${issue.number}`,
      draft: pull.draft,
      merged: pull.merged,
      merged_at: pull.mergedAt,
      mergeable: pull.merged ? null : true,
      head: { label: `${owner}:${pull.head}`, ref: pull.head, sha: 'bf269f4' },
      base: { label: `${owner}:${pull.base}`, ref: pull.base, sha: '83db48f' },
      review_comments: pull.reviewComments,
      commits: 3,
      additions: pull.files.reduce((n, f) => n + f.additions, 0),
      deletions: pull.files.reduce((n, f) => n + f.deletions, 0),
      changed_files: pull.files.length,
    };
  }

  private commitJson(commit: FakeCommit): Record<string, unknown> {
    const [owner, name] = commit.repo.split('/');
    const who = { name: commit.authorName, email: commit.authorEmail, date: commit.date };
    return {
      url: `${this.baseUrl}/repos/${commit.repo}/commits/${commit.sha}`,
      sha: commit.sha,
      html_url: `https://github.com/${commit.repo}/commit/${commit.sha}`,
      commit: {
        author: who,
        committer: who,
        message: commit.message,
        comment_count: 0,
        tree: { sha: commit.sha.split('').reverse().join('') },
      },
      author: commit.authorLogin ? this.user(commit.authorLogin) : null,
      committer: commit.authorLogin ? this.user(commit.authorLogin) : null,
      parents: [],
      repository: {
        id: 1296269,
        name,
        full_name: commit.repo,
        private: false,
        owner: this.user(owner!),
        html_url: `https://github.com/${commit.repo}`,
      },
      score: 1,
    };
  }
}

interface ParsedQuery {
  words: string[];
  qualifiers: [string, string][];
}

/** Splits a search query into free-text words and key:value qualifiers ("quoted phrases" kept whole). */
function parseQuery(q: string): ParsedQuery {
  const words: string[] = [];
  const qualifiers: [string, string][] = [];
  for (const match of q.matchAll(/(\w[\w-]*):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)) {
    if (match[1]) qualifiers.push([match[1].toLowerCase(), match[2]!.replace(/^"|"$/g, '')]);
    else words.push((match[3] ?? match[4]!).toLowerCase());
  }
  return { words, qualifiers };
}

function ownerOf(repo: string): string {
  return repo.split('/')[0]!.toLowerCase();
}

function issueMatches(issue: FakeIssue, { words, qualifiers }: ParsedQuery): boolean {
  const text = `${issue.title}\n${issue.body}`.toLowerCase();
  if (!words.every((w) => text.includes(w))) return false;
  return qualifiers.every(([key, raw]) => {
    const value = raw.toLowerCase();
    if (key === 'repo') return issue.repo.toLowerCase() === value;
    if (key === 'user' || key === 'org') return ownerOf(issue.repo) === value;
    if (key === 'is' || key === 'type' || key === 'state') {
      if (value === 'issue') return !issue.pull;
      if (value === 'pr' || value === 'pull-request') return !!issue.pull;
      if (value === 'open' || value === 'closed') return issue.state === value;
      if (value === 'merged') return !!issue.pull?.merged;
      return true;
    }
    if (key === 'label') return issue.labels.some((l) => l.toLowerCase() === value);
    if (key === 'author') return issue.author.toLowerCase() === value;
    return true;
  });
}

function commitMatches(commit: FakeCommit, { words, qualifiers }: ParsedQuery): boolean {
  const text = commit.message.toLowerCase();
  if (!words.every((w) => text.includes(w))) return false;
  return qualifiers.every(([key, raw]) => {
    const value = raw.toLowerCase();
    if (key === 'repo') return commit.repo.toLowerCase() === value;
    if (key === 'user' || key === 'org') return ownerOf(commit.repo) === value;
    if (key === 'author') return (commit.authorLogin ?? '').toLowerCase() === value;
    if (key === 'author-name') return commit.authorName.toLowerCase().includes(value);
    return true;
  });
}

function notFound(): ReplyError {
  return new ReplyError({ status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } });
}

function validation(field: string, code: string, message?: string): ReplyError {
  return new ReplyError({
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ resource: 'Search', field, code, ...(message ? { message } : {}) }],
      documentation_url: `${DOCS}/search/search`,
      status: '422',
    },
  });
}
