import { createHash } from 'node:crypto';
import { ProtocolServer, ReplyError, type InjectedFailure, type RecordedRequest, type Reply } from './protocol-server.js';

// A local stand-in for the part of GitHub's REST API the git host adapter speaks, for one repository:
//   GET   /repos/{owner}/{repo}                        the repository (default_branch)
//   GET   /repos/{owner}/{repo}/git/ref/{ref}          one ref (404 when missing); {ref} may carry %2F
//   POST  /repos/{owner}/{repo}/git/refs               { ref, sha }: 201, 422 "Reference already exists"
//   PATCH /repos/{owner}/{repo}/git/refs/{ref}         { sha, force }: 422 "Update is not a fast forward"
//   GET   /repos/{owner}/{repo}/git/commits/{sha}      a commit (message, tree, parents)
//   POST  /repos/{owner}/{repo}/git/commits            { message, tree, parents }
//   POST  /repos/{owner}/{repo}/git/trees              { base_tree, tree: [{ path, mode, type, sha | content }] }
//   GET   /repos/{owner}/{repo}/git/trees/{sha}        a tree (?recursive=1 lists every blob)
//   POST  /repos/{owner}/{repo}/git/blobs              { content, encoding }
//   GET   /repos/{owner}/{repo}/pulls?head&base&state  newest first
//   POST  /repos/{owner}/{repo}/pulls                  201; 422 when an open one exists for the head,
//                                                      the head is missing or has no commits over the base
//   GET   /repos/{owner}/{repo}/pulls/{number}         merged, merged_at, state
// Objects are hashed as git hashes them (a blob's sha is `git hash-object`'s), so a tree built here
// has the same sha as the same files committed by git. Every request needs the token (401 "Bad
// credentials" otherwise) and is recorded; failures (429 with Retry-After, the secondary rate limit,
// 5xx, or any reply) are injected for the next requests on demand.

const DOCS = 'https://docs.github.com/rest';

type GitObject =
  | { type: 'blob'; content: Buffer }
  | { type: 'tree'; entries: TreeEntry[] }
  | { type: 'commit'; tree: string; parents: string[]; message: string; author: Signature; committer: Signature };

interface TreeEntry {
  name: string;
  mode: '100644' | '100755' | '040000' | '120000';
  type: 'blob' | 'tree';
  sha: string;
}

interface Signature {
  name: string;
  email: string;
  date: string;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  /** The head's sha when the pull request was opened (and kept current while it is open). */
  headSha: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  createdAt: string;
  closedAt: string | null;
}

export interface FakeGitHubGitOptions {
  token: string;
  owner: string;
  repo: string;
  defaultBranch?: string;
  /** '/api/v3' to serve as GitHub Enterprise Server does. */
  prefix?: string;
  /** Files of the initial commit on the default branch (a README by default). */
  initialFiles?: Record<string, string>;
}

export class FakeGitHubGit {
  readonly refs = new Map<string, string>();
  readonly pulls: FakePull[] = [];
  private readonly objects = new Map<string, GitObject>();
  private readonly resetAt = Math.floor(Date.now() / 1000) + 3600;
  private requestsLeft = 5000;
  private readonly bot: Signature = { name: 'infraai-bot', email: 'infraai-bot@users.noreply.github.com', date: '' };

  private constructor(
    readonly server: ProtocolServer,
    private readonly options: FakeGitHubGitOptions,
  ) {
    const tree = this.writeFlatTree(new Map(), options.initialFiles ?? { 'README.md': `# ${options.repo}\n` });
    const root = this.writeCommit({ tree, parents: [], message: 'Initial commit', author: { ...this.bot, name: 'octocat' } });
    this.refs.set(`refs/heads/${this.defaultBranch}`, root);
  }

  static async start(options: FakeGitHubGitOptions): Promise<FakeGitHubGit> {
    const routeTo: { fake?: FakeGitHubGit } = {};
    const server = await ProtocolServer.start((request) => routeTo.fake!.route(request));
    routeTo.fake = new FakeGitHubGit(server, options);
    return routeTo.fake;
  }

