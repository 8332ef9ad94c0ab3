import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import { loadConfig } from '../../config.js';
import { provisionBranch } from '../../core/contracts/provisioning.js';
import { buildProvisioning } from '../../wiring.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// Provisioning as `npm start` wires it: the real grammar, templates, HCL parser and policy
// (buildProvisioning in wiring.ts, Checkov off to keep the test short; its own test runs it) and the
// embedded local git host, one bare repository per tenant under INFRAAI_GIT_LOCAL_REPO, pull
// requests recorded in the store. Through the API over the test run's Temporal dev server.

let stack: TestStack;
let reposDir: string;
let otherKey: string;

beforeAll(async () => {
  reposDir = await mkdtemp(join(tmpdir(), 'infraai-provision-repos-'));
  const store = await createStore({ kind: 'pglite', dataDir: await mkdtemp(join(tmpdir(), 'infraai-provision-store-')) });
  const config = loadConfig({ INFRAAI_GIT_HOST: 'local', INFRAAI_GIT_LOCAL_REPO: reposDir, INFRAAI_CHECKOV: 'off' });
  const provisioning = await buildProvisioning(config, store);
  stack = await startTestStack({
    store,
    withWorker: true,
    provisioning: {
      toolkit: provisioning.toolkit!,
      gitHost: provisioning.gitHost!,
      localReview: provisioning.localReview,
      settings: { reviewTimeoutMs: 300_000, reminderBeforeMs: 0, pollIntervalMs: 300_000 },
    },
  });
  otherKey = await stack.keyFor('globex', 'operator');
});

afterAll(async () => {
  await stack?.close();
  await rm(reposDir, { recursive: true, force: true });
});

interface Detail {
  id: string;
  status: string;
  branch: string | null;
  commitSha: string | null;
  directory: string | null;
  pullRequest: { number: number; url: string; state: string } | null;
  files: { path: string; content: string }[];
  findings: { rule: string; severity: string; file: string; line: number | null }[];
}

const git = (tenant: string, ...args: string[]) =>
  execFileSync('git', ['--git-dir', join(reposDir, tenant), ...args], { encoding: 'utf8' }).trim();
const branches = (tenant: string) =>
  existsSync(join(reposDir, tenant)) ? git(tenant, 'for-each-ref', '--format=%(refname:short)', 'refs/heads') : '';

async function request(body: unknown, key?: string): Promise<string> {
  const res = await stack.call('POST', '/api/v1/provision', { body, ...(key ? { key } : {}) });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

function untilFinalOr(id: string, status: string, key?: string): Promise<Detail> {
  return waitFor(
    async () => {
      const detail = (await (await stack.call('GET', `/api/v1/provision/${id}`, key ? { key } : {})).json()) as Detail;
      return detail.status === status ||
        ['completed', 'failed', 'blocked', 'not_understood', 'cancelled', 'expired'].includes(detail.status)
        ? detail
        : null;
    },
    `request ${id} to be ${status}`,
    60_000,
  );
}

describe('provisioning on the real core and the local git host', () => {
  it('puts a production database on its own branch as one commit, opens one pull request, and completes on merge', async () => {
    const id = await request({
      request: 'production postgres database for the payments api, large, owned by team payments',
      requester: 'sre@example.com',
    });
    const waiting = await untilFinalOr(id, 'awaiting_review');
    expect(waiting.status, JSON.stringify(waiting.findings)).toBe('awaiting_review');
    expect(waiting.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const directory = waiting.directory!;
    expect(directory).toMatch(/^terraform\/production\/postgres_database\//);
    expect(waiting.files.map((f) => f.path).sort()).toEqual(
      ['main.tf', 'outputs.tf', 'variables.tf', 'versions.tf'].map((name) => `${directory}/${name}`),
    );
    expect(waiting.files.find((f) => f.path.endsWith('main.tf'))!.content).toMatch(/resource "aws_db_instance"/);

    // In the tenant's own repository: the branch, one commit on top of main holding exactly the files.
    const branch = provisionBranch(id);
    expect(waiting.branch).toBe(branch);
    expect(branches('acme').split('\n').sort()).toEqual([branch, 'main']);
    expect(git('acme', 'rev-list', '--count', `main..${branch}`)).toBe('1');
    expect(git('acme', 'rev-parse', branch)).toBe(waiting.commitSha);
    expect(git('acme', 'diff-tree', '--no-commit-id', '--name-only', '-r', branch).split('\n').sort()).toEqual(
      waiting.files.map((f) => f.path).sort(),
    );
    expect(git('acme', 'log', '-1', '--format=%B', branch)).toContain(`Provision-Request: ${id}`);
    for (const file of waiting.files) expect(git('acme', 'show', `${branch}:${file.path}`)).toBe(file.content.trim());
    expect(waiting.pullRequest).toMatchObject({ number: 1, state: 'open', url: expect.stringMatching(/^local:\/\/.*#1$/) });

    const reviewed = await stack.call('POST', `/api/v1/provision/${id}/review`, { body: { decision: 'merged' } });
    expect(reviewed.status, await reviewed.clone().text()).toBe(200);
    const done = await untilFinalOr(id, 'completed');
    expect(done).toMatchObject({ status: 'completed', pullRequest: { number: 1, state: 'merged' } });
    // Merged into main: the files are there, as they were committed.
    expect(git('acme', 'ls-tree', '-r', '--name-only', 'main', directory).split('\n').sort()).toEqual(
      waiting.files.map((f) => f.path).sort(),
    );
  });

  it('blocks a public bucket before anything is pushed, and shows why', async () => {
    const before = branches('acme');
    const id = await request({ request: 'a public s3 bucket named press-kit for the marketing team in production' });
    const blocked = await untilFinalOr(id, 'blocked');
    expect(blocked.status).toBe('blocked');
    expect(blocked.findings).toContainEqual(
      expect.objectContaining({
        rule: 'no_public_buckets',
        severity: 'error',
        file: expect.stringMatching(/main\.tf$/),
        line: expect.any(Number),
      }),
    );
    expect(blocked.branch).toBeNull();
    expect(branches('acme')).toBe(before);
  });

  it('keeps each tenant in its own repository, numbering pull requests from 1', async () => {
    const id = await request({ request: 'fifo sqs queue named invoices for the billing service in staging' }, otherKey);
    const waiting = await untilFinalOr(id, 'awaiting_review', otherKey);
    expect(waiting.pullRequest).toMatchObject({ number: 1, state: 'open' });
    expect(branches('globex').split('\n').sort()).toEqual([provisionBranch(id), 'main']);
    expect(branches('acme')).not.toContain(provisionBranch(id));
    expect(waiting.files.find((f) => f.path.endsWith('main.tf'))!.content).toMatch(/fifo_queue\s+= true/);
  });

  it('dry-runs on the real core: requirements, files and findings, and nothing in any repository', async () => {
    const before = { acme: branches('acme'), globex: branches('globex') };
    const res = await stack.call('POST', '/api/v1/provision/dry-run', { body: { request: 'a small mysql database named crm in dev' } });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { requirements: { resourceType: string }; files: unknown[]; blocked: boolean };
    expect(body.requirements.resourceType).toBe('mysql_database');
    expect(body.files).toHaveLength(4);
    expect(body.blocked).toBe(false);
    expect({ acme: branches('acme'), globex: branches('globex') }).toEqual(before);
  });
});
