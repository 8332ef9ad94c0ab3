import { z } from '@hono/zod-openapi';
import type { CmdbItem } from '../../core/incident.js';
import { DuplicateKeyError, type CmdbItemInput, type Store } from '../../adapters/store/port.js';
import { conflict, notFound, ProblemError } from '../problem.js';
import { CmdbCreateSchema, CmdbItemSchema, CmdbListQuery, CmdbReplaceSchema, TagIdParam } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

const tags = ['CMDB'];
const json = jsonResponse;

export function toCmdbResponse(item: CmdbItem): z.infer<typeof CmdbItemSchema> {
  const { tenantId: _tenantId, ...rest } = item;
  return rest;
}

function toInput(body: z.infer<typeof CmdbReplaceSchema>): Omit<CmdbItemInput, 'tagId'> {
  return {
    instanceId: body.instanceId ?? null,
    hostname: body.hostname,
    address: body.address,
    port: body.port,
    environment: body.environment,
    owner: body.owner ?? null,
    os: body.os ?? null,
    serviceManager: body.serviceManager ?? null,
    sshUser: body.sshUser ?? null,
    sshCredential: body.sshCredential ?? null,
    description: body.description ?? null,
    tags: body.tags,
  };
}

function parseTagFilter(tag: string | string[] | undefined): Record<string, string> | undefined {
  if (tag === undefined) return undefined;
  const pairs: Record<string, string> = {};
  for (const entry of Array.isArray(tag) ? tag : [tag]) {
    const at = entry.indexOf(':');
    if (at <= 0) {
      throw new ProblemError(422, 'validation-error', 'The request query is not valid.', [
        { path: 'tag', message: `'${entry}' is not key:value`, code: 'invalid_format' },
      ]);
    }
    pairs[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return pairs;
}

export function cmdbRoutes(store: Store) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/',
        operationId: 'createCmdbItem',
        tags,
        summary: 'Register a CMDB item',
        request: { body: jsonBody(CmdbCreateSchema) },
        responses: { 201: json(CmdbItemSchema, 'Created') },
      },
      [409],
    ),
    async (c) => {
      const body = c.req.valid('json');
      try {
        const item = await store.cmdb.create(c.get('principal').tenantId, { tagId: body.tagId, ...toInput(body) });
        c.header('location', `/api/v1/cmdb/${encodeURIComponent(item.tagId)}`);
        return c.json(toCmdbResponse(item), 201);
      } catch (err) {
        if (err instanceof DuplicateKeyError) throw conflict(`A CMDB item with tagId '${body.tagId}' already exists.`);
        throw err;
      }
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      operationId: 'listCmdbItems',
      tags,
      summary: 'List CMDB items',
      request: { query: CmdbListQuery },
      responses: {
        200: json(z.object({ items: z.array(CmdbItemSchema), nextCursor: z.string().nullable() }), 'A page of items'),
      },
    }),
    async (c) => {
      const { limit, cursor, tag, ...filter } = c.req.valid('query');
      const page = await store.cmdb.list(c.get('principal').tenantId, { ...filter, tags: parseTagFilter(tag) }, { limit, cursor });
      return c.json({ items: page.items.map(toCmdbResponse), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{tagId}',
        operationId: 'getCmdbItem',
        tags,
        summary: 'Get a CMDB item',
        request: { params: TagIdParam },
        responses: { 200: json(CmdbItemSchema, 'The item') },
      },
      [404],
    ),
    async (c) => {
      const { tagId } = c.req.valid('param');
      const item = await store.cmdb.get(c.get('principal').tenantId, tagId);
      if (!item) throw notFound(`CMDB item '${tagId}'`);
      return c.json(toCmdbResponse(item), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'put',
        path: '/{tagId}',
        operationId: 'replaceCmdbItem',
        tags,
        summary: 'Replace a CMDB item (every field but tagId)',
        request: { params: TagIdParam, body: jsonBody(CmdbReplaceSchema) },
        responses: { 200: json(CmdbItemSchema, 'The replaced item') },
      },
      [404],
    ),
    async (c) => {
      const { tagId } = c.req.valid('param');
      const item = await store.cmdb.replace(c.get('principal').tenantId, tagId, toInput(c.req.valid('json')));
      if (!item) throw notFound(`CMDB item '${tagId}'`);
      return c.json(toCmdbResponse(item), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/{tagId}',
        operationId: 'deleteCmdbItem',
        tags,
        summary: 'Delete a CMDB item',
        request: { params: TagIdParam },
        responses: { 204: { description: 'Deleted' } },
      },
      [404],
    ),
    async (c) => {
      const { tagId } = c.req.valid('param');
      if (!(await store.cmdb.delete(c.get('principal').tenantId, tagId))) throw notFound(`CMDB item '${tagId}'`);
      return c.body(null, 204);
    },
  );

  return app;
}
