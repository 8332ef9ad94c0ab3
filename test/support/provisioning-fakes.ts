import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProvisioningToolkit } from '../../activities/provisioning/deps.js';
import { GitHostUnavailableError, type GitHost, type PullRequestRef, type PullRequestState } from '../../adapters/git-host/port.js';
import type { ProvisionFile, ProvisionRequirements } from '../../core/provisioning/types.js';

// TEST DOUBLES of the provisioning core and the git host, for the workflow and API tests of the
// provisioning family. They are deliberately small: the real grammar, templates, validation and
// policy (core/provisioning/) and the real git hosts (adapters/git-host/) replace them at integration.

/**
 * A toolkit double that understands exactly one shape of request: `<env> s3 bucket <name>` (words
 * in any order; `public` asks for a public bucket, which its policy refuses with an error, and
 * `untagged` earns a warning). Anything without "s3" or "bucket" is missing its resource type.
 */
export function fakeProvisioningToolkit(): ProvisioningToolkit & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    parse(text, context) {
      calls.push('parse');
      const words = text
        .toLowerCase()
        .split(/[^a-z0-9-]+/)
        .filter(Boolean);
      if (!words.includes('bucket') && !words.includes('s3')) {
        return { ok: false, missing: ['resourceType'], message: 'The request names no resource type InfraAI has a template for.' };
      }
      const environment =
        words.includes('production') || words.includes('prod')
          ? 'production'
          : words.includes('dev')
            ? 'dev'
            : (context.environment ?? 'staging');
      const name = words[words.indexOf('bucket') + 1] ?? 'bucket';
      const requirements: ProvisionRequirements = {
        resourceType: 's3_bucket',
        name: /^[a-z0-9-]+$/.test(name) ? name : 'bucket',
        environment,
        size: 'small',
        team: null,
        service: null,
        region: 'eu-west-1',
        tags: words.includes('untagged') ? {} : { owner: context.requester ?? 'unknown' },
        options: words.includes('public') ? { public: true } : {},
      };
      return { ok: true, requirements, parser: 'grammar' };
    },
    render(requirements) {
      calls.push('render');
      const dir = `terraform/${requirements.environment}/s3_bucket/${requirements.name}`;
      const acl = requirements.options.public ? 'public-read' : 'private';
      return [
        {
          path: `${dir}/main.tf`,
          content: `resource "aws_s3_bucket" "${requirements.name}" {\n  bucket = "${requirements.environment}-${requirements.name}"\n  acl    = "${acl}"\n}\n`,
        },
        { path: `${dir}/variables.tf`, content: 'variable "region" {\n  type = string\n}\n' },
      ];
    },
    directory: (requirements) => `terraform/${requirements.environment}/s3_bucket/${requirements.name}`,
    async validate(files) {
      calls.push('validate');
      return files
        .filter((f) => f.content.includes('INVALID'))
        .map((f) => ({
          rule: 'hcl',
          source: 'rules' as const,
          severity: 'error' as const,
          file: f.path,
          line: 1,
          resource: null,
          message: 'not HCL',
        }));
    },
    async policy(files, requirements, options) {
      calls.push(options?.checkov === true ? 'policy+checkov' : 'policy');
      const main = files[0]!.path;
      return [
        // What Checkov says of a public bucket (the real runner: adapters/checkov/), only when asked outright.
        ...(options?.checkov === true && requirements.options.public
          ? [
              {
                rule: 'CKV_AWS_53',
                source: 'checkov' as const,
                severity: 'warning' as const,
                file: main,
                line: 5,
                resource: `aws_s3_bucket_public_access_block.this`,
                message: 'Ensure S3 bucket has block public ACLS enabled',
              },
            ]
          : []),
        ...(requirements.options.public
          ? [
              {
                rule: 'no_public_buckets',
                source: 'rules' as const,
                severity: 'error' as const,
                file: main,
                line: 3,
                resource: `aws_s3_bucket.${requirements.name}`,
                message: 'Buckets may not be public.',
              },
            ]
          : []),
        ...(Object.keys(requirements.tags).length === 0
          ? [
              {
                rule: 'required_tags',
                source: 'rules' as const,
                severity: 'warning' as const,
                file: main,
                line: 1,
                resource: null,
                message: 'No owner tag.',
              },
            ]
          : []),
      ];
    },
  };
}

interface Commit {
  sha: string;
  branch: string;
  requestId: string;
  message: string;
  files: ProvisionFile[];
}

/**
 * A git host double in memory: branches, commits and pull requests, idempotent by name as the port
 * requires. `failOnce` makes the next call of a method throw GitHostUnavailableError AFTER doing its
 * work (a response lost on the way back), so a retry must find what the first attempt made.
 */
export class InMemoryGitHost implements GitHost {
  readonly kind = 'local' as const;
  readonly branches = new Map<string, string>();
  readonly commits: Commit[] = [];
  readonly pullRequests: PullRequestRef[] = [];
  readonly calls: string[] = [];
  private readonly failures = new Set<string>();

