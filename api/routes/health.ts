import { z } from '@hono/zod-openapi';
import type { Store } from '../../adapters/store/port.js';
import type { IncidentWorkflowGateway } from '../temporal-gateway.js';
import { apiRoute, createRouter, jsonResponse } from '../validation.js';

const CHECK_TIMEOUT_MS = 2000;
/**
 * How long one readiness answer serves every probe: load balancers and kubelets probe every few
 * seconds from every node, and none of them should turn into a store query each.
 */
export const READINESS_CACHE_MS = 1000;

const CheckSchema = z.object({ status: z.enum(['up', 'down']), latencyMs: z.number(), error: z.string().optional() });
const HealthSchema = z
  .object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    version: z.string(),
    checks: z.object({ store: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Health');
const LivenessSchema = z.object({ status: z.enum(['alive']), version: z.string() }).openapi('Liveness');
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not-ready']),
    version: z.string(),
    checks: z.object({ store: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Readiness');
type Readiness = z.infer<typeof ReadinessSchema>;

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

/**
 * Three probes. /livez: the process answers (no I/O, so a slow store never gets the API restarted).
 * /readyz: it can do its work (store and Temporal both answer), for load balancers and kubelets.
 * /health: the same checks for people, where the store down is unhealthy (503) and Temporal down
 * only degraded (200).
 */
export function healthRoutes(
  store: Store,
  workflows: IncidentWorkflowGateway,
  version: string,
  options: { readinessCacheMs?: number; now?: () => number } = {},
) {
  const app = createRouter();
  const readinessCacheMs = options.readinessCacheMs ?? READINESS_CACHE_MS;
  const now = options.now ?? Date.now;
  let lastReadiness: { at: number; readiness: Readiness } | null = null;
  let readinessInFlight: Promise<Readiness> | null = null;

  const checkReadiness = async (): Promise<Readiness> => {
    const [storeCheck, temporalCheck] = await Promise.all([check(() => store.ping()), check(() => workflows.ping(CHECK_TIMEOUT_MS))]);
    const ready = storeCheck.status === 'up' && temporalCheck.status === 'up';
    return { status: ready ? 'ready' : 'not-ready', version, checks: { store: storeCheck, temporal: temporalCheck } };
  };
  /** The last answer while it is fresh; otherwise one check, shared by every probe that arrives meanwhile. */
  const readiness = (): Promise<Readiness> => {
    if (lastReadiness && now() - lastReadiness.at < readinessCacheMs) return Promise.resolve(lastReadiness.readiness);
    readinessInFlight ??= checkReadiness()
      .then((answer) => {
        lastReadiness = { at: now(), readiness: answer };
        return answer;
      })
      .finally(() => {
        readinessInFlight = null;
      });
    return readinessInFlight;
  };

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/livez',
      operationId: 'getLiveness',
      tags: ['Health'],
      security: [],
      summary: 'Liveness: the process answers (no auth, no I/O)',
      description: 'Touches neither the store nor Temporal: a restart cannot fix a dependency, so liveness does not depend on one.',
      responses: { 200: jsonResponse(LivenessSchema, 'Alive') },
    }),
    (c) => {
      c.header('cache-control', 'no-store');
      return c.json({ status: 'alive' as const, version }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'getReadiness',
      tags: ['Health'],
      security: [],
      summary: 'Readiness: the store and Temporal both answer (no auth)',
      description:
        `Ready when the store and Temporal each answer a ping within ${CHECK_TIMEOUT_MS} ms. ` +
        `One answer serves every probe for ${READINESS_CACHE_MS} ms, and probes arriving during a check share it. ` +
        'Not ready is 503 with the same body, naming the check that failed.',
      responses: {
        200: jsonResponse(ReadinessSchema, 'Ready'),
        503: jsonResponse(ReadinessSchema, 'Not ready: at least one check is down'),
      },
    }),
    async (c) => {
      const answer = await readiness();
      c.header('cache-control', 'no-store');
      return answer.status === 'ready' ? c.json(answer, 200) : c.json(answer, 503);
    },
  );

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
