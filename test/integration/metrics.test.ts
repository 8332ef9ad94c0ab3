import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIncidentRecordActivities } from '../../activities/incident/record.js';
import { activityFailureInterceptor, failureType } from '../../activities/telemetry-interceptor.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { sdkMetricsUrl } from '../../adapters/telemetry/create.js';
import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import { listen } from '../../api/server.js';
import { freePort } from '../../launcher/ports.js';
import { createTestDatabase } from '../support/postgres.js';
import { prometheusAvailable, startPrometheus } from '../support/prometheus.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// GET /metrics: what the registry counts and how it labels it, the token, and real Prometheus
// scraping an API (and a lone worker) while an incident run goes to its end.

const METRICS_TOKEN = 'metrics-token-for-tests';

type Labels = Record<string, string>;

/** The value of one sample in Prometheus text (the line whose labels are exactly these), or undefined. */
function sample(text: string, name: string, labels: Labels = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => found[k] === v)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

describe('metrics registry and GET /metrics', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ metricsToken: METRICS_TOKEN });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const scrape = async () => {
    const response = await stack.app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    return response.text();
  };

  it('answers only with the metrics token when one is configured, in the Prometheus text format', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${stack.adminKey}`, METRICS_TOKEN]) {
      const response = await stack.app.request('/metrics', { headers: authorization ? { authorization } : {} });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.json()).toMatchObject({ status: 401, type: 'urn:infraai:problem:unauthorized' });
    }
    const response = await stack.app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE infraai_http_requests_total counter');
    // Node's own process metrics come along on the same registry.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect((await stack.app.request('/metrics', { method: 'POST' })).status).toBe(405);
  });

  it('labels requests with the matched route pattern, never the raw path, and unknown paths as unmatched', async () => {
    const tagId = `web-${randomUUID().slice(0, 6)}`;
    expect((await stack.call('GET', `/api/v1/cmdb/${tagId}`)).status).toBe(404);
    expect((await stack.call('GET', '/api/v1/cmdb')).status).toBe(200);
    expect((await stack.call('GET', '/api/v1/cmdb')).status).toBe(200);
    expect((await stack.call('GET', `/no/such/${tagId}`)).status).toBe(404);
    expect((await stack.call('DELETE', '/openapi.json')).status).toBe(405);
    expect((await stack.call('GET', '/api/v1/me', { key: 'not-a-key' })).status).toBe(401);

    const text = await scrape();
    expect(text).not.toContain(tagId);
    expect(sample(text, 'infraai_http_requests_total', { method: 'GET', route: '/api/v1/cmdb/:tagId', status: '404' })).toBe(1);
    expect(sample(text, 'infraai_http_requests_total', { method: 'GET', route: '/api/v1/cmdb', status: '200' })).toBe(2);
    expect(sample(text, 'infraai_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(sample(text, 'infraai_http_requests_total', { method: 'DELETE', route: 'unmatched', status: '405' })).toBe(1);
    // Refused by the auth middleware before the handler ran: still the route that was asked for.
    expect(sample(text, 'infraai_http_requests_total', { method: 'GET', route: '/api/v1/me', status: '401' })).toBe(1);
    expect(sample(text, 'infraai_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/cmdb', status: '200' })).toBe(2);
  });

  it('counts a started run once: a repeat of its Idempotency-Key starts nothing and counts nothing', async () => {
    const before = sample(await scrape(), 'infraai_runs_started_total', { family: 'incident' }) ?? 0;
    const tagId = `db-${randomUUID().slice(0, 6)}`;
    expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem(tagId) })).status).toBe(201);
    const body = { title: 'replication lag', description: 'lag over 30 s', severity: 'high', tagId };
    const headers = { 'idempotency-key': randomUUID() };
    const first = await stack.call('POST', '/api/v1/incidents', { body, headers });
    expect(first.status).toBe(201);
    const { workflowId } = (await first.json()) as { workflowId: string };
    try {
      expect((await stack.call('POST', '/api/v1/incidents', { body, headers })).status).toBe(200);
      expect(sample(await scrape(), 'infraai_runs_started_total', { family: 'incident' })).toBe(before + 1);
    } finally {
      // No worker polls this stack's queue: the run would wait for one forever.
      await stack.client.workflow.getHandle(workflowId).terminate('test over');
    }
  });

  it('fills the running and approval gauges from the store at scrape time, across tenants', async () => {
    const before = await scrape();
    const running = sample(before, 'infraai_runs_running', { family: 'incident' }) ?? 0;
    const waiting = sample(before, 'infraai_approvals_waiting', { family: 'incident' }) ?? 0;
    const statuses = ['awaiting_approval', 'awaiting_approval', 'remediating', 'resolved', 'escalated'] as const;
    for (const [i, status] of statuses.entries()) {
      const tenant = await stack.store.tenants.ensure(`gauge-${i % 2}-${randomUUID().slice(0, 6)}`);
      const { incident } = await stack.store.incidents.create(tenant.id, {
        id: randomUUID(),
        title: 'gauge',
        description: '',
        severity: 'low',
        tagId: 'x',
        source: 'test',
        createdBy: null,
      });
      await stack.store.incidents.update(tenant.id, incident.id, { status });
    }
    const after = await scrape();
    expect(sample(after, 'infraai_runs_running', { family: 'incident' })).toBe(running + 3);
    expect(sample(after, 'infraai_approvals_waiting', { family: 'incident' })).toBe(waiting + 2);
  });

  it('fills the automation gauges from the store at scrape time: unfinished runs, approvals waiting, runs by status', async () => {
    const before = await scrape();
    const byStatus = (text: string, status: string) => sample(text, 'infraai_runs_by_status', { family: 'ansible', status }) ?? 0;
    const statuses = ['awaiting_approval', 'awaiting_approval', 'running', 'waiting_for_hosts', 'succeeded', 'lost'] as const;
    for (const [i, status] of statuses.entries()) {
      const tenant = await stack.store.tenants.ensure(`auto-gauge-${i % 2}-${randomUUID().slice(0, 6)}`);
      const { run } = await stack.store.automation.create(tenant.id, {
        id: randomUUID(),
        request: 'install nginx',
        targets: ['web-01'],
        checkMode: false,
        createdBy: null,
      });
      await stack.store.automation.update(tenant.id, run.id, { status });
    }
    const after = await scrape();
    expect(sample(after, 'infraai_runs_running', { family: 'ansible' })).toBe(
      (sample(before, 'infraai_runs_running', { family: 'ansible' }) ?? 0) + 4,
    );
    expect(sample(after, 'infraai_approvals_waiting', { family: 'ansible' })).toBe(
      (sample(before, 'infraai_approvals_waiting', { family: 'ansible' }) ?? 0) + 2,
    );
    for (const [status, added] of [
      ['awaiting_approval', 2],
      ['running', 1],
      ['waiting_for_hosts', 1],
      ['succeeded', 1],
      ['lost', 1],
      ['failed', 0],
    ] as const)
      expect(byStatus(after, status), status).toBe(byStatus(before, status) + added);
    // Every status is a series (0 included), so an alert on a rate of `failed` has a series from the start.
    expect(sample(after, 'infraai_runs_by_status', { family: 'ansible', status: 'recap_missing' })).toBeDefined();
    expect(sample(after, 'infraai_runs_by_status', { family: 'incident', status: 'resolved' })).toBeDefined();
  });

  it('leaves the gauges out, with a comment, when the store does not answer, and still renders the rest', async () => {
    const telemetry = new PrometheusTelemetry({ runCounts: () => Promise.reject(new Error('connection refused')) });
    telemetry.runStarted('incident');
    const { body } = await telemetry.render();
    expect(body).toContain('# infraai: run counts left out, the store did not answer: connection refused');
    expect(sample(body, 'infraai_runs_running', { family: 'incident' })).toBeUndefined();
    expect(body).not.toContain('infraai_runs_by_status{');
    expect(sample(body, 'infraai_runs_started_total', { family: 'incident' })).toBe(1);
  });

  it('counts an ended run and its remediation time once, however often the result write is retried', async () => {
    const telemetry = new PrometheusTelemetry();
    const tenant = await stack.store.tenants.ensure(`ended-${randomUUID().slice(0, 6)}`);
    const { incident } = await stack.store.incidents.create(tenant.id, {
      id: randomUUID(),
      title: 'disk full',
      description: '',
      severity: 'high',
      tagId: 'x',
      source: 'test',
      createdBy: null,
    });
    const { writeIncidentResult } = createIncidentRecordActivities({ store: stack.store, telemetry });
    const write = new MockActivityEnvironment({ workflowExecution: { workflowId: `incident-${incident.id}`, runId: 'r1' } });
    const input = { tenantId: tenant.id, incidentId: incident.id, status: 'resolved' as const, summary: 'fixed', details: {} };
    await write.run(writeIncidentResult, input);
    await write.run(writeIncidentResult, input);
    const { body } = await telemetry.render();
    expect(sample(body, 'infraai_runs_ended_total', { family: 'incident', outcome: 'resolved' })).toBe(1);
    expect(sample(body, 'infraai_run_duration_seconds_count', { family: 'incident', outcome: 'resolved' })).toBe(1);
    expect(sample(body, 'infraai_remediation_seconds_count')).toBe(1);
    expect(sample(body, 'infraai_remediation_seconds_bucket', { le: '+Inf' })).toBe(1);
  });

  it('counts failed activity attempts by activity type and failure type, passing the failure on', async () => {
    const telemetry = new PrometheusTelemetry();
    const env = new MockActivityEnvironment(
      { activityType: 'runDiagnostics' },
      { interceptors: [activityFailureInterceptor(telemetry)], logger: new DefaultLogger('ERROR') },
    );
    const refused = ApplicationFailure.nonRetryable('no such credential', 'CredentialNotFound');
    await expect(env.run(() => Promise.reject(refused))).rejects.toBe(refused);
    await expect(env.run(() => Promise.reject(refused))).rejects.toBe(refused);
    await expect(env.run(() => Promise.reject(new TypeError('x is undefined')))).rejects.toThrow(TypeError);
    await expect(env.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
    const { body } = await telemetry.render();
    expect(sample(body, 'infraai_activity_failures_total', { activity: 'runDiagnostics', failure: 'CredentialNotFound' })).toBe(2);
    expect(sample(body, 'infraai_activity_failures_total', { activity: 'runDiagnostics', failure: 'TypeError' })).toBe(1);
    expect(failureType(ApplicationFailure.create({ message: 'untyped' }))).toBe('ApplicationFailure');
  });

  it("appends the Temporal SDK exporter's text, or a comment saying why it is missing", async () => {
    const exporter: Server = createServer((_, res) => res.end('# TYPE temporal_fake_total counter\ntemporal_fake_total 7'));
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const port = (exporter.address() as { port: number }).port;
    try {
      const { body } = await new PrometheusTelemetry({ sdkMetricsUrl: sdkMetricsUrl(`0.0.0.0:${port}`) }).render();
      expect(sample(body, 'temporal_fake_total')).toBe(7);
      expect(body.endsWith('temporal_fake_total 7\n')).toBe(true);
    } finally {
      await new Promise((resolve) => exporter.close(resolve));
    }
    const closed = await freePort();
    const { body } = await new PrometheusTelemetry({ sdkMetricsUrl: sdkMetricsUrl(`127.0.0.1:${closed}`) }).render();
    expect(body).toContain(`# infraai: Temporal SDK metrics at http://127.0.0.1:${closed}/metrics left out:`);
    expect(body).toContain('# TYPE infraai_runs_started_total counter');
  });
});

