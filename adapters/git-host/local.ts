import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProvisionFile } from '../../core/provisioning/types.js';
import { checkBranchName, checkFiles, provisionCommitMessage, provisionRequestOf } from './commits.js';
import { GitHostRefusedError, GitHostUnavailableError, type GitHost, type PullRequestRecords, type PullRequestRef } from './port.js';

// An embedded git host: a repository directory on this machine (bare when this host creates it) and
// pull-request records kept by a PullRequestRecords repository, so provisioning works without a
// GitHub account. Everything is written with git plumbing through the `git` CLI: blobs and trees go
// through a temporary index and refs move by compare-and-swap (`git update-ref <ref> <new> <old>`),
// so no working tree is touched and concurrent requests (in this process or another) cannot lose or
// duplicate a commit. Merging a pull request is a three-way merge computed by `git merge-tree
// --write-tree` (git 2.38 or later) and committed as a merge commit on the default branch, as GitHub's
// merge button does.

export interface LocalGitHostConfig {
  /** The repository directory; created (bare, with an initial commit) when missing or empty. */
  repoPath: string;
  /** 'main' by default. An existing repository keeps its own HEAD branch when this is not given. */
  defaultBranch?: string;
  records: PullRequestRecords;
  /** Author and committer of the commits made here; `InfraAI <infraai@localhost>` by default. */
  author?: { name: string; email: string };
  /** The `git` executable; 'git' (from PATH) by default. */
  gitPath?: string;
  /** Per git command; 30 s by default. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Attempts at moving a ref another writer moved first (or held locked) before giving up as unavailable. */
const REF_UPDATE_ATTEMPTS = 5;
const ZERO_SHA = '0000000000000000000000000000000000000000';
/**
 * One openPullRequest per repository and head at a time in this process (whichever instance runs it):
 * the second finds the first's record and reports `created: false`. Across processes the records'
 * create() keeps it to one record.
 */
const opening = new Map<string, Promise<unknown>>();

interface Repository {
  /** The repository directory (real path). */
  dir: string;
  gitDir: string;
  defaultBranch: string;
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class LocalGitHost implements GitHost {
  readonly kind = 'local' as const;
  private readonly records: PullRequestRecords;
  private ready: Promise<Repository> | null = null;
  private gitDir: string | null = null;

  constructor(private readonly config: LocalGitHostConfig) {
    this.records = config.records;
  }

  /** `local://<repository path>#<number>`: there is no web page for a local pull request. */
  async urlOf(number: number): Promise<string> {
    const { dir } = await this.repository();
    return `local://${dir}#${number}`;
  }

  async defaultBranch(): Promise<string> {
    return (await this.repository()).defaultBranch;
  }

  async ensureBranch(branch: string): Promise<{ branch: string; created: boolean; baseSha: string }> {
    checkBranchName(branch);
    const { defaultBranch } = await this.repository();
    for (let attempt = 1; ; attempt++) {
      const head = await this.headOf(branch);
      if (head) return { branch, created: false, baseSha: head };
      const base = await this.headOf(defaultBranch);
      if (!base) throw new GitHostUnavailableError(`local git host: the default branch '${defaultBranch}' has no commit`);
      // Created only if the branch still does not exist: a concurrent ensureBranch finds it next round.
      const moved = await this.git(['update-ref', '-m', 'infraai: branch', `refs/heads/${branch}`, base, ZERO_SHA], { allowFailure: true });
      if (moved.code === 0) return { branch, created: true, baseSha: base };
      if (attempt >= REF_UPDATE_ATTEMPTS) throw refUpdateFailed(branch, moved);
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
    await this.repository();
    for (let attempt = 1; ; attempt++) {
      const head = await this.headOf(input.branch);
      if (!head) throw new GitHostRefusedError(`local git host: branch '${input.branch}' does not exist (ensureBranch first)`, 404);
      if (provisionRequestOf(await this.messageOf(head)) === input.requestId) return { sha: head, created: false };
      const tree = await this.treeWith(head, input.files);
      const commit = await this.git(['commit-tree', '--no-gpg-sign', tree, '-p', head, '-F', '-'], { input: message });
      const moved = await this.git(['update-ref', '-m', `infraai: ${input.requestId}`, `refs/heads/${input.branch}`, commit, head], {
        allowFailure: true,
      });
      if (moved.code === 0) return { sha: commit, created: true };
      // Another writer moved (or held) the branch: the next round finds its commit if it carries this
      // request's trailer, or builds on the new head.
      if (attempt >= REF_UPDATE_ATTEMPTS) throw refUpdateFailed(input.branch, moved);
    }
  }

  async openPullRequest(input: { branch: string; title: string; body: string }): Promise<PullRequestRef & { created: boolean }> {
    checkBranchName(input.branch);
    const { dir, defaultBranch } = await this.repository();
    const key = `${dir}\0${input.branch}`;
    const previous = opening.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const existing = await this.records.findByHead(input.branch);
        if (existing) return { ...(await this.withUrl(existing)), created: false };
        const head = await this.headOf(input.branch);
        if (!head) throw new GitHostRefusedError(`local git host: branch '${input.branch}' does not exist`, 422);
        const base = await this.headOf(defaultBranch);
        if (head === base || (base && (await this.isAncestor(head, base)))) {
          throw new GitHostRefusedError(`local git host: no commits between '${defaultBranch}' and '${input.branch}'`, 422);
        }
        const created = await this.records.create({ head: input.branch, base: defaultBranch, title: input.title, body: input.body });
        return { ...(await this.withUrl(created)), created: true };
      });
    opening.set(key, run);
    try {
      return await run;
    } finally {
      if (opening.get(key) === run) opening.delete(key);
    }
  }

