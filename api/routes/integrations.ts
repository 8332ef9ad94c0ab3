import { z } from '@hono/zod-openapi';
import { INTEGRATION_NAMES } from '../../tools/integrations.js';
import {
  InvalidIntegrationSettingsError,
  UnknownIntegrationError,
  type IntegrationConfigView,
  type IntegrationSettingsService,
  type SettingsScope,
  type SettingsScopeKind,
} from '../../tools/integration-settings.js';
import type { Principal } from '../auth.js';
import { notFound, ProblemError } from '../problem.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

// Integration settings per tenant and per user (tools/integration-settings.ts): what the chat tools
// use to reach ServiceNow, GitHub, Jira, Confluence, PagerDuty and Prometheus. Secrets go in and
// never come out: a secret field is answered as `{configured}` only. Reference 000's clients save
// with POST and read Prometheus' datasource at /api/v1/prometheus/config: both are kept as aliases.

const tags = ['Integrations'];

const ScopeKindSchema = z.enum(['user', 'tenant']);

const ScopeQuery = z
  .object({
    scope: ScopeKindSchema.default('user').openapi({
      description: "Whose settings: the caller's own (default), or the tenant's, which every user inherits field by field (writes: admin)",
    }),
  })
  .strict();

const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .openapi({
      param: { name: 'name', in: 'path' },
      example: 'github',
      description: `The integration: ${INTEGRATION_NAMES.join(', ')} (any other name answers 404)`,
    }),
});

const SettingsProblemSchema = z.object({ path: z.string(), message: z.string(), code: z.string() });

const IntegrationConfigSchema = z
  .object({
    integration: z.enum(INTEGRATION_NAMES as [string, ...string[]]),
    scope: ScopeKindSchema,
    configured: z.boolean().openapi({ description: 'Settings are stored at this scope' }),
    settings: z.record(z.string(), z.string()).openapi({
      description: 'The non-secret fields stored at this scope; PUT them back as they are to keep the stored secrets',
      example: { baseUrl: 'https://acme.atlassian.net', email: 'ops@acme.example' },
    }),
    secrets: z.record(z.string(), z.object({ configured: z.boolean() })).openapi({
      description:
        'Every secret field of the integration and whether this scope has it; a secret value is never returned, not even in part',
      example: { apiToken: { configured: true } },
    }),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable().openapi({ description: 'The principal that last wrote them (api-key:<id> or a JWT subject)' }),
    effective: z
      .object({
        ready: z.boolean().openapi({ description: "The caller's merged settings (user over tenant) pass the integration's schema" }),
        sources: z.record(z.string(), ScopeKindSchema).openapi({ description: 'Where each set field comes from' }),
        problems: z.array(SettingsProblemSchema).openapi({ description: 'Why it is not ready (empty when ready)' }),
      })
      .openapi({ description: "What the caller's chat tools would use" }),
  })
  .openapi('IntegrationConfig');

const IntegrationConfigInputSchema = z.record(z.string(), z.string().nullable()).openapi('IntegrationConfigInput', {
  description:
    "The integration's fields (GET /api/v1/integrations lists them). A secret field left out or empty keeps the stored secret; null clears a field; a non-secret field not given, null or empty is not set at this scope.",
  example: { baseUrl: 'https://acme.atlassian.net', email: 'ops@acme.example', apiToken: 'ATATT3x…' },
});

const IntegrationSummarySchema = z
  .object({
    name: z.enum(INTEGRATION_NAMES as [string, ...string[]]),
    fields: z.array(
      z.object({
        name: z.string(),
        secret: z.boolean().openapi({ description: 'Kept through the secrets store (encrypted or Infisical); never returned' }),
        required: z.boolean().openapi({ description: "Must be set at the user's or the tenant's scope" }),
      }),
    ),
    user: z.object({ configured: z.boolean(), updatedAt: z.string().nullable() }),
    tenant: z.object({ configured: z.boolean(), updatedAt: z.string().nullable() }),
    ready: z.boolean().openapi({ description: "The caller's merged settings are complete: its tools can run" }),
  })
  .openapi('IntegrationSummary');

function scopeOf(principal: Principal, kind: SettingsScopeKind): SettingsScope {
  return { tenantId: principal.tenantId, userId: kind === 'tenant' ? null : principal.subject };
}

const callerOf = (principal: Principal) => ({ tenantId: principal.tenantId, userId: principal.subject });

function requireAdminForTenant(principal: Principal, kind: SettingsScopeKind): void {
  if (kind === 'tenant' && principal.role !== 'admin')
    throw new ProblemError(
      403,
      'forbidden',
      "Changing the tenant's integration settings needs the admin role; use scope=user for your own.",
    );
}