/** The value Prometheus holds for a query's one series with these labels, or undefined. */
async function queryPrometheus(prometheusUrl: string, query: string, labels: Labels): Promise<number | undefined> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data: { result: { metric: Labels; value: [number, string] }[] } };
  const series = body.data.result.find((r) => Object.entries(labels).every(([k, v]) => r.metric[k] === v));
  return series ? Number(series.value[1]) : undefined;
}

// Under CI nothing skips: a missing Prometheus fails the run instead of passing it silently.
const withPrometheus = prometheusAvailable() || process.env.CI === 'true' ? describe : describe.skip;

withPrometheus('real Prometheus scraping the API while a run goes to its end', () => {
  let stack: TestStack;
  let server: ServerType;
  let prometheus: { url: string; stop(): Promise<void> };

  beforeAll(async () => {
    // As under `npm start`: API and worker in one process, one registry.
    stack = await startTestStack({ withWorker: true });
    const listening = await listen(stack.app.fetch, '127.0.0.1', 0);
    server = listening.server;
    prometheus = await startPrometheus([{ job: 'infraai', targets: [`127.0.0.1:${listening.port}`] }]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await stack?.close();
  });

  it('sees the run started, its failed diagnostics step and its end counted', async () => {
    expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('web-01') })).status).toBe(201);
    const response = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'nginx down on web-01', description: 'HTTP 502', severity: 'high', tagId: 'web-01' },
    });
    expect(response.status).toBe(201);
    // web-01's credential was never stored: diagnostics refuse at once and the run escalates.
    const labels = { job: 'infraai', family: 'incident', outcome: 'escalated' };
    const ended = await waitFor(
      () => queryPrometheus(prometheus.url, 'infraai_runs_ended_total', labels),
      'Prometheus to see the escalated run',
      60_000,
      500,
    );
    expect(ended).toBe(1);
    expect(await queryPrometheus(prometheus.url, 'infraai_runs_started_total', { family: 'incident' })).toBe(1);
    expect(
      await waitFor(
        () =>
          queryPrometheus(prometheus.url, 'infraai_activity_failures_total', { activity: 'runDiagnostics', failure: 'CredentialNotFound' }),
        'Prometheus to see the failed diagnostics attempt',
      ),
    ).toBe(1);
    // Each scrape is itself a request: the next scrape carries it, labelled with its route pattern.
    await waitFor(
      () => queryPrometheus(prometheus.url, 'infraai_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }),
      'Prometheus to see its own scrapes counted',
    );
    expect(await queryPrometheus(prometheus.url, 'up', { job: 'infraai' })).toBe(1);
  });
});