  get baseUrl(): string {
    return `${this.server.url}${this.options.prefix ?? ''}`;
  }

  get defaultBranch(): string {
    return this.options.defaultBranch ?? 'main';
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** `METHOD /path` of every request since the last clear, with the API prefix removed and %2F decoded. */
  calls(): string[] {
    const prefix = this.options.prefix ?? '';
    return this.requests.map((r) => `${r.method} ${decodeURIComponent(r.path.slice(prefix.length))}`);
  }

  clearRequests(): void {
    this.server.clearRequests();
  }

  /** The next `times` requests answer this reply instead (a 5xx, a stale list, anything). */
  failNext(failure: InjectedFailure): void {
    this.server.failNext(failure);
  }

  /** The next request hits the rate limit: 429 with Retry-After, or GitHub's secondary-limit 403. */
  rateLimitNext(options: { retryAfterSeconds?: number; secondary?: boolean } = {}): void {
    const headers: Record<string, string> = {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(this.requestsLeft),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-resource': 'core',
      ...(options.retryAfterSeconds !== undefined ? { 'retry-after': String(options.retryAfterSeconds) } : {}),
    };
    this.server.failNext(
      options.secondary
        ? {
            status: 403,
            headers,
            body: {
              message:
                'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 8E2A:3F4B:1C2D3E:4F5A6B:67890ABC.',
              documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
              status: '403',
            },
          }
        : {
            status: 429,
            headers,
            body: { message: 'API rate limit exceeded', documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`, status: '429' },
          },
    );
  }

  /** The head commit of `branch`, or undefined. */
  head(branch: string): string | undefined {
    return this.refs.get(`refs/heads/${branch}`);
  }

  /** A commit's message, parents and tree sha. */
  commit(sha: string): { message: string; parents: string[]; tree: string } {
    const object = this.objects.get(sha);
    if (object?.type !== 'commit') throw new Error(`no commit ${sha}`);
    return { message: object.message, parents: object.parents, tree: object.tree };
  }

  /** Every file in a commit's tree, path → content. */
  files(commitSha: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [path, entry] of this.flatTree(this.commit(commitSha).tree)) {
      const blob = this.objects.get(entry.sha);
      if (blob?.type === 'blob') out[path] = blob.content.toString('utf8');
    }
    return out;
  }

  /** Merges a pull request as the merge button does: a merge commit on the base branch. */
  mergePull(number: number): FakePull {
    const pull = this.pull(number);
    if (pull.state !== 'open') throw new Error(`#${number} is ${pull.merged ? 'merged' : 'closed'}`);
    const base = this.head(pull.base)!;
    const head = this.head(pull.head)!;
    const files = this.flatTree(this.commit(base).tree);
    for (const [path, entry] of this.flatTree(this.commit(head).tree)) files.set(path, entry);
    const sha = this.writeCommit({
      tree: this.writeTreeFromFlat(files),
      parents: [base, head],
      message: `Merge pull request #${number} from ${this.options.owner}/${pull.head}\n\n${pull.title}`,
      author: this.bot,
    });
    this.refs.set(`refs/heads/${pull.base}`, sha);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    Object.assign(pull, { state: 'closed', merged: true, mergedAt: now, closedAt: now, mergeCommitSha: sha });
    return pull;
  }

  /** Comments made on pull requests (the issue-comments endpoint), in order. */
  readonly comments: { number: number; body: string }[] = [];

  closePull(number: number): FakePull {
    const pull = this.pull(number);
    Object.assign(pull, { state: 'closed', closedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    return pull;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private route(request: RecordedRequest): Reply {
    const prefix = this.options.prefix ?? '';
    if (!request.path.startsWith(prefix)) throw notFound();
    const auth = request.headers.authorization ?? '';
    if (auth !== `token ${this.options.token}` && auth !== `Bearer ${this.options.token}`) {
      throw new ReplyError({ status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } });
    }
    this.requestsLeft = Math.max(0, this.requestsLeft - 1);
    const reply = this.dispatch(request, request.path.slice(prefix.length));
    return {
      ...reply,
      headers: {
        'x-github-request-id': `FAKE:${this.requests.length}`,
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': String(this.requestsLeft),
        'x-ratelimit-reset': String(this.resetAt),
        'x-ratelimit-resource': 'core',
        ...reply.headers,
      },
    };
  }

  private dispatch(request: RecordedRequest, path: string): Reply {
    const repo = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (
      !repo ||
      repo[1]!.toLowerCase() !== this.options.owner.toLowerCase() ||
      repo[2]!.toLowerCase() !== this.options.repo.toLowerCase()
    ) {
      throw notFound();
    }
    const rest = repo[3] ?? '';
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { method } = request;
    let match: RegExpExecArray | null;
    if (method === 'GET' && rest === '') return { status: 200, body: this.repoJson() };
    if (method === 'GET' && (match = /^\/git\/ref\/(.+)$/.exec(rest))) return this.getRef(decodeURIComponent(match[1]!));
    if (method === 'POST' && rest === '/git/refs') return this.createRef(body);
    if (method === 'PATCH' && (match = /^\/git\/refs\/(.+)$/.exec(rest))) return this.updateRef(decodeURIComponent(match[1]!), body);
    if (method === 'GET' && (match = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest))) {
      if (this.objects.get(match[1]!)?.type !== 'commit') throw notFound();
      return { status: 200, body: this.commitJson(match[1]!) };
    }
    if (method === 'POST' && rest === '/git/commits') return this.createCommit(body);
    if (method === 'POST' && rest === '/git/trees') return this.createTree(body);
    if (method === 'GET' && (match = /^\/git\/trees\/([0-9a-f]{40})$/.exec(rest))) {
      return this.getTree(match[1]!, request.query.recursive !== undefined && request.query.recursive !== '0');
    }
    if (method === 'POST' && rest === '/git/blobs') return this.createBlob(body);
    if (method === 'GET' && rest === '/pulls') return this.listPulls(request.query);
    if (method === 'POST' && rest === '/pulls') return this.createPull(body);
    if (method === 'GET' && (match = /^\/pulls\/(\d+)$/.exec(rest))) {
      return { status: 200, body: this.pullJson(this.pull(Number(match[1]))) };
    }
    if (method === 'PATCH' && (match = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pull = this.pull(Number(match[1]));
      if (body.state === 'closed' && pull.state === 'open') this.closePull(pull.number);
      return { status: 200, body: this.pullJson(pull) };
    }
    if (method === 'POST' && (match = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const number = Number(match[1]);
      this.pull(number);
      if (typeof body.body !== 'string' || body.body === '')
        throw unprocessable('Body cannot be blank', 'issues/comments#create-an-issue-comment');
      this.comments.push({ number, body: body.body });
      return {
        status: 201,
        body: {
          id: this.comments.length,
          body: body.body,
          html_url: `https://github.com/${this.options.owner}/${this.options.repo}/pull/${number}#issuecomment-${this.comments.length}`,
        },
      };
    }
    throw notFound();
  }

  private getRef(ref: string): Reply {
    const sha = this.refs.get(`refs/${ref}`);
    if (!sha) throw notFound(`${DOCS}/git/refs#get-a-reference`);
    return { status: 200, body: this.refJson(`refs/${ref}`, sha) };
  }

  private createRef(body: Record<string, unknown>): Reply {
    const ref = body.ref;
    const sha = body.sha;
    if (typeof ref !== 'string' || !/^refs\/.+/.test(ref) || ref.split('/').length < 3) {
      throw unprocessable("Reference name must start with 'refs/' and have at least two slashes.", 'git/refs#create-a-reference');
    }
    if (typeof sha !== 'string' || this.objects.get(sha)?.type !== 'commit')
      throw unprocessable('Object does not exist', 'git/refs#create-a-reference');
    if (this.refs.has(ref)) throw unprocessable('Reference already exists', 'git/refs#create-a-reference');
    this.refs.set(ref, sha);
    return { status: 201, body: this.refJson(ref, sha) };
  }

  private updateRef(ref: string, body: Record<string, unknown>): Reply {
    const name = `refs/${ref}`;
    const current = this.refs.get(name);
    const sha = body.sha;
    if (!current) throw unprocessable('Reference does not exist', 'git/refs#update-a-reference');
    if (typeof sha !== 'string' || this.objects.get(sha)?.type !== 'commit')
      throw unprocessable('Object does not exist', 'git/refs#update-a-reference');
    if (body.force !== true && !this.isAncestor(current, sha))
      throw unprocessable('Update is not a fast forward', 'git/refs#update-a-reference');
    this.refs.set(name, sha);
    for (const pull of this.pulls) if (pull.state === 'open' && `refs/heads/${pull.head}` === name) pull.headSha = sha;
    return { status: 200, body: this.refJson(name, sha) };
  }

  private createCommit(body: Record<string, unknown>): Reply {
    const { message, tree, parents } = body;
    if (typeof message !== 'string') throw validationFailed('Commit', 'message', 'missing_field', 'git/commits#create-a-commit');
    if (typeof tree !== 'string' || this.objects.get(tree)?.type !== 'tree')
      throw unprocessable('Tree SHA does not exist', 'git/commits#create-a-commit');
    const parentList = Array.isArray(parents) ? parents : [];
    if (!parentList.every((p) => typeof p === 'string' && this.objects.get(p)?.type === 'commit')) {
      throw unprocessable('Parent SHA does not exist or is not a commit object', 'git/commits#create-a-commit');
    }
    const sha = this.writeCommit({ tree, parents: parentList as string[], message, author: this.bot });
    return { status: 201, body: this.commitJson(sha) };
  }

  private createTree(body: Record<string, unknown>): Reply {
    const entries = body.tree;
    if (!Array.isArray(entries)) throw validationFailed('Tree', 'tree', 'missing_field', 'git/trees#create-a-tree');
    const base = body.base_tree;
    if (base !== undefined && (typeof base !== 'string' || this.objects.get(base)?.type !== 'tree')) {
      throw unprocessable('base_tree is not a valid tree oid', 'git/trees#create-a-tree');
    }
    const files = typeof base === 'string' ? this.flatTree(base) : new Map<string, TreeEntry>();
    for (const raw of entries as Record<string, unknown>[]) {
      const path = raw.path;
      if (
        typeof path !== 'string' ||
        path === '' ||
        path.startsWith('/') ||
        path.split('/').some((p) => p === '' || p === '.' || p === '..')
      ) {
        throw unprocessable(`tree.path contains a malformed path component`, 'git/trees#create-a-tree');
      }
      if (raw.type !== 'blob' || (raw.mode !== '100644' && raw.mode !== '100755')) {
        throw unprocessable('Must supply a valid tree.mode and tree.type', 'git/trees#create-a-tree');
      }
      if (raw.sha === null) {
        files.delete(path);
        continue;
      }
      let sha: string;
      if (typeof raw.content === 'string') sha = this.writeObject({ type: 'blob', content: Buffer.from(raw.content, 'utf8') });
      else if (typeof raw.sha === 'string' && this.objects.get(raw.sha)?.type === 'blob') sha = raw.sha;
      else throw unprocessable('Must supply either tree.sha or tree.content', 'git/trees#create-a-tree');
      files.set(path, { name: path.split('/').pop()!, mode: raw.mode, type: 'blob', sha });
    }
    const sha = this.writeTreeFromFlat(files);
    return { status: 201, body: this.treeJson(sha, false) };
  }

  private getTree(sha: string, recursive: boolean): Reply {
    if (this.objects.get(sha)?.type !== 'tree') throw notFound(`${DOCS}/git/trees#get-a-tree`);
    return { status: 200, body: this.treeJson(sha, recursive) };
  }

  private createBlob(body: Record<string, unknown>): Reply {
    if (typeof body.content !== 'string') throw validationFailed('Blob', 'content', 'missing_field', 'git/blobs#create-a-blob');
    const content = Buffer.from(body.content, body.encoding === 'base64' ? 'base64' : 'utf8');
    const sha = this.writeObject({ type: 'blob', content });
    return { status: 201, body: { sha, url: `${this.apiRepo()}/git/blobs/${sha}` } };
  }

  private listPulls(query: Record<string, string>): Reply {
    const state = query.state ?? 'open';
    let pulls = this.pulls.filter((p) => state === 'all' || p.state === state);
    if (query.head) {
      const [owner, branch] = query.head.includes(':') ? query.head.split(':', 2) : [this.options.owner, query.head];
      pulls = owner!.toLowerCase() === this.options.owner.toLowerCase() ? pulls.filter((p) => p.head === branch) : [];
    }
    if (query.base) pulls = pulls.filter((p) => p.base === query.base);
    const perPage = Math.min(Number(query.per_page ?? 30), 100);
    const page = Number(query.page ?? 1);
    const newestFirst = [...pulls].sort((a, b) => b.number - a.number);
    return { status: 200, body: newestFirst.slice((page - 1) * perPage, page * perPage).map((p) => this.pullJson(p, false)) };
  }

  private createPull(body: Record<string, unknown>): Reply {
    const { title, head, base } = body;
    if (typeof title !== 'string' || title.trim() === '')
      throw validationFailed('PullRequest', 'title', 'missing_field', 'pulls/pulls#create-a-pull-request');
    if (typeof base !== 'string' || !this.head(base))
      throw validationFailed('PullRequest', 'base', 'invalid', 'pulls/pulls#create-a-pull-request');
    const branch = typeof head === 'string' ? head.replace(new RegExp(`^${this.options.owner}:`, 'i'), '') : '';
    const headSha = this.head(branch);
    if (!headSha) throw validationFailed('PullRequest', 'head', 'invalid', 'pulls/pulls#create-a-pull-request');
    if (this.pulls.some((p) => p.head === branch && p.state === 'open')) {
      throw customValidation(`A pull request already exists for ${this.options.owner}:${branch}.`);
    }
    if (this.isAncestor(headSha, this.head(base)!)) throw customValidation(`No commits between ${base} and ${branch}`);
    const pull: FakePull = {
      number: this.pulls.length + 1,
      title,
      body: typeof body.body === 'string' ? body.body : '',
      head: branch,
      base,
      headSha,
      state: 'open',
      merged: false,
      mergedAt: null,
      mergeCommitSha: null,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      closedAt: null,
    };
    this.pulls.push(pull);
    return { status: 201, body: this.pullJson(pull) };
  }

  private pull(number: number): FakePull {
    const found = this.pulls.find((p) => p.number === number);
    if (!found) throw notFound(`${DOCS}/pulls/pulls#get-a-pull-request`);
    return found;
  }

  /** `ancestor` is `of` or reachable from it through parents. */
  private isAncestor(ancestor: string, of: string): boolean {
    const queue = [of];
    const seen = new Set<string>();
    while (queue.length) {
      const sha = queue.shift()!;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      const object = this.objects.get(sha);
      if (object?.type === 'commit') queue.push(...object.parents);
    }
    return false;
  }

  // Git objects, hashed as git hashes them.

  private writeObject(object: GitObject): string {
    let payload: Buffer;
    if (object.type === 'blob') payload = object.content;
    else if (object.type === 'tree') {
      const sorted = [...object.entries].sort((a, b) => {
        const ka = a.type === 'tree' ? `${a.name}/` : a.name;
        const kb = b.type === 'tree' ? `${b.name}/` : b.name;
        return Buffer.compare(Buffer.from(ka), Buffer.from(kb));
      });
      object = { type: 'tree', entries: sorted };
      payload = Buffer.concat(
        sorted.flatMap((e) => [Buffer.from(`${e.mode === '040000' ? '40000' : e.mode} ${e.name}\0`), Buffer.from(e.sha, 'hex')]),
      );
    } else {
      const sign = (s: Signature) => `${s.name} <${s.email}> ${Math.floor(Date.parse(s.date) / 1000)} +0000`;
      payload = Buffer.from(
        [
          `tree ${object.tree}`,
          ...object.parents.map((p) => `parent ${p}`),
          `author ${sign(object.author)}`,
          `committer ${sign(object.committer)}`,
          '',
          object.message,
        ].join('\n'),
      );
    }
    const sha = createHash('sha1')
      .update(Buffer.concat([Buffer.from(`${object.type} ${payload.length}\0`), payload]))
      .digest('hex');
    this.objects.set(sha, object);
    return sha;
  }

  private writeCommit(input: { tree: string; parents: string[]; message: string; author: Signature }): string {
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const author = { ...input.author, date };
    return this.writeObject({
      type: 'commit',
      tree: input.tree,
      parents: input.parents,
      message: input.message,
      author,
      committer: author,
    });
  }

  private writeFlatTree(files: Map<string, TreeEntry>, contents: Record<string, string>): string {
    for (const [path, content] of Object.entries(contents)) {
      const sha = this.writeObject({ type: 'blob', content: Buffer.from(content, 'utf8') });
      files.set(path, { name: path.split('/').pop()!, mode: '100644', type: 'blob', sha });
    }
    return this.writeTreeFromFlat(files);
  }

  /** Nested trees for a path → blob map; returns the root tree's sha. */
  private writeTreeFromFlat(files: Map<string, TreeEntry>): string {
    const write = (prefix: string): string => {
      const entries = new Map<string, TreeEntry>();
      for (const [path, entry] of files) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash < 0) entries.set(rest, { ...entry, name: rest });
        else {
          const dir = rest.slice(0, slash);
          if (!entries.has(dir)) entries.set(dir, { name: dir, mode: '040000', type: 'tree', sha: write(`${prefix}${dir}/`) });
        }
      }
      return this.writeObject({ type: 'tree', entries: [...entries.values()] });
    };
    return write('');
  }

  private flatTree(treeSha: string, prefix = '', out = new Map<string, TreeEntry>()): Map<string, TreeEntry> {
    const tree = this.objects.get(treeSha);
    if (tree?.type !== 'tree') throw new Error(`no tree ${treeSha}`);
    for (const entry of tree.entries) {
      if (entry.type === 'tree') this.flatTree(entry.sha, `${prefix}${entry.name}/`, out);
      else out.set(`${prefix}${entry.name}`, entry);
    }
    return out;
  }

  // GitHub's JSON shapes.

  private apiRepo(): string {
    return `${this.baseUrl}/repos/${this.options.owner}/${this.options.repo}`;
  }

  private htmlRepo(): string {
    return `https://github.com/${this.options.owner}/${this.options.repo}`;
  }

  private user(login: string): Record<string, unknown> {
    return { login, id: login.length * 1000 + 7, type: login.endsWith('-bot') ? 'Bot' : 'User', html_url: `https://github.com/${login}` };
  }

  private repoJson(): Record<string, unknown> {
    const { owner, repo } = this.options;
    return {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: repo,
      full_name: `${owner}/${repo}`,
      private: true,
      owner: { ...this.user(owner), type: 'Organization' },
      html_url: this.htmlRepo(),
      url: this.apiRepo(),
      default_branch: this.defaultBranch,
      visibility: 'private',
      archived: false,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    };
  }

  private refJson(ref: string, sha: string): Record<string, unknown> {
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString('base64url')}`,
      url: `${this.apiRepo()}/git/${ref}`,
      object: { sha, type: 'commit', url: `${this.apiRepo()}/git/commits/${sha}` },
    };
  }

  private commitJson(sha: string): Record<string, unknown> {
    const commit = this.objects.get(sha) as Extract<GitObject, { type: 'commit' }>;
    return {
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      url: `${this.apiRepo()}/git/commits/${sha}`,
      html_url: `${this.htmlRepo()}/commit/${sha}`,
      author: commit.author,
      committer: commit.committer,
      message: commit.message,
      tree: { sha: commit.tree, url: `${this.apiRepo()}/git/trees/${commit.tree}` },
      parents: commit.parents.map((p) => ({
        sha: p,
        url: `${this.apiRepo()}/git/commits/${p}`,
        html_url: `${this.htmlRepo()}/commit/${p}`,
      })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private treeJson(sha: string, recursive: boolean): Record<string, unknown> {
    const tree = this.objects.get(sha) as Extract<GitObject, { type: 'tree' }>;
    const entry = (path: string, e: TreeEntry) => {
      const object = this.objects.get(e.sha);
      return {
        path,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(object?.type === 'blob' ? { size: object.content.length } : {}),
        url: `${this.apiRepo()}/git/${e.type}s/${e.sha}`,
      };
    };
    const entries: Record<string, unknown>[] = [];
    const walk = (t: Extract<GitObject, { type: 'tree' }>, prefix: string) => {
      for (const e of t.entries) {
        entries.push(entry(`${prefix}${e.name}`, e));
        if (recursive && e.type === 'tree') walk(this.objects.get(e.sha) as Extract<GitObject, { type: 'tree' }>, `${prefix}${e.name}/`);
      }
    };
    walk(tree, '');
    return { sha, url: `${this.apiRepo()}/git/trees/${sha}`, tree: entries, truncated: false };
  }

  private pullJson(pull: FakePull, single = true): Record<string, unknown> {
    const { owner } = this.options;
    const repo = { id: 1296269, name: this.options.repo, full_name: `${owner}/${this.options.repo}`, html_url: this.htmlRepo() };
    const baseSha = this.head(pull.base)!;
    return {
      url: `${this.apiRepo()}/pulls/${pull.number}`,
      id: 1_000_000 + pull.number,
      node_id: `PR_kwDO${pull.number}`,
      html_url: `${this.htmlRepo()}/pull/${pull.number}`,
      diff_url: `${this.htmlRepo()}/pull/${pull.number}.diff`,
      patch_url: `${this.htmlRepo()}/pull/${pull.number}.patch`,
      issue_url: `${this.apiRepo()}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user: this.user('infraai-bot'),
      body: pull.body,
      created_at: pull.createdAt,
      updated_at: pull.closedAt ?? pull.createdAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      labels: [],
      draft: false,
      head: { label: `${owner}:${pull.head}`, ref: pull.head, sha: pull.headSha, user: this.user(owner), repo },
      base: { label: `${owner}:${pull.base}`, ref: pull.base, sha: baseSha, user: this.user(owner), repo },
      author_association: 'CONTRIBUTOR',
      ...(single
        ? {
            merged: pull.merged,
            mergeable: pull.state === 'open' ? true : null,
            mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
            merged_by: pull.merged ? this.user('octocat') : null,
            comments: 0,
            review_comments: 0,
            commits: 1,
            additions: 0,
            deletions: 0,
            changed_files: 0,
          }
        : {}),
    };
  }
}

function notFound(documentation = DOCS): ReplyError {
  return new ReplyError({ status: 404, body: { message: 'Not Found', documentation_url: documentation, status: '404' } });
}

function unprocessable(message: string, docs: string): ReplyError {
  return new ReplyError({ status: 422, body: { message, documentation_url: `${DOCS}/${docs}`, status: '422' } });
}

function validationFailed(resource: string, field: string, code: string, docs: string): ReplyError {
  return new ReplyError({
    status: 422,
    body: { message: 'Validation Failed', errors: [{ resource, field, code }], documentation_url: `${DOCS}/${docs}`, status: '422' },
  });
}

function customValidation(message: string): ReplyError {
  return new ReplyError({
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ resource: 'PullRequest', code: 'custom', message }],
      documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`,
      status: '422',
    },
  });
}
