import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient } from '../../adapters/metrics/create.js';
import { MAX_RANGE_POINTS, MetricsQueryError, MetricsUnavailableError, type MetricsQueries } from '../../adapters/metrics/port.js';
import { freePort } from '../../launcher/ports.js';
import { createPrometheusTools } from '../../tools/prometheus.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, type ToolCaller } from '../../tools/tool.js';
import { listenLocal, localUrl } from '../support/local-server.js';
import { prometheusAvailable, startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { toolContext } from '../support/tool-context.js';

// The metrics port's Prometheus client (instant and range queries) and the Prometheus chat tools
// against a real Prometheus (Debian's) scraping a small exporter every second and a target that is
// down. Authentication and rate limiting are a reverse proxy's job in front of Prometheus, so the
// auth and 429 cases go through such a proxy to the same Prometheus.

const TOKEN = 'prom-bearer-5c2e91';
const USER = 'grafana';
const PASSWORD = 'prom-basic-pw-8d1';

async function waitFor<T>(check: () => Promise<T | null>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A reverse proxy that wants one Authorization header and can answer the next request with a failure. */
class AuthProxy {
  private failure: { status: number; retryAfter?: string } | null = null;
  private constructor(
    readonly server: Server,
    private readonly upstream: string,
    private readonly authorization: string,
  ) {}

  static async start(upstream: string, authorization: string): Promise<AuthProxy> {
    const server = createServer();
    const proxy = new AuthProxy(server, upstream, authorization);
    server.on('request', (req, res) => void proxy.handle(req, res));
    await listenLocal(server);
    return proxy;
  }

  get url(): string {
    return localUrl(this.server);
  }

  failNext(status: number, retryAfter?: string): void {
    this.failure = { status, ...(retryAfter ? { retryAfter } : {}) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== this.authorization) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="prometheus"' }).end('Unauthorized\n');
      return;
    }
    if (this.failure) {
      const { status, retryAfter } = this.failure;
      this.failure = null;
      res
        .writeHead(status, { 'content-type': 'text/plain', ...(retryAfter ? { 'retry-after': retryAfter } : {}) })
        .end('Too Many Requests\n');
      return;
    }
    const answer = await fetch(`${this.upstream}${req.url ?? '/'}`);
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// Under CI nothing skips: a missing Prometheus fails the run instead of passing it silently.
const withPrometheus = prometheusAvailable() || process.env.CI === 'true' ? describe : describe.skip;

withPrometheus('Prometheus queries against a real Prometheus', () => {
  let exporter: Server;
  let prometheus: PrometheusHandle;
  let client: MetricsQueries;
  let downTarget: string;

  beforeAll(async () => {
    exporter = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('# TYPE room_temperature_celsius gauge\nroom_temperature_celsius{room="a"} 21.5\nroom_temperature_celsius{room="b"} 19\n');
    });
    await listenLocal(exporter);
    downTarget = `127.0.0.1:${await freePort()}`;
    prometheus = await startPrometheus([
      { job: 'app', targets: [new URL(localUrl(exporter)).host] },
      { job: 'gone', targets: [downTarget] },
    ]);
    client = createPrometheusClient({ url: prometheus.url });
    // Twelve seconds of scrapes, so every range below (ten seconds at most) lies within the data.
    await waitFor(async () => {
      const series = await client.range('up{job="app"}', { start: new Date(Date.now() - 20_000), end: new Date(), stepSeconds: 1 });
      return (series[0]?.points.length ?? 0) >= 12 ? series : null;
    }, 'twelve seconds of scrapes of the exporter');
  });

  afterAll(async () => {
    await prometheus?.stop();
    exporter?.closeAllConnections();
    await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
  });

  describe('the client', () => {
    it('answers an instant query of up: the exporter is up, the missing target down, with timestamps', async () => {
      const answer = await client.instant('up');
      expect(answer.resultType).toBe('vector');
      if (answer.resultType === 'matrix') throw new Error('unexpected matrix');
      const byJob = Object.fromEntries(answer.samples.map((s) => [s.labels.job, s]));
      expect(byJob.app).toMatchObject({ labels: { __name__: 'up', job: 'app', instance: new URL(localUrl(exporter)).host }, value: 1 });
      expect(byJob.gone).toMatchObject({ labels: { instance: downTarget }, value: 0 });
      expect(Math.abs(byJob.app!.timestamp! - Date.now() / 1000)).toBeLessThan(60);
      // The diagnostics step's query() keeps its shape: samples without timestamps.
      expect(await client.query('sum(room_temperature_celsius)')).toEqual([{ labels: {}, value: 40.5 }]);
      expect(await client.query('scalar(room_temperature_celsius{room="b"})')).toEqual([{ labels: {}, value: 19 }]);
    });

    it('answers a range query of up, one point per step, and a range selector in an instant query as a matrix', async () => {
      const end = new Date();
      const series = await client.range('up', { start: new Date(end.getTime() - 6_000), end, stepSeconds: 2 });
      const app = series.find((s) => s.labels.job === 'app')!;
      expect(app.points.length).toBeGreaterThanOrEqual(3);
      expect(app.points.length).toBeLessThanOrEqual(4);
      expect(app.points.every(([, value]) => value === 1)).toBe(true);
      const times = app.points.map(([time]) => time);
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 2));
      expect(series.find((s) => s.labels.job === 'gone')!.points.every(([, value]) => value === 0)).toBe(true);

      const matrix = await client.instant('up{job="app"}[5s]');
      expect(matrix.resultType).toBe('matrix');
    });

    it('refuses bad PromQL and a range with too many points, and reports a Prometheus that is down as unavailable', async () => {
      const bad = await client.instant('sum(up').catch((err: unknown) => err);
      expect(bad).toBeInstanceOf(MetricsQueryError);
      expect(bad).toMatchObject({ status: 400, message: expect.stringContaining('parse error') });
      const end = new Date();
      const wide = client.range('up', { start: new Date(end.getTime() - 86_400_000), end, stepSeconds: 15 });
      await expect(wide).rejects.toThrow(
        new RegExp(`5761 points per series \\(at most ${MAX_RANGE_POINTS}\\): use a step of at least 79s`),
      );
      const down = createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}` });
      await expect(down.instant('up')).rejects.toBeInstanceOf(MetricsUnavailableError);
    });

    it('sends a bearer token or basic auth; a proxy refusing them is a query error, its 429 unavailable with Retry-After', async () => {
      const bearer = await AuthProxy.start(prometheus.url, `Bearer ${TOKEN}`);
      const basic = await AuthProxy.start(prometheus.url, `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
      try {
        const viaBearer = createPrometheusClient({ url: bearer.url, bearerToken: TOKEN });
        expect(await viaBearer.query('up{job="app"}')).toEqual([{ labels: expect.objectContaining({ job: 'app' }), value: 1 }]);
        const viaBasic = createPrometheusClient({ url: basic.url, username: USER, password: PASSWORD });
        expect(await viaBasic.query('up{job="app"}')).toHaveLength(1);
        const refused = await createPrometheusClient({ url: basic.url, username: USER, password: 'nope-nope' })
          .instant('up')
          .catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(MetricsQueryError);
        expect(refused).toMatchObject({ status: 401 });
        basic.failNext(429, '9');
        const limited = await viaBasic.instant('up').catch((err: unknown) => err);
        expect(limited).toBeInstanceOf(MetricsUnavailableError);
        expect(limited).toMatchObject({ status: 429, retryAfterMs: 9_000 });
      } finally {
        await bearer.close();
        await basic.close();
      }
    });
  });

  describe('the chat tools through the registry', () => {
    const registry = createToolRegistry(createPrometheusTools());
    const viewer: ToolCaller = { tenantId: 'tenant-1', userId: 'api-key:viewer', role: 'viewer' };
    const settings = () => ({ prometheus: { url: prometheus.url } });

    it('are read tools a viewer may run', () => {
      expect(registry.describe(viewer).map((d) => [d.name, d.mutating, d.integration])).toEqual([
        ['prometheus_query', false, 'prometheus'],
        ['prometheus_query_range', false, 'prometheus'],
      ]);
    });

    it('prometheus_query: one line per series, data and a link to the expression in Prometheus', async () => {
      const call = await registry.prepare('prometheus_query', { query: 'up' }, viewer);
      expect(call.risk).toBe('read');
      const result = await registry.run(call, toolContext(settings(), { caller: viewer }));
      const lines = result.content.split('\n');
      expect(lines[0]).toBe('2 series for up:');
      expect(lines).toContain(`up{instance="${new URL(localUrl(exporter)).host}", job="app"} = 1`);
      expect(lines).toContain(`up{instance="${downTarget}", job="gone"} = 0`);
      expect(result.data).toMatchObject({ resultType: 'vector', total: 2 });
      expect(result.links).toEqual([{ title: 'Prometheus graph', url: `${prometheus.url}/graph?g0.expr=up&g0.tab=1` }]);

      const none = await registry.run(
        await registry.prepare('prometheus_query', { query: 'no_such_metric' }, viewer),
        toolContext(settings()),
      );
      expect(none.content).toBe('No series for no_such_metric: check the metric name and label values.');
    });

    it('prometheus_query_range: per series count, min, max and last, over now-<duration> with a step', async () => {
      const call = await registry.prepare(
        'prometheus_query_range',
        { query: 'room_temperature_celsius', start: 'now-10s', step: '2s' },
        viewer,
      );
      expect(call.args).toMatchObject({ end: 'now' });
      const result = await registry.run(call, toolContext(settings()));
      const lines = result.content.split('\n');
      expect(lines[0]).toMatch(/^2 series for room_temperature_celsius from \S+Z to \S+Z, step 2s:$/);
      expect(lines[1]).toMatch(
        /^room_temperature_celsius\{instance="[^"]+", job="app", room="a"\}: [4-6] points, min 21\.5, max 21\.5, last 21\.5 at /,
      );
      const data = result.data as { series: { labels: Record<string, string>; count: number; points?: [number, number][] }[] };
      expect(data.series[0]!.points).toHaveLength(data.series[0]!.count);

      expect(result.data).toMatchObject({ pointsOmitted: false, total: 2 });

      // vector() has a value at every step: two series of 1001 points are more than data keeps.
      const wide = await registry.run(
        await registry.prepare(
          'prometheus_query_range',
          {
            query: 'label_replace(vector(1), "k", "a", "", "") or label_replace(vector(2), "k", "b", "", "")',
            start: 'now-1000s',
            step: '1s',
          },
          viewer,
        ),
        toolContext(settings()),
      );
      const kept = wide.data as { pointsOmitted: boolean; series: { labels: Record<string, string>; count: number; points?: unknown }[] };
      expect(kept.pointsOmitted).toBe(true);
      expect(kept.series.map((s) => [s.labels.k, s.count, s.points])).toEqual([
        ['a', 1001, undefined],
        ['b', 1001, undefined],
      ]);
      expect(wide.content).toMatch(/\{k="b"\}: 1001 points, min 2, max 2, last 2 at /);

      const defaults = await registry.run(
        await registry.prepare('prometheus_query_range', { query: 'up{job="app"}' }, viewer),
        toolContext(settings()),
      );
      expect(defaults.content.split('\n')[0]).toMatch(/from \S+ to \S+, step 15s:$/);
    });

    it('turns refusals into ToolFailedError: bad PromQL and too many points not retryable, a missing configuration refused', async () => {
      const bad = await registry.prepare('prometheus_query', { query: 'rate(up[5m]' }, viewer);
      const failed = await registry.run(bad, toolContext(settings())).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(ToolFailedError);
      expect(failed).toMatchObject({ retryable: false, status: 400 });
      const wide = await registry.prepare('prometheus_query_range', { query: 'up', start: 'now-7d', step: '1m' }, viewer);
      await expect(registry.run(wide, toolContext(settings()))).rejects.toMatchObject({
        name: 'ToolFailedError',
        retryable: false,
        message: expect.stringContaining('use a step of at least'),
      });
      await expect(registry.prepare('prometheus_query_range', { query: 'up', start: 'yesterday' }, viewer)).rejects.toMatchObject({
        reason: 'invalid_arguments',
      });
      const backwards = await registry.prepare('prometheus_query_range', { query: 'up', start: 'now', end: 'now-1h' }, viewer);
      await expect(registry.run(backwards, toolContext(settings()))).rejects.toThrow(/must be before end/);
      await expect(registry.run(bad, toolContext({}))).rejects.toMatchObject({ name: 'ToolRefusedError', reason: 'not_configured' });

      const down = await registry
        .run(bad, toolContext({ prometheus: { url: `http://127.0.0.1:${await freePort()}` } }))
        .catch((err: unknown) => err);
      expect(down).toMatchObject({ name: 'ToolFailedError', retryable: true });
    });
  });
});
