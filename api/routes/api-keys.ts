import { z } from '@hono/zod-openapi';
import type { ApiKeyRecord, Store } from '../../adapters/store/port.js';
import { createApiKey } from '../api-keys.js';
import type { Authenticator } from '../auth.js';
import { conflict, notFound } from '../problem.js';
import { ApiKeyCreateSchema, ApiKeySchema, IdParam } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

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
export function apiKeyRoutes(store: Store, auth: Pick<Authenticator, 'forgetApiKey'>) {
  const app = createRouter();

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      operationId: 'createApiKey',
      tags,
      summary: 'Mint an API key (the plaintext is returned once)',
      request: { body: jsonBody(ApiKeyCreateSchema) },
      responses: {
        201: jsonResponse(
          ApiKeySchema.extend({ key: z.string().openapi({ description: 'The key itself, shown only here' }) }).openapi('NewApiKey'),
          'Created',
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { key, record } = await createApiKey(store, { tenantId: c.get('principal').tenantId, name: body.name, role: body.role });
      return c.json({ ...toResponse(record), key }, 201);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/',
        operationId: 'listApiKeys',
        tags,
        summary: 'List API keys (never their secrets)',
        responses: { 200: jsonResponse(z.object({ items: z.array(ApiKeySchema) }), 'Keys') },
      },
      [403],
    ),
    async (c) => c.json({ items: (await store.apiKeys.list(c.get('principal').tenantId)).map(toResponse) }, 200),
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/{id}',
        operationId: 'revokeApiKey',
        tags,
        summary: 'Revoke an API key',
        description:
          'The key is refused at once by the API process that answers this request. Other API processes sharing the ' +
          'store remember keys they verified for INFRAAI_AUTH_CACHE_TTL_MS (default 5000 ms) and refuse it once that ' +
          'time has passed: the revocation takes effect everywhere within that bound.',
        request: { params: IdParam },
        responses: { 204: { description: 'Revoked' } },
      },
      [404, 409],
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      if (principal.subject === `api-key:${id}`) throw conflict('A key cannot revoke itself; use another admin key.');
      if (!(await store.apiKeys.revoke(principal.tenantId, id))) throw notFound(`API key '${id}'`);
      auth.forgetApiKey(id);
      return c.body(null, 204);
    },
  );

  return app;
}
