import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../adapters/metrics/prometheus.js';
import { MetricsQueryError, MetricsUnavailableError } from '../../adapters/metrics/port.js';
import { cmdbItemFor } from '../../lab/cli.js';
import { injectFault } from '../../lab/faults.js';
import { labPrerequisites, startLab, type Lab } from '../../lab/lab.js';
import { prometheusAvailable, startPrometheus } from '../support/prometheus.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The metrics step against a real Prometheus (Debian's) scraping a lab host's service: a crashed
// service shows as `up == 0` in the run's evidence before the SSH diagnostics confirm it.

const problems = [...labPrerequisites(), ...(prometheusAvailable() ? [] : ['/usr/bin/prometheus is missing (apt-get install prometheus)'])];

describe.skipIf(problems.length > 0)(`metrics from Prometheus${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`, () => {
  let lab: Lab;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  let stack: TestStack;

  beforeAll(async () => {
    lab = await startLab({ hosts: 1 });
    const host = lab.hosts[0]!;
    prometheus = await startPrometheus([{ job: 'labsvc', targets: [`${host.address}:${host.servicePort}`] }]);
    stack = await startTestStack({ withWorker: true, metrics: new PrometheusMetrics({ baseUrl: prometheus.url }) });
    expect(
      (
        await stack.call('POST', '/api/v1/credentials/ssh', {
          body: { name: 'lab', username: 'root', privateKey: await readFile(lab.clientKeyPath, 'utf8') },
        })
      ).status,
    ).toBe(201);
    expect((await stack.call('POST', '/api/v1/cmdb', { body: cmdbItemFor(host) })).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await prometheus?.stop();
    await lab?.stop();
  });

  it('answers instant queries, refuses bad PromQL clearly, and reports a datasource that is down', async () => {
    const metrics = new PrometheusMetrics({ baseUrl: prometheus.url });
    const up = await waitFor(
      async () => {
        const samples = await metrics.query('up{job="labsvc"}');
        return samples.length ? samples : null;
      },
      'the first scrape',
      20_000,
    );
    expect(up[0]).toMatchObject({ labels: { job: 'labsvc', instance: `${lab.hosts[0]!.address}:8080` }, value: 1 });
    expect((await metrics.query('labsvc_healthy'))[0]?.value).toBe(1);
    await expect(metrics.query('up{')).rejects.toBeInstanceOf(MetricsQueryError);
    await expect(new PrometheusMetrics({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 }).query('up')).rejects.toBeInstanceOf(
      MetricsUnavailableError,
    );
  });

  it('puts what Prometheus sees into the run: a crashed service is down in the metrics, then fixed', async () => {
    const host = lab.hosts[0]!;
    await injectFault(host, 'service-crashed');
    const metrics = new PrometheusMetrics({ baseUrl: prometheus.url });
    await waitFor(
      async () => ((await metrics.query('up{job="labsvc"}'))[0]?.value === 0 ? true : null),
      'Prometheus to see labsvc down',
      20_000,
    );

    const created = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'labsvc is down on lab1', description: 'health check failing: connection refused', severity: 'high', tagId: 'lab1' },
    });
    const { id } = (await created.json()) as { id: string };
    const done = await waitFor(
      async () => {
        const incident = (await (await stack.call('GET', `/api/v1/incidents/${id}`)).json()) as {
          status: string;
          findings: string[];
          workflow: { state: { metrics: { datasource: string; queries: { name: string; samples: { value: number }[] }[] } | null } };
        };
        return ['resolved', 'escalated', 'failed'].includes(incident.status) ? incident : null;
      },
      'the run',
      90_000,
    );
    expect(done.status).toBe('resolved');
    const snapshot = done.workflow.state.metrics!;
    expect(snapshot.datasource).toBe('prometheus');
    expect(snapshot.queries.find((q) => q.name === 'scrape targets up')?.samples[0]?.value).toBe(0);
    expect(done.findings.join('\n')).toMatch(/Metrics: scrape targets up \{.*job="labsvc".*\} = 0/);
  });
});