describe('a lone worker process (`npm run worker`) serving its own metrics', () => {
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let stack: TestStack;
  let worker: ChildProcess | null = null;
  let dataDir: string;

  beforeAll(async () => {
    // Two processes share one store: PostgreSQL, not PGlite.
    database = await createTestDatabase();
    store = await createStore({ kind: 'postgres', url: database.url });
    stack = await startTestStack({ store });
    dataDir = await mkdtemp(join(tmpdir(), 'infraai-metrics-worker-'));
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await stack?.close();
    await store?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("counts the run it ends and the step that failed, and appends the Temporal SDK runtime's metrics", async () => {
    const [metricsPort, sdkPort] = [await freePort(), await freePort()];
    worker = await startWorkerProcess({
      DATABASE_URL: database.url,
      INFRAAI_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: testTemporal().address,
      TEMPORAL_NAMESPACE: testTemporal().namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
      INFRAAI_WORKER_METRICS_PORT: String(metricsPort),
      INFRAAI_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
      INFRAAI_METRICS_TOKEN: METRICS_TOKEN,
    });
    const workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await fetch(workerMetrics)).status).toBe(401);

    expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('api-01') })).status).toBe(201);
    const response = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'api down on api-01', description: 'HTTP 502', severity: 'high', tagId: 'api-01' },
    });
    expect(response.status).toBe(201);
    const text = await waitFor(
      async () => {
        const scraped = await (await fetch(workerMetrics, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
        return sample(scraped, 'infraai_runs_ended_total', { family: 'incident', outcome: 'escalated' }) === 1 ? scraped : null;
      },
      "the worker's metrics to count the escalated run",
      60_000,
      300,
    );
    expect(sample(text, 'infraai_activity_failures_total', { activity: 'runDiagnostics', failure: 'CredentialNotFound' })).toBe(1);
    // The SDK's exporter answered, so its series are in the same scrape.
    expect(text).not.toContain('Temporal SDK metrics at');
    expect(text).toMatch(/^temporal_\w+(\{[^}]*\})? \S+$/m);
    // The API process started the run; the worker process ended it: each counts its own.
    const api = await (await stack.app.request('/metrics')).text();
    expect(sample(api, 'infraai_runs_started_total', { family: 'incident' })).toBe(1);
    expect(sample(api, 'infraai_runs_ended_total', { family: 'incident', outcome: 'escalated' })).toBeUndefined();
  });
});