  async pullRequest(number: number): Promise<PullRequestRef> {
    const record = await this.records.get(number);
    if (!record) throw new GitHostRefusedError(`local git host: no pull request #${number}`, 404);
    return this.withUrl(record);
  }

  /**
   * Merges pull request `number` the way GitHub's merge button does: a merge commit of the default
   * branch and the pull request's branch on the default branch (a conflict refuses the merge, 409).
   * Merging a merged pull request again returns it unchanged.
   */
  async merge(number: number): Promise<PullRequestRef & { sha: string }> {
    const record = await this.pullRequest(number);
    const baseRef = `refs/heads/${record.base}`;
    if (record.state === 'closed') throw new GitHostRefusedError(`local git host: pull request #${number} is closed`, 405);
    if (record.state === 'merged') return { ...record, sha: (await this.headOf(record.base)) ?? '' };
    for (let attempt = 1; ; attempt++) {
      const head = await this.headOf(record.head);
      const base = await this.headOf(record.base);
      if (!head || !base)
        throw new GitHostRefusedError(`local git host: branch '${head ? record.base : record.head}' of #${number} is gone`, 422);
      // Already merged (a merge that stopped before its record was updated): only the record is left to do.
      if (await this.isAncestor(head, base)) return this.markMerged(record, base);
      const merged = await this.git(['merge-tree', '--write-tree', '--no-messages', base, head], { allowFailure: true });
      if (merged.code === 1) throw new GitHostRefusedError(`local git host: #${number} does not merge cleanly into '${record.base}'`, 409);
      if (merged.code === 129) throw new GitHostRefusedError('local git host: merging needs git 2.38 or later (merge-tree --write-tree)');
      if (merged.code !== 0) throw gitFailed(['merge-tree'], merged);
      const tree = merged.stdout.split('\n', 1)[0]!.trim();
      const commit = await this.git(['commit-tree', '--no-gpg-sign', tree, '-p', base, '-p', head, '-F', '-'], {
        input: `Merge pull request #${number} from ${record.head}\n`,
      });
      const moved = await this.git(['update-ref', '-m', `infraai: merge #${number}`, baseRef, commit, base], { allowFailure: true });
      if (moved.code === 0) return this.markMerged(record, commit);
      if (attempt >= REF_UPDATE_ATTEMPTS) throw refUpdateFailed(record.base, moved);
    }
  }

