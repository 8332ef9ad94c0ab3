import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { Hono, type Handler, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Telemetry } from '../adapters/telemetry/port.js';
import { problemResponse } from './problem.js';
import { problemResponses } from './schemas.js';
import type { AutomationWorkflowGateway, IncidentWorkflowGateway } from './temporal-gateway.js';

// The API's side of telemetry: what every request costs, the scrape endpoint, and the count of
// incident runs the API starts. The numbers themselves live behind the Telemetry port.

/**
 * Times every request and counts it by the pattern of the route that answered (`/api/v1/incidents/:id`),
 * so the label set stays as small as the route table; a request no route answers is 'unmatched'.
 */
export function httpMetrics(telemetry: Telemetry): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // Middleware is registered for 'ALL'; the last matched route of a real method is the handler's.
      let route = 'unmatched';
      const routes = matchedRoutes(c);
      for (let i = routes.length - 1; i >= 0; i -= 1) {
        if (routes[i]!.method !== 'ALL') {
          route = routes[i]!.path;
          break;
        }
      }
      telemetry.httpRequest(route, c.req.method, c.res.status, (performance.now() - started) / 1000);
    }
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** GET /metrics: the Prometheus text, behind `Authorization: Bearer <token>` when a token is configured. */
export function metricsHandler(telemetry: Pick<Telemetry, 'render'>, token: string | null): Handler {
  const expected = token ? digest(token) : null;
  return async (c) => {
    if (expected) {
      const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
      // Compared as digests in constant time: the token's length and prefix stay unknown to a prober.
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        return problemResponse(c, 401, 'unauthorized', 'GET /metrics needs Authorization: Bearer <INFRAAI_METRICS_TOKEN>.', undefined, {
          'www-authenticate': 'Bearer realm="infraai-metrics"',
        });
      }
    }
    const { contentType, body } = await telemetry.render();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  };
}

/** Registers GET /metrics in the OpenAPI document (a text/plain answer, outside /api/v1 and its auth). */
export function documentMetrics(app: Pick<OpenAPIHono, 'openAPIRegistry'>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'metricsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'INFRAAI_METRICS_TOKEN; only when one is configured (otherwise /metrics needs no credentials).',
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tags: ['Health'],
    // Either no credentials (no token configured) or the metrics token; never an API key.
    security: [{}, { metricsToken: [] }],
    summary: 'Prometheus metrics of this process and its Temporal SDK runtime',
    responses: {
      200: {
        description: 'The Prometheus text exposition format (version 0.0.4)',
        content: { 'text/plain': { schema: z.string() } },
      },
      ...problemResponses(401, 431),
    },
  });
}

/** Counts a run as started once Temporal has accepted it: a repeat that joins or collides counts nothing. */
export function countRunStarts(gateway: IncidentWorkflowGateway, telemetry: Telemetry): IncidentWorkflowGateway {
  return {
    ...gateway,
    async start(input) {
      const started = await gateway.start(input);
      telemetry.runStarted('incident');
      return started;
    },
  };
}

/** The same for automation runs (family `ansible`). */
export function countAutomationStarts(gateway: AutomationWorkflowGateway, telemetry: Telemetry): AutomationWorkflowGateway {
  return {
    ...gateway,
    async start(input) {
      const started = await gateway.start(input);
      telemetry.runStarted('ansible');
      return started;
    },
  };
}

/** `npm run worker` alone: the worker's own /metrics (failures and ended runs are counted in its process). */
export function metricsApp(telemetry: Telemetry, token: string | null): Hono {
  const app = new Hono();
  app.get('/metrics', metricsHandler(telemetry, token));
  app.notFound((c) => problemResponse(c, 404, 'not-found', 'This server answers GET /metrics only.'));
  return app;
}