/** The service's refusals as problems: an unknown name is 404, a refused body 422 naming each field. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UnknownIntegrationError) throw notFound(`Integration '${err.integration}'`);
    if (err instanceof InvalidIntegrationSettingsError)
      throw new ProblemError(422, 'validation-error', `The ${err.integration} settings are not valid.`, err.problems);
    throw err;
  }
}

/** Integration settings, or a 503 when this API process has no secrets store for them. */
export function integrationRoutes(service: IntegrationSettingsService | undefined) {
  const app = createRouter();
  const settings = (): IntegrationSettingsService => {
    if (!service)
      throw new ProblemError(503, 'secrets-unavailable', 'Integration settings are not enabled in this API process (no secrets store).');
    return service;
  };

  const read = (principal: Principal, name: string, scope: SettingsScopeKind): Promise<IntegrationConfigView> =>
    answer(() => settings().describe(callerOf(principal), name, scope));
  const write = (principal: Principal, name: string, scope: SettingsScopeKind, body: unknown): Promise<IntegrationConfigView> => {
    requireAdminForTenant(principal, scope);
    return answer(() => settings().put(callerOf(principal), scopeOf(principal, scope), name, body, principal.subject));
  };

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/integrations',
      operationId: 'listIntegrations',
      tags,
      summary: 'Every integration: its fields, whether the caller and the tenant configured it, and whether the caller’s tools can use it',
      responses: { 200: jsonResponse(z.object({ items: z.array(IntegrationSummarySchema) }), 'Integrations') },
    }),
    async (c) => c.json({ items: await settings().overview(callerOf(c.get('principal'))) }, 200),
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/integrations/{name}/config',
        operationId: 'getIntegrationConfig',
        tags,
        summary: 'One scope’s settings of an integration, secrets masked',
        request: { params: NameParam, query: ScopeQuery },
        responses: { 200: jsonResponse(IntegrationConfigSchema, 'The settings (configured false when this scope has none)') },
      },
      [404],
    ),
    async (c) => c.json(await read(c.get('principal'), c.req.valid('param').name, c.req.valid('query').scope), 200),
  );

  for (const [method, operationId, summary] of [
    ['put', 'putIntegrationConfig', 'Replace one scope’s settings of an integration (tenant scope: admin)'],
    ['post', 'saveIntegrationConfig', 'The same as PUT, for reference 000’s clients'],
  ] as const) {
    app.openapi(
      apiRoute(
        {
          method,
          path: '/integrations/{name}/config',
          operationId,
          tags,
          summary,
          request: { params: NameParam, query: ScopeQuery, body: jsonBody(IntegrationConfigInputSchema) },
          responses: { 200: jsonResponse(IntegrationConfigSchema, 'The settings as stored, secrets masked') },
        },
        [404],
      ),
      async (c) => c.json(await write(c.get('principal'), c.req.valid('param').name, c.req.valid('query').scope, c.req.valid('json')), 200),
    );
  }

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/integrations/{name}/config',
        operationId: 'deleteIntegrationConfig',
        tags,
        summary: 'Remove one scope’s settings of an integration and its secrets (tenant scope: admin)',
        request: { params: NameParam, query: ScopeQuery },
        responses: { 204: { description: 'Removed' } },
      },
      [404],
    ),
    async (c) => {
      const principal = c.get('principal');
      const { name } = c.req.valid('param');
      const { scope } = c.req.valid('query');
      requireAdminForTenant(principal, scope);
      if (!(await answer(() => settings().delete(scopeOf(principal, scope), name))))
        throw notFound(`${scope === 'tenant' ? 'The tenant’s' : 'Your'} ${name} settings`);
      return c.body(null, 204);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/prometheus/config',
      operationId: 'getPrometheusConfig',
      tags,
      summary: 'Prometheus’ settings (reference 000’s path): GET /api/v1/integrations/prometheus/config',
      request: { query: ScopeQuery },
      responses: { 200: jsonResponse(IntegrationConfigSchema, 'The settings, secrets masked') },
    }),
    async (c) => c.json(await read(c.get('principal'), 'prometheus', c.req.valid('query').scope), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/prometheus/config',
      operationId: 'savePrometheusConfig',
      tags,
      summary: 'Save Prometheus’ settings (reference 000’s path): PUT /api/v1/integrations/prometheus/config',
      request: { query: ScopeQuery, body: jsonBody(IntegrationConfigInputSchema) },
      responses: { 200: jsonResponse(IntegrationConfigSchema, 'The settings as stored, secrets masked') },
    }),
    async (c) => c.json(await write(c.get('principal'), 'prometheus', c.req.valid('query').scope, c.req.valid('json')), 200),
  );

  return app;
}