  private async markMerged(record: PullRequestRef, sha: string): Promise<PullRequestRef & { sha: string }> {
    const updated = await this.records.setState(record.number, 'merged');
    return { ...(await this.withUrl(updated ?? { ...record, state: 'merged' })), sha };
  }

  /** Closes pull request `number` without merging; its branch stays. A merged one cannot be closed (405). */
  async close(number: number): Promise<PullRequestRef> {
    const record = await this.pullRequest(number);
    if (record.state === 'merged') throw new GitHostRefusedError(`local git host: pull request #${number} is merged`, 405);
    if (record.state === 'closed') return record;
    const updated = await this.records.setState(number, 'closed');
    return this.withUrl(updated ?? { ...record, state: 'closed' });
  }

  private async withUrl(record: PullRequestRef): Promise<PullRequestRef> {
    return { ...record, url: await this.urlOf(record.number) };
  }

  /** The branch's head commit, or null when there is no such branch. */
  private async headOf(branch: string): Promise<string | null> {
    const result = await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { allowFailure: true });
    if (result.code === 0) return result.stdout.trim();
    if (result.code === 1) return null;
    throw gitFailed(['rev-parse'], result);
  }

  private async messageOf(sha: string): Promise<string> {
    return this.git(['show', '-s', '--format=%B', sha], { trim: false });
  }

  private async isAncestor(ancestor: string, of: string): Promise<boolean> {
    const result = await this.git(['merge-base', '--is-ancestor', ancestor, of], { allowFailure: true });
    if (result.code > 1) throw gitFailed(['merge-base'], result);
    return result.code === 0;
  }

  /** The tree of `base` with `files` written over it, built in a temporary index of its own. */
  private async treeWith(base: string, files: readonly ProvisionFile[]): Promise<string> {
    const index = path.join(tmpdir(), `infraai-git-index-${randomUUID()}`);
    try {
      const env = { GIT_INDEX_FILE: index };
      await this.git(['read-tree', base], { env });
      const entries: string[] = [];
      for (const file of files) {
        const blob = await this.git(['hash-object', '-w', '--stdin'], { input: file.content });
        entries.push(`100644 ${blob}\t${file.path}`);
      }
      await this.git(['update-index', '--add', '--index-info'], { env, input: `${entries.join('\n')}\n` });
      return await this.git(['write-tree'], { env });
    } finally {
      await rm(index, { force: true });
    }
  }

