import { createRoute, z } from '@hono/zod-openapi';
import type { ApiKeyRecord, Store } from '../../adapters/store/port.js';
import { createApiKey } from '../api-keys.js';
import { conflict, notFound } from '../problem.js';
import { ApiKeyCreateSchema, ApiKeySchema, IdParam, problemResponses } from '../schemas.js';
import { createRouter, jsonBody, jsonResponse, SECURITY } from '../validation.js';

const tags = ['API keys'];

const toResponse = (record: ApiKeyRecord) => ({
  id: record.id,
  name: record.name,
  role: record.role,
  createdAt: record.createdAt,
  lastUsedAt: record.lastUsedAt,
  revokedAt: record.revokedAt,
});

/** Admin-only (enforced by the auth middleware): mint, list and revoke the tenant's keys. */
export function apiKeyRoutes(store: Store) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      security: SECURITY,
      summary: 'Mint an API key (the plaintext is returned once)',
      request: { body: jsonBody(ApiKeyCreateSchema) },
      responses: { 201: jsonResponse(ApiKeySchema.extend({ key: z.string() }), 'Created'), ...problemResponses(400, 401, 403, 415, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { key, record } = await createApiKey(store, { tenantId: c.get('principal').tenantId, name: body.name, role: body.role });
      return c.json({ ...toResponse(record), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      security: SECURITY,
      summary: 'List API keys (never their secrets)',
      responses: { 200: jsonResponse(z.object({ items: z.array(ApiKeySchema) }), 'Keys'), ...problemResponses(401, 403) },
    }),
    async (c) => c.json({ items: (await store.apiKeys.list(c.get('principal').tenantId)).map(toResponse) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      security: SECURITY,
      summary: 'Revoke an API key',
      request: { params: IdParam },
      responses: { 204: { description: 'Revoked' }, ...problemResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      if (principal.subject === `api-key:${id}`) throw conflict('A key cannot revoke itself; use another admin key.');
      if (!(await store.apiKeys.revoke(principal.tenantId, id))) throw notFound(`API key '${id}'`);
      return c.body(null, 204);
    },
  );

  return app;
}
