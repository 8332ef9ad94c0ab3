import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { listen } from '../../api/server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesCluster } from '../../adapters/kubernetes/port.js';
import { CredentialNotFoundError, type HostAccess } from '../../adapters/ssh/port.js';
import { FakeEventQueue } from '../support/fake-event-queue.js';
import { ensureSchemathesis, runSchemathesis, SCHEMATHESIS_CONFIG } from '../support/schemathesis.js';
import { sampleCmdbItem, startTestStack, type TestStack } from '../support/stack.js';
import { fakeProvisioningToolkit, InMemoryGitHost } from '../support/provisioning-fakes.js';

// Schemathesis against the running API (HTTP on loopback, real store, the test run's Temporal and a
// worker): every operation of /openapi.json, every check. The pass mark is the issue's: no server
// error, no status or body the document does not describe. The worker reaches no host: fuzzed
// CMDB items carry made-up addresses, so host access refuses every connection. The event queue is an
// in-memory stand-in (SQS itself is tested against moto in queue-sqs.test.ts). The PagerDuty webhook
// has a secret the fuzzer does not know (signed deliveries are tested in pagerduty-webhook.test.ts).

const MAX_EXAMPLES = Number(process.env.INFRAAI_FUZZ_MAX_EXAMPLES ?? 12);
const MAX_SECONDS = Number(process.env.INFRAAI_FUZZ_MAX_SECONDS ?? 110);
const SEED = process.env.INFRAAI_FUZZ_SEED ?? '20250131';

const noHosts: HostAccess = {
  connect: (_tenantId, item) => Promise.reject(new CredentialNotFoundError(`the fuzz run reaches no host (${item.tagId})`)),
};

// A cluster of one node and two pods, so that cluster health answers (and diagnoses read pods).
const cluster: KubernetesCluster = {
  listNodes: () => Promise.resolve([{ name: 'node-a', ready: true, kubeletVersion: 'v1.31.0', problems: [] }]),
  listPods: (namespace) =>
    Promise.resolve([
      { name: 'web-5d8', namespace, phase: 'Running', ready: true, restarts: 0, reason: null, exitCode: null, node: 'node-a' },
      { name: 'api-7f9', namespace, phase: 'Running', ready: false, restarts: 7, reason: 'CrashLoopBackOff', exitCode: 1, node: 'node-a' },
    ]),
  listEvents: () => Promise.resolve([]),
};

/** What the API logged as unexpected errors (each one also answered 500). */
const unexpected: string[] = [];

let stack: TestStack;
let server: ServerType;
let baseUrl: string;
let reportDir: string;
let key: string;

beforeAll(async () => {
  // Event streams end after a second here: the fuzzer reads every response to its end.
  stack = await startTestStack({
    withWorker: true,
    hostAccess: noHosts,
    kubernetes: cluster,
    sseMaxStreamMs: 1000,
    queue: new FakeEventQueue(),
    // The fuzzer cannot sign: every request to the PagerDuty webhook is refused (401), as it must be.
    pagerDuty: { secrets: ['fuzz-run-webhook-secret'] },
    // Provisioning over its test doubles; the fuzzer cannot sign GitHub's webhook either (401).
    provisioning: { toolkit: fakeProvisioningToolkit(), gitHost: new InMemoryGitHost(), gitHubWebhookSecrets: ['fuzz-run-github-secret'] },
    log: (line) => unexpected.push(line),
  });
  key = await stack.keyFor('fuzz', 'admin');
  const item = await stack.call('POST', '/api/v1/cmdb', { key, body: sampleCmdbItem('fuzz-01') });
  expect(item.status).toBe(201);
  const listening = await listen(stack.app.fetch, '127.0.0.1', 0);
  server = listening.server;
  baseUrl = `http://127.0.0.1:${listening.port}`;
  reportDir = process.env.INFRAAI_FUZZ_REPORT_DIR ?? (await mkdtemp(join(tmpdir(), 'infraai-fuzz-')));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await stack?.close();
  if (reportDir && !process.env.INFRAAI_FUZZ_REPORT_DIR) await rm(reportDir, { recursive: true, force: true });
});

describe('the OpenAPI document against the running API', () => {
  it('answers a header section over 16 KB with a 431 problem, as the document says', async () => {
    const response = await fetch(`${baseUrl}/api/v1/cmdb?q=${'x'.repeat(20_000)}`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 431, type: 'urn:infraai:problem:headers-too-large' });
  });

  it('finds no server error and no undocumented status in any operation', { timeout: 600_000 }, async (ctx) => {
    const schemathesis = await ensureSchemathesis();
    if ('error' in schemathesis) {
      // CI must run it: a missing fuzzer there is a failure, not a skip.
      if (process.env.CI === 'true') throw new Error(`schemathesis could not be installed: ${schemathesis.error}`);
      ctx.skip(`schemathesis could not be installed: ${schemathesis.error}`);
      return;
    }
    const junit = join(reportDir, 'junit.xml');
    const { code, output } = await runSchemathesis(
      schemathesis.executable,
      [
        '--no-color',
        '--config-file',
        SCHEMATHESIS_CONFIG,
        'run',
        `${baseUrl}/openapi.json`,
        '--header',
        `Authorization: Bearer ${key}`,
        '--checks',
        'all',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--max-time',
        String(MAX_SECONDS),
        '--seed',
        SEED,
        // One worker: hypothesis parses lambdas with ast.parse, which CPython 3.11 cannot run in two threads at once.
        '--workers',
        '1',
        '--request-timeout',
        '45',
        '--report',
        'junit,ndjson',
        '--report-junit-path',
        junit,
        '--report-ndjson-path',
        join(reportDir, 'events.ndjson'),
      ],
      { cwd: reportDir, timeoutMs: (MAX_SECONDS + 90) * 1000 },
    );
    if (process.env.INFRAAI_FUZZ_REPORT_DIR) await writeFile(join(reportDir, 'output.txt'), output);
    const xml = await readFile(junit, 'utf8').catch(() => '');
    const suite = /<testsuite [^>]*errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"/.exec(xml);
    const operations = [...xml.matchAll(/<testcase name="([A-Z]+ [^"]+)"/g)].map((m) => m[1]);
    const cases = /Test cases:\s*\n\s*(\d+) generated/.exec(output)?.[1];
    console.log(
      `schemathesis ${SEED}: ${operations.length} operations, ${cases ?? '?'} cases, ` +
        `${suite?.[2] ?? '?'} failures, ${suite?.[1] ?? '?'} errors (exit ${code})`,
    );
    // On failure, what schemathesis said (its summary names each failure and how to reproduce it).
    const said = output.slice(output.indexOf('=== FAILURES') >= 0 ? output.indexOf('=== FAILURES') : -4000);
    expect(suite, said).not.toBeNull();
    expect({ failures: Number(suite![2]), errors: Number(suite![1]), exit: code }, said).toEqual({ failures: 0, errors: 0, exit: 0 });
    expect(unexpected).toEqual([]);
    // Every operation of the document was exercised.
    expect(operations.length).toBe(95);
  });
});
