import { describe, expect, it } from 'vitest';
import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import type { Store } from '../../adapters/store/port.js';
import { createApp, type ApiDeps } from '../../api/app.js';
import { healthRoutes, READINESS_CACHE_MS } from '../../api/routes/health.js';
import type { IncidentWorkflowGateway } from '../../api/temporal-gateway.js';
import { openApiDocument } from '../support/openapi-document.js';

// The three probes over fakes that count their pings: liveness touches nothing, readiness asks the
// store and Temporal once per cache period however many probes arrive.

interface Dependency {
  pings: number;
  /** What the next ping does: answer, fail, or wait for the test to release it. */
  ping: () => Promise<void>;
}

function dependency(): Dependency {
  return { pings: 0, ping: () => Promise.resolve() };
}

function fakes(store: Dependency, temporal: Dependency) {
  return {
    store: {
      ping: () => {
        store.pings += 1;
        return store.ping();
      },
    } as unknown as Store,
    workflows: {
      ping: () => {
        temporal.pings += 1;
        return temporal.ping();
      },
    } as unknown as IncidentWorkflowGateway,
  };
}

function probes(store: Dependency, temporal: Dependency, clock: { now: number }) {
  const { store: fakeStore, workflows } = fakes(store, temporal);
  return healthRoutes(fakeStore, workflows, '1.2.3', { now: () => clock.now });
}

describe('GET /livez', () => {
  it('answers 200 alive through the app while the store and Temporal both fail, without pinging either', async () => {
    const store = { pings: 0, ping: () => Promise.reject(new Error('store is down')) };
    const temporal = { pings: 0, ping: () => Promise.reject(new Error('temporal is down')) };
    const { store: fakeStore, workflows } = fakes(store, temporal);
    const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by the probes')) });
    const app = createApp({
      store: fakeStore,
      telemetry: new PrometheusTelemetry({ runCounts: async () => [] }),
      incidents: workflows,
      knowledge: unused as ApiDeps['knowledge'],
      ingestion: unused as ApiDeps['ingestion'],
      vault: unused as ApiDeps['vault'],
      diagnosis: unused as ApiDeps['diagnosis'],
      auth: unused as ApiDeps['auth'],
      kubernetes: null,
      runbooks: [],
      inlineIngestLimitBytes: 1024,
      version: '1.2.3',
      bodyLimitBytes: 1024,
      uploadLimitBytes: 1024,
      corsOrigins: [],
      log: () => undefined,
    });

    const live = await app.request('/livez');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive', version: '1.2.3' });
    expect(store.pings + temporal.pings).toBe(0);

    // The same app's readiness does see the failures: 503 naming both checks.
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not-ready', checks: { store: { status: 'down' }, temporal: { status: 'down' } } });
    expect((await app.request('/livez', { method: 'POST' })).status).toBe(405);
  });
});

describe('GET /readyz', () => {
  it('answers 200 ready with both checks up, and serves one answer for the cache period', async () => {
    const store = dependency();
    const temporal = dependency();
    const clock = { now: 1_000_000 };
    const app = probes(store, temporal, clock);

    const first = await app.request('/readyz');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      status: 'ready',
      version: '1.2.3',
      checks: { store: { status: 'up' }, temporal: { status: 'up' } },
    });
    expect((await app.request('/readyz')).status).toBe(200);
    clock.now += READINESS_CACHE_MS - 1;
    expect((await app.request('/readyz')).status).toBe(200);
    expect([store.pings, temporal.pings]).toEqual([1, 1]);

    clock.now += 1;
    expect((await app.request('/readyz')).status).toBe(200);
    expect([store.pings, temporal.pings]).toEqual([2, 2]);
  });

  it('lets concurrent probes share the check in flight', async () => {
    const store = dependency();
    const temporal = dependency();
    let release: () => void = () => undefined;
    store.ping = () => new Promise<void>((resolve) => (release = resolve));
    const app = probes(store, temporal, { now: 0 });

    const answers = Array.from({ length: 5 }, () => app.request('/readyz'));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect([store.pings, temporal.pings]).toEqual([1, 1]);
  });

  it('answers 503 with the failing check when the store is down, caches that too, and recovers after the period', async () => {
    const store = dependency();
    const temporal = dependency();
    store.ping = () => Promise.reject(new Error('connection refused'));
    const clock = { now: 0 };
    const app = probes(store, temporal, clock);

    const down = await app.request('/readyz');
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('application/json');
    expect(await down.json()).toMatchObject({
      status: 'not-ready',
      checks: { store: { status: 'down', error: 'connection refused' }, temporal: { status: 'up' } },
    });
    expect((await app.request('/readyz')).status).toBe(503);
    expect(store.pings).toBe(1);

    store.ping = () => Promise.resolve();
    clock.now += READINESS_CACHE_MS;
    expect((await app.request('/readyz')).status).toBe(200);
    expect(store.pings).toBe(2);
  });

  it('is not ready while Temporal is down (the store alone does not make the API ready)', async () => {
    const temporal = dependency();
    temporal.ping = () => Promise.reject(new Error('UNAVAILABLE'));
    const response = await probes(dependency(), temporal, { now: 0 }).request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'not-ready', checks: { store: { status: 'up' }, temporal: { status: 'down' } } });
  });
});

describe('the probes in the OpenAPI document', () => {
  it('lists /livez, /readyz and /health without security, tagged Health', async () => {
    const paths = (await openApiDocument()).paths as Record<string, { get?: { security?: unknown[]; tags?: string[] } }>;
    for (const path of ['/livez', '/readyz', '/health']) {
      expect(paths[path]?.get, path).toMatchObject({ security: [], tags: ['Health'] });
    }
    expect(Object.keys((paths['/readyz']!.get as { responses: Record<string, unknown> }).responses)).toEqual(
      expect.arrayContaining(['200', '503']),
    );
  });
});