  failOnce(method: 'ensureBranch' | 'commitFiles' | 'openPullRequest' | 'pullRequest'): void {
    this.failures.add(method);
  }

  /** What a reviewer does on the host: merges or closes a pull request (seen by polling). */
  setState(number: number, state: PullRequestState): void {
    const pr = this.pullRequests.find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request #${number}`);
    pr.state = state;
  }

  private after<T>(method: string, value: T): T {
    this.calls.push(method);
    if (this.failures.delete(method)) throw new GitHostUnavailableError(`${method}: connection reset after the write (test double)`);
    return value;
  }

  async defaultBranch(): Promise<string> {
    return 'main';
  }

  async ensureBranch(branch: string) {
    const created = !this.branches.has(branch);
    if (created) this.branches.set(branch, 'base0000');
    return this.after('ensureBranch', { branch, created, baseSha: 'base0000' });
  }

  async commitFiles(input: { branch: string; requestId: string; message: string; files: ProvisionFile[] }) {
    if (!this.branches.has(input.branch)) throw new Error(`no branch ${input.branch}`);
    const head = this.commits.find((c) => c.branch === input.branch && c.requestId === input.requestId);
    if (head) return this.after('commitFiles', { sha: head.sha, created: false });
    const sha = createHash('sha1').update(JSON.stringify(input)).digest('hex');
    this.commits.push({ sha, ...input });
    this.branches.set(input.branch, sha);
    return this.after('commitFiles', { sha, created: true });
  }

  async openPullRequest(input: { branch: string; title: string; body: string }) {
    const existing = this.pullRequests.find((p) => p.head === input.branch);
    if (existing) return this.after('openPullRequest', { ...existing, created: false });
    const pr: PullRequestRef = {
      number: this.pullRequests.length + 1,
      url: `memory://infra/pull/${this.pullRequests.length + 1}`,
      state: 'open',
      head: input.branch,
      base: 'main',
    };
    this.pullRequests.push(pr);
    return this.after('openPullRequest', { ...pr, created: true });
  }

  async pullRequest(number: number): Promise<PullRequestRef> {
    const pr = this.pullRequests.find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request #${number}`);
    return this.after('pullRequest', { ...pr });
  }

  async close(number: number): Promise<PullRequestRef> {
    const pr = this.pullRequests.find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request #${number}`);
    if (pr.state === 'open') pr.state = 'closed';
    return this.after('close', { ...pr });
  }

  readonly comments: { number: number; body: string }[] = [];

  async comment(number: number, body: string): Promise<void> {
    this.comments.push({ number, body });
    this.after('comment', undefined);
  }
}

/**
 * The in-memory git host double kept in a JSON file, so that two worker processes (one killed, one
 * that takes over) and the test see one repository. `hangAfterPullRequest` makes openPullRequest
 * write the pull request, print `pull request written`, and never answer: the test kills the
 * worker there, between the pull request's creation and the step's completion.
 */
export class FileGitHost extends InMemoryGitHost {
  constructor(
    private readonly file: string,
    private readonly options: { hangAfterPullRequest?: boolean } = {},
  ) {
    super();
  }

  load(): this {
    const saved = existsSync(this.file)
      ? (JSON.parse(readFileSync(this.file, 'utf8')) as { branches: [string, string][]; commits: Commit[]; pullRequests: PullRequestRef[] })
      : { branches: [], commits: [], pullRequests: [] };
    this.branches.clear();
    for (const [name, sha] of saved.branches) this.branches.set(name, sha);
    this.commits.splice(0, this.commits.length, ...saved.commits);
    this.pullRequests.splice(0, this.pullRequests.length, ...saved.pullRequests);
    return this;
  }

  private save(): void {
    writeFileSync(this.file, JSON.stringify({ branches: [...this.branches], commits: this.commits, pullRequests: this.pullRequests }));
  }

  private async persisted<T>(work: () => Promise<T>): Promise<T> {
    this.load();
    try {
      return await work();
    } finally {
      this.save();
    }
  }

  override ensureBranch(branch: string) {
    return this.persisted(() => super.ensureBranch(branch));
  }

  override commitFiles(input: { branch: string; requestId: string; message: string; files: ProvisionFile[] }) {
    return this.persisted(() => super.commitFiles(input));
  }

  override async openPullRequest(input: { branch: string; title: string; body: string }) {
    const pr = await this.persisted(() => super.openPullRequest(input));
    if (this.options.hangAfterPullRequest) {
      process.stdout.write(`pull request written #${pr.number}\n`);
      await new Promise<never>(() => undefined);
    }
    return pr;
  }

  override pullRequest(number: number) {
    return this.persisted(() => super.pullRequest(number));
  }

  override setState(number: number, state: PullRequestState): void {
    this.load();
    super.setState(number, state);
    this.save();
  }
}
