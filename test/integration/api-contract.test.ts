import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemporalIncidentGateway } from '../../api/temporal-gateway.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The API contract without a worker: auth, roles, tenancy, validation and error shapes, against a
// real store and the real Temporal dev server (started runs simply wait on an unpolled queue).

let stack: TestStack;
let otherKey: string;
let viewerKey: string;

beforeAll(async () => {
  stack = await startTestStack({ bodyLimitBytes: 4096 });
  otherKey = await stack.keyFor('globex', 'admin');
  viewerKey = await stack.keyFor('acme', 'viewer');
  expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('app-01') })).status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
});

async function expectProblem(response: Response, status: number, type: string): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: `urn:infraai:problem:${type}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

async function incidentCount(): Promise<number> {
  const tenant = await stack.store.tenants.getBySlug('acme');
  return (await stack.store.incidents.list(tenant!.id, {}, { limit: 200 })).items.length;
}

describe('health, OpenAPI and docs', () => {
  it('reports healthy with both checks up', async () => {
    const response = await stack.app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'healthy',
      version: 'test',
      checks: { store: { status: 'up' }, temporal: { status: 'up' } },
    });
  });

  it('reports degraded when Temporal is unreachable and unhealthy (503) when the store is', async () => {
    const closed = Connection.lazy({ address: '127.0.0.1:1' });
    const degraded = await startTestStack({
      store: stack.store,
      gateway: (_client, taskQueue) =>
        createTemporalIncidentGateway(new Client({ connection: closed, namespace: 'infraai' }), { taskQueue }),
    });
    try {
      const body = (await (await degraded.app.request('/health')).json()) as {
        status: string;
        checks: { temporal: { status: string; error?: string } };
      };
      expect(body.status).toBe('degraded');
      expect(body.checks.temporal.status).toBe('down');
    } finally {
      await degraded.close();
    }
    const broken = await startTestStack();
    await broken.store.close();
    try {
      const response = await broken.app.request('/health');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'unhealthy', checks: { store: { status: 'down' } } });
    } finally {
      await broken.close().catch(() => undefined);
    }
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas, and a local Swagger UI', async () => {
    const doc = (await (await stack.app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/cmdb',
      '/api/v1/cmdb/{tagId}',
      '/api/v1/incidents',
      '/api/v1/incidents/{id}',
      '/api/v1/incidents/{id}/cancel',
      '/api/v1/incidents/{id}/timeline',
      '/api/v1/automation',
      '/api/v1/automation/{id}',
      '/api/v1/automation/{id}/log',
      '/api/v1/automation/{id}/events',
      '/api/v1/automation/{id}/approve',
      '/api/v1/automation/{id}/reject',
      '/api/v1/automation/{id}/cancel',
      '/health',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths['/api/v1/cmdb/{tagId}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.components.schemas).toHaveProperty('IncidentCreate');
    expect(doc.components.schemas).toHaveProperty('AutomationRun');
    expect(doc.components.schemas).toHaveProperty('Problem');
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    expect(doc.components.securitySchemes).toHaveProperty('apiKey');

    const page = await stack.app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/https?:\/\/(?!127)/);
    const bundle = await stack.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});

describe('authentication and roles', () => {
  it('rejects missing, malformed, unknown and revoked credentials with 401 and a challenge', async () => {
    const missing = await stack.call('GET', '/api/v1/cmdb', { key: '' });
    await expectProblem(missing, 401, 'unauthorized');
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    await expectProblem(
      await stack.call('GET', '/api/v1/cmdb', { key: '', headers: { authorization: 'Basic Zm9vOmJhcg==' } }),
      401,
      'unauthorized',
    );
    await expectProblem(await stack.call('GET', '/api/v1/cmdb', { key: 'iai_not-a-real-key-0000000000000000' }), 401, 'unauthorized');

    const minted = (await (await stack.call('POST', '/api/v1/api-keys', { body: { name: 'ci', role: 'operator' } })).json()) as {
      id: string;
      key: string;
    };
    expect(minted.key).toMatch(/^iai_/);
    expect((await stack.call('GET', '/api/v1/me', { key: minted.key })).status).toBe(200);
    expect((await stack.call('DELETE', `/api/v1/api-keys/${minted.id}`)).status).toBe(204);
    await expectProblem(await stack.call('GET', '/api/v1/me', { key: minted.key }), 401, 'unauthorized');
    const listed = (await (await stack.call('GET', '/api/v1/api-keys')).json()) as { items: Record<string, unknown>[] };
    expect(JSON.stringify(listed)).not.toMatch(/hash|iai_/);
  });

  it('accepts the key as Bearer or X-API-Key and says who the caller is', async () => {
    const viaHeader = await stack.call('GET', '/api/v1/me', { key: '', headers: { 'x-api-key': stack.adminKey } });
    expect(await viaHeader.json()).toMatchObject({ tenantSlug: 'acme', role: 'admin', method: 'api_key' });
    expect((await stack.call('GET', '/api/v1/me')).status).toBe(200);
  });

  it('lets a viewer read but not write, and keeps key management to admins', async () => {
    expect((await stack.call('GET', '/api/v1/cmdb', { key: viewerKey })).status).toBe(200);
    await expectProblem(await stack.call('POST', '/api/v1/cmdb', { key: viewerKey, body: sampleCmdbItem('viewer-01') }), 403, 'forbidden');
    await expectProblem(await stack.call('GET', '/api/v1/api-keys', { key: viewerKey }), 403, 'forbidden');
    expect(await stack.store.cmdb.get((await stack.store.tenants.getBySlug('acme'))!.id, 'viewer-01')).toBeNull();
  });

  it('verifies JWTs from a JWKS endpoint and maps tenant and role claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const jwtStack = await startTestStack({
      store: stack.store,
      jwt: {
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        publicKeyPem: null,
        issuer: 'https://auth.example',
        audience: 'infraai',
        tenantClaim: 'org.slug',
        roleClaim: 'role',
        defaultRole: 'viewer',
      },
    });
    const sign = (
      claims: Record<string, unknown>,
      opts: { issuer?: string; expires?: string; key?: Parameters<SignJWT['sign']>[0] } = {},
    ) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('user_42')
        .setIssuer(opts.issuer ?? 'https://auth.example')
        .setAudience('infraai')
        .setIssuedAt()
        .setExpirationTime(opts.expires ?? '5m')
        .sign(opts.key ?? privateKey);
    try {
      const ok = await jwtStack.call('GET', '/api/v1/me', { key: await sign({ org: { slug: 'Initech' }, role: 'operator' }) });
      expect(await ok.json()).toMatchObject({ tenantSlug: 'initech', role: 'operator', subject: 'user_42', method: 'jwt' });
      const defaultRole = await jwtStack.call('GET', '/api/v1/me', { key: await sign({ org: { slug: 'initech' } }) });
      expect(await defaultRole.json()).toMatchObject({ role: 'viewer' });

      await expectProblem(
        await jwtStack.call('GET', '/api/v1/me', { key: await sign({ org: { slug: 'initech' } }, { issuer: 'https://evil.example' }) }),
        401,
        'unauthorized',
      );
      await expectProblem(
        await jwtStack.call('GET', '/api/v1/me', { key: await sign({ org: { slug: 'initech' } }, { expires: '-1m' }) }),
        401,
        'unauthorized',
      );
      await expectProblem(await jwtStack.call('GET', '/api/v1/me', { key: await sign({ role: 'admin' }) }), 401, 'unauthorized');
      const other = await generateKeyPair('RS256');
      await expectProblem(
        await jwtStack.call('GET', '/api/v1/me', { key: await sign({ org: { slug: 'initech' } }, { key: other.privateKey }) }),
        401,
        'unauthorized',
      );
      // A JWT tenant sees only its own rows.
      await expectProblem(
        await jwtStack.call('GET', '/api/v1/cmdb/app-01', { key: await sign({ org: { slug: 'initech' } }) }),
        404,
        'not-found',
      );

      // The same verification against a configured PEM public key.
      const pemStack = await startTestStack({
        store: stack.store,
        jwt: {
          jwksUrl: null,
          publicKeyPem: await exportSPKI(publicKey),
          issuer: null,
          audience: null,
          tenantClaim: 'tenant',
          roleClaim: 'role',
          defaultRole: 'operator',
        },
      });
      try {
        const viaPem = await pemStack.call('GET', '/api/v1/me', { key: await sign({ tenant: 'acme' }) });
        expect(await viaPem.json()).toMatchObject({ tenantSlug: 'acme', role: 'operator' });
      } finally {
        await pemStack.close();
      }
    } finally {
      await jwtStack.close();
      server.close();
    }
  });
});

describe('tenant isolation', () => {
  it('answers 404 for another tenant’s CMDB items and incidents on every route', async () => {
    const created = (await (
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'disk full', severity: 'critical', tagId: 'app-01' } })
    ).json()) as { id: string };
    const as = { key: otherKey };
    await expectProblem(await stack.call('GET', '/api/v1/cmdb/app-01', as), 404, 'not-found');
    await expectProblem(
      await stack.call('PUT', '/api/v1/cmdb/app-01', { ...as, body: { hostname: 'x.example', address: '10.0.0.9' } }),
      404,
      'not-found',
    );
    await expectProblem(await stack.call('DELETE', '/api/v1/cmdb/app-01', as), 404, 'not-found');
    await expectProblem(await stack.call('GET', `/api/v1/incidents/${created.id}`, as), 404, 'not-found');
    await expectProblem(await stack.call('POST', `/api/v1/incidents/${created.id}/cancel`, as), 404, 'not-found');
    await expectProblem(await stack.call('GET', `/api/v1/incidents/${created.id}/timeline`, as), 404, 'not-found');
    await expectProblem(await stack.call('GET', `/api/v1/incidents/${created.id}/result`, as), 404, 'not-found');
    const theirs = (await (await stack.call('GET', '/api/v1/incidents', as)).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    const theirCmdb = (await (await stack.call('GET', '/api/v1/cmdb', as)).json()) as { items: unknown[] };
    expect(theirCmdb.items).toEqual([]);
    // Their incident against our tagId is refused as an unknown reference, and nothing is written.
    await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { ...as, body: { title: 'x', severity: 'low', tagId: 'app-01' } }),
      422,
      'validation-error',
    );
    // Ours is untouched.
    expect((await stack.call('GET', '/api/v1/cmdb/app-01')).status).toBe(200);
    await stack.client.workflow.getHandle(`incident-${created.id}`).terminate('test cleanup');
  });
});

describe('bad input never yields a 500 or a half-written record', () => {
  it('maps each class of bad request to its 4xx problem and writes nothing', async () => {
    const before = await incidentCount();
    await expectProblem(await stack.call('POST', '/api/v1/incidents', { body: '{"title": "x", ' }), 400, 'malformed-json');
    await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported-media-type',
    );
    await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'x'.repeat(5000), severity: 'low', tagId: 'app-01' } }),
      413,
      'payload-too-large',
    );
    const wrongTypes = await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: { title: 42, severity: 'urgent', tagId: 'app-01', priority: 1 } }),
      422,
      'validation-error',
    );
    expect((wrongTypes.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['priority', 'severity', 'title']);
    await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'x', severity: 'low', tagId: 'no-such-host' } }),
      422,
      'validation-error',
    );
    await expectProblem(await stack.call('POST', '/api/v1/incidents', { body: [] }), 422, 'validation-error');
    await expectProblem(await stack.call('POST', '/api/v1/incidents', { body: 'null' }), 422, 'validation-error');
    expect(await incidentCount()).toBe(before);

    await expectProblem(
      await stack.call('POST', '/api/v1/cmdb', { body: { ...sampleCmdbItem('bad host'), port: 70000 } }),
      422,
      'validation-error',
    );
    await expectProblem(
      await stack.call('POST', '/api/v1/cmdb', { body: { ...sampleCmdbItem('app-02'), hostname: 'not a host!' } }),
      422,
      'validation-error',
    );
    await expectProblem(await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('app-01') }), 409, 'conflict');
    await expectProblem(await stack.call('PUT', '/api/v1/cmdb/app-01', { body: { ...sampleCmdbItem('app-01') } }), 422, 'validation-error');

    await expectProblem(await stack.call('GET', '/api/v1/incidents?limit=abc'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents?limit=0'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents?limit=100000'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents?status=sleeping'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents?cursor=garbage'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents?colour=red'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/cmdb?tag=novalue'), 422, 'validation-error');
    await expectProblem(await stack.call('GET', '/api/v1/incidents/not-a-uuid'), 404, 'not-found');
    await expectProblem(await stack.call('GET', '/api/v1/incidents/00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    await expectProblem(await stack.call('GET', '/api/v1/nowhere'), 404, 'not-found');
  });

  it('refuses text the store cannot hold (NUL, unpaired surrogates) with 422 in a query, a path or a body', async () => {
    const before = await incidentCount();
    const nulQuery = await expectProblem(await stack.call('GET', '/api/v1/cmdb?q=web%00'), 422, 'validation-error');
    expect(nulQuery.errors).toEqual([{ path: 'q', message: expect.stringContaining('NUL'), code: 'invalid_format' }]);
    const nulBody = await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: { title: 'disk\u0000full', severity: 'low', tagId: 'app-01' } }),
      422,
      'validation-error',
    );
    expect((nulBody.errors as { path: string }[]).map((e) => e.path)).toEqual(['title']);
    // A lone surrogate has no UTF-8 form: the driver would store U+FFFD in its place.
    const surrogate = await expectProblem(
      await stack.call('POST', '/api/v1/incidents', { body: '{"title":"disk \\ud800 full","severity":"low","tagId":"app-01"}' }),
      422,
      'validation-error',
    );
    expect(surrogate.errors).toEqual([{ path: 'title', message: expect.stringContaining('surrogate'), code: 'invalid_text' }]);
    const inTags = await expectProblem(
      await stack.call('POST', '/api/v1/cmdb', { body: { ...sampleCmdbItem('nul-01'), tags: { team: 'a\u0000b' } } }),
      422,
      'validation-error',
    );
    expect((inTags.errors as { path: string }[]).map((e) => e.path)).toEqual(['tags.team']);
    await expectProblem(await stack.call('DELETE', '/api/v1/credentials/host-keys/web%00x'), 422, 'validation-error');
    expect(await incidentCount()).toBe(before);
    expect(await stack.store.cmdb.get((await stack.store.tenants.getBySlug('acme'))!.id, 'nul-01')).toBeNull();
  });

  it('answers 405 with Allow for a method a path does not have, before authentication', async () => {
    const patch = await expectProblem(await stack.call('PATCH', '/api/v1/cmdb', { key: '' }), 405, 'method-not-allowed');
    expect(patch).toMatchObject({ instance: '/api/v1/cmdb' });
    const allow = (await stack.call('PATCH', '/api/v1/cmdb')).headers.get('allow');
    expect(allow).toBe('POST, GET, HEAD');
    // A named path is not an id of its parameterised sibling (/knowledge/{docId}).
    const search = await stack.call('DELETE', '/api/v1/knowledge/search');
    await expectProblem(search, 405, 'method-not-allowed');
    expect(search.headers.get('allow')).toBe('GET, HEAD');
    const doc = await stack.call('PUT', '/api/v1/incidents/00000000-0000-4000-8000-000000000000');
    await expectProblem(doc, 405, 'method-not-allowed');
    expect(doc.headers.get('allow')).toBe('GET, HEAD');
    await expectProblem(await stack.call('PATCH', '/api/v1/nowhere'), 404, 'not-found');
  });

  it('answers 503 and leaves no incident row when the workflow cannot be started', async () => {
    const closed = Connection.lazy({ address: '127.0.0.1:1' });
    const down = await startTestStack({
      store: stack.store,
      gateway: (_client, taskQueue) =>
        createTemporalIncidentGateway(new Client({ connection: closed, namespace: 'infraai' }), { taskQueue }),
    });
    try {
      const before = await incidentCount();
      const response = await down.call('POST', '/api/v1/incidents', {
        key: stack.adminKey,
        body: { title: 'x', severity: 'low', tagId: 'app-01' },
      });
      await expectProblem(response, 503, 'workflow-engine-unavailable');
      expect(await incidentCount()).toBe(before);
    } finally {
      await down.close();
    }
  });
});

describe('CMDB and incident listing', () => {
  it('filters and pages CMDB items with cursors', async () => {
    for (let i = 0; i < 7; i += 1) {
      const item = { ...sampleCmdbItem(`node-${i}`), environment: i % 2 ? 'production' : 'staging', tags: { rack: `r${i % 3}` } };
      expect((await stack.call('POST', '/api/v1/cmdb', { body: item })).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await stack.call('GET', `/api/v1/cmdb?q=node-&limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        items: { tagId: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((i) => i.tagId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6']);
    const filtered = (await (await stack.call('GET', '/api/v1/cmdb?environment=production&tag=rack:r0')).json()) as {
      items: { tagId: string }[];
    };
    expect(filtered.items.map((i) => i.tagId)).toEqual(['node-3']);

    const replaced = await stack.call('PUT', '/api/v1/cmdb/node-6', {
      body: { hostname: 'node-6.example.internal', address: '10.0.0.66', port: 2222 },
    });
    expect(await replaced.json()).toMatchObject({ tagId: 'node-6', port: 2222, owner: null, tags: {} });
    expect((await stack.call('DELETE', '/api/v1/cmdb/node-6')).status).toBe(204);
    expect((await stack.call('GET', '/api/v1/cmdb/node-6')).status).toBe(404);
  });

  it('honours Idempotency-Key: a repeat returns the first incident and starts nothing', async () => {
    const headers = { 'idempotency-key': 'pd-event-7781' };
    const first = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'queue backlog', severity: 'medium', tagId: 'app-01' },
      headers,
    });
    const second = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'queue backlog', severity: 'medium', tagId: 'app-01' },
      headers,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    const a = (await first.json()) as { id: string; number: number };
    const b = (await second.json()) as { id: string; number: number };
    expect(b).toMatchObject({ id: a.id, number: a.number });
    expect(second.headers.get('location')).toBe(`/api/v1/incidents/${a.id}`);
    // One row: the repeat wrote nothing.
    const tenant = await stack.store.tenants.getBySlug('acme');
    const rows = (await stack.store.incidents.list(tenant!.id, {}, { limit: 200 })).items.filter((i) => i.title === 'queue backlog');
    expect(rows.map((i) => i.id)).toEqual([a.id]);
    // One run: the first request started it (visibility lags the start, so wait for it to show),
    // and the repeat started none.
    const listRuns = async () => {
      const runs: string[] = [];
      for await (const run of stack.client.workflow.list({ query: `WorkflowId = 'incident-${a.id}'` })) runs.push(run.runId);
      return runs;
    };
    const runs = await waitFor(async () => {
      const found = await listRuns();
      return found.length > 0 ? found : null;
    }, 'the incident run in visibility');
    const { runId } = await stack.client.workflow.getHandle(`incident-${a.id}`).describe();
    expect(runs).toEqual([runId]);
    await stack.client.workflow.getHandle(`incident-${a.id}`).terminate('test cleanup');
  });
});
