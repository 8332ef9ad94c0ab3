import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { BridgeTelemetry } from '../adapters/telemetry/port.js';
import { metricsHandler } from '../api/metrics.js';
import { problemResponse } from '../api/problem.js';
import type { BridgeHealth } from './bridge.js';

// The bridge's own HTTP server: liveness, readiness and metrics, for a kubelet and a Prometheus.
//   GET /healthz  200 while the poller is alive; 503 when no receive completed for three long-poll
//                 waits while it was meant to be receiving (a hung or failing receive: a restart helps).
//                 A bridge waiting on purpose (all slots busy, or Temporal down) is alive.
//   GET /readyz   200 when the queue, Temporal and the store all answer (2 s each), else 503.
//   GET /metrics  the Prometheus text (behind INFRAAI_METRICS_TOKEN when one is set).

const CHECK_TIMEOUT_MS = 2000;

export interface BridgeProbes {
  health(): BridgeHealth;
  /** Named checks (queue, temporal, store); each throws when its dependency does not answer. */
  checks: Record<string, () => Promise<void>>;
  telemetry: Pick<BridgeTelemetry, 'render'>;
  metricsToken: string | null;
}

async function check(run: () => Promise<void>): Promise<{ status: 'up' | 'down'; latencyMs: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function bridgeApp(probes: BridgeProbes): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => {
    const health = probes.health();
    return c.json({ status: health.live ? 'alive' : 'stalled', ...health }, health.live ? 200 : 503, { 'cache-control': 'no-store' });
  });
  app.get('/readyz', async (c) => {
    const names = Object.keys(probes.checks);
    const results = await Promise.all(names.map((name) => check(probes.checks[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((r) => r.status === 'up');
    return c.json({ status: ready ? 'ready' : 'not-ready', checks }, ready ? 200 : 503, { 'cache-control': 'no-store' });
  });
  app.get('/metrics', metricsHandler(probes.telemetry, probes.metricsToken));
  app.notFound((c) => problemResponse(c, 404, 'not-found', 'This server answers GET /healthz, /readyz and /metrics.'));
  return app;
}

/** Serves the probes on host:port (0 picks a free port). */
export function serveBridgeProbes(probes: BridgeProbes, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const app = bridgeApp(probes);
    const server: ServerType = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      resolve({
        url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`bridge port ${host}:${port} is already in use; choose another with INFRAAI_BRIDGE_PORT.`)
          : err,
      ),
    );
  });
}
