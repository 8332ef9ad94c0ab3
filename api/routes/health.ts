import { z } from '@hono/zod-openapi';
import type { Store } from '../../adapters/store/port.js';
import type { IncidentWorkflowGateway } from '../temporal-gateway.js';
import { apiRoute, createRouter, jsonResponse } from '../validation.js';

const CHECK_TIMEOUT_MS = 2000;

const CheckSchema = z.object({ status: z.enum(['up', 'down']), latencyMs: z.number(), error: z.string().optional() });
const HealthSchema = z
  .object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    version: z.string(),
    checks: z.object({ store: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Health');

async function check(run: () => Promise<void>): Promise<z.infer<typeof CheckSchema>> {
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

/** Liveness and readiness: the store is essential (unhealthy, 503); Temporal down degrades (200). */
export function healthRoutes(store: Store, workflows: IncidentWorkflowGateway, version: string) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      tags: ['Health'],
      security: [],
      summary: 'Health of the API and its dependencies (no auth)',
      responses: { 200: jsonResponse(HealthSchema, 'Healthy or degraded'), 503: jsonResponse(HealthSchema, 'Unhealthy') },
    }),
    async (c) => {
      const [storeCheck, temporalCheck] = await Promise.all([check(() => store.ping()), check(() => workflows.ping(CHECK_TIMEOUT_MS))]);
      const status: 'healthy' | 'degraded' | 'unhealthy' =
        storeCheck.status === 'down' ? 'unhealthy' : temporalCheck.status === 'down' ? 'degraded' : 'healthy';
      c.header('cache-control', 'no-store');
      const body = { status, version, checks: { store: storeCheck, temporal: temporalCheck } };
      return status === 'unhealthy' ? c.json(body, 503) : c.json(body, 200);
    },
  );
  return app;
}