  /** Opens (or creates) the repository once; every git command runs against its git directory. */
  private repository(): Promise<Repository> {
    this.ready ??= this.open().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async open(): Promise<Repository> {
    await mkdir(this.config.repoPath, { recursive: true });
    const dir = await realpath(this.config.repoPath);
    const empty = (await readdir(dir)).length === 0;
    if (empty) {
      const branch = this.config.defaultBranch ?? 'main';
      checkBranchName(branch);
      await this.gitIn(dir, ['init', '--quiet', '--bare', `--initial-branch=${branch}`]);
    }
    // The ceiling keeps git from finding an enclosing repository (the project's own checkout) when
    // the directory is not a repository itself.
    const found = await this.gitIn(dir, ['rev-parse', '--absolute-git-dir'], { GIT_CEILING_DIRECTORIES: path.dirname(dir) }, true);
    if (found.code !== 0) throw new GitHostRefusedError(`local git host: ${dir} is neither empty nor a git repository`);
    const gitDir = found.stdout.trim();
    let defaultBranch = this.config.defaultBranch;
    if (!defaultBranch) {
      const symbolic = await this.gitIn(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { GIT_DIR: gitDir }, true);
      defaultBranch = symbolic.code === 0 ? symbolic.stdout.trim() : 'main';
    }
    checkBranchName(defaultBranch);
    this.gitDir = gitDir;
    // A repository without any branch gets an empty initial commit, so that branches have something
    // to start from. One with branches but not the configured one is a misconfiguration: starting an
    // unrelated default branch there would open pull requests nobody could merge.
    const head = await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${defaultBranch}^{commit}`], { allowFailure: true });
    if (head.code !== 0) {
      const branches = await this.git(['for-each-ref', '--count=5', '--format=%(refname:short)', 'refs/heads/']);
      if (branches) {
        throw new GitHostRefusedError(
          `local git host: ${dir} has no branch '${defaultBranch}' (it has ${branches.split('\n').join(', ')}): set the default branch (INFRAAI_GIT_DEFAULT_BRANCH) to one of them`,
        );
      }
      const tree = await this.git(['mktree'], { input: '' });
      const commit = await this.git(['commit-tree', '--no-gpg-sign', tree, '-F', '-'], { input: 'Initial commit\n' });
      // Another process initialising the same repository may win: its initial commit is as good.
      await this.git(['update-ref', '-m', 'infraai: initial commit', `refs/heads/${defaultBranch}`, commit, ZERO_SHA], {
        allowFailure: true,
      });
    }
    return { dir, gitDir, defaultBranch };
  }

  private git(
    args: string[],
    options: { input?: string; env?: Record<string, string>; trim?: boolean; allowFailure: true },
  ): Promise<GitResult>;
  private git(
    args: string[],
    options?: { input?: string; env?: Record<string, string>; trim?: boolean; allowFailure?: false },
  ): Promise<string>;
  private async git(
    args: string[],
    options: { input?: string; env?: Record<string, string>; trim?: boolean; allowFailure?: boolean } = {},
  ): Promise<GitResult | string> {
    if (!this.gitDir) throw new Error('local git host: repository not opened');
    const result = await runGit(this.config, this.gitDir, args, { GIT_DIR: this.gitDir, ...options.env }, options.input);
    if (options.allowFailure) return result;
    if (result.code !== 0) throw gitFailed(args, result);
    return options.trim === false ? result.stdout : result.stdout.trim();
  }

  private async gitIn(dir: string, args: string[], env: Record<string, string> = {}, allowFailure = false): Promise<GitResult> {
    const result = await runGit(this.config, dir, args, env);
    if (!allowFailure && result.code !== 0) throw gitFailed(args, result);
    return result;
  }
}

/** The environment git runs with: the caller's, without GIT_* variables that would redirect it, plus an identity. */
function gitEnv(config: LocalGitHostConfig, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GIT_')) env[key] = value;
  const author = config.author ?? { name: 'InfraAI', email: 'infraai@localhost' };
  return {
    ...env,
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    ...extra,
  };
}

function runGit(config: LocalGitHostConfig, cwd: string, args: string[], env: Record<string, string>, input?: string): Promise<GitResult> {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(config.gitPath ?? 'git', args, {
      cwd,
      env: gitEnv(config, env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT'
        ? reject(
            new GitHostRefusedError(`local git host: git is not installed (no '${config.gitPath ?? 'git'}' to run)`, null, { cause: err }),
          )
        : reject(new GitHostUnavailableError(`local git host: could not run git (${err.message})`, null, { cause: err })),
    );
    child.on('close', (code, signal) => {
      if (signal) {
        reject(new GitHostUnavailableError(`local git host: git ${args[0]} stopped by ${signal} (timeout ${timeoutMs} ms?)`));
        return;
      }
      resolve({ code: code ?? 1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    // A child that exits before reading its input closes the pipe; that is reported by its exit code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function gitFailed(args: string[], result: GitResult): GitHostUnavailableError {
  const detail = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${result.code}`;
  return new GitHostUnavailableError(`local git host: git ${args[0]} failed: ${detail}`);
}

function refUpdateFailed(branch: string, result: GitResult): GitHostUnavailableError {
  return new GitHostUnavailableError(
    `local git host: branch '${branch}' kept moving or stayed locked (${result.stderr.trim().split('\n').pop() ?? ''})`,
    1000,
  );
}
