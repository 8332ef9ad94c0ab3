import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthEnv, Principal } from '../../api/auth.js';
import { openRateLimitBackend, rateLimit, type RateLimitBackend, type RateLimitOptions } from '../../api/rate-limit.js';
import { startTestStack } from '../support/stack.js';

// The rate limiter on both backends: this process's memory, and the machine's Redis (REDIS_URL in
// production), where two API processes count together. The principal is set the way api/auth.ts
// sets it (the limiter keys by it); the limited route answers 200.

const REDIS_URL = process.env.INFRAAI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** An app whose requests carry the principal named by test headers, behind the limiter. */
function appWith(options: RateLimitOptions) {
  const app = new Hono<AuthEnv>();
  app.use('*', async (c, next) => {
    const principal: Principal = {
      tenantId: c.req.header('x-test-tenant')!,
      tenantSlug: 'acme',
      role: 'operator',
      subject: c.req.header('x-test-user')!,
      method: 'api_key',
    };
    c.set('principal', principal);
    await next();
  });
  app.use('*', rateLimit(options));
  app.post('/chat', (c) => c.json({ ok: true }));
  return (tenant: string, user: string) =>
    Promise.resolve(app.request('/chat', { method: 'POST', headers: { 'x-test-tenant': tenant, 'x-test-user': user } }));
}

async function statuses(send: () => Promise<Response>, times: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push((await send()).status);
  return out;
}

function describeBackend(kind: 'memory' | 'redis', open: () => Promise<RateLimitBackend>) {
  describe(`rate limits (${kind})`, () => {
    let backend: RateLimitBackend;
    // Each run counts under names of its own: Redis keeps counters between runs.
    const name = (what: string) => `test-${what}-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => {
      await backend?.close();
    });

    it("answers 429 problem+json with Retry-After once a user's limit is spent; other users go on", async () => {
      const send = appWith({ name: name('user'), perUser: 3, perTenant: 100, backend });
      const tenant = randomUUID();
      expect(await statuses(() => send(tenant, 'api-key:alice'), 3)).toEqual([200, 200, 200]);
      const refused = await send(tenant, 'api-key:alice');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await refused.json()).toMatchObject({
        status: 429,
        type: 'urn:infraai:problem:rate-limited',
        title: 'Too many requests',
        detail: expect.stringContaining('your limit of 3 per 60 s'),
      });
      expect((await send(tenant, 'api-key:bob')).status).toBe(200);
      // The same subject in another tenant is another user.
      expect((await send(randomUUID(), 'api-key:alice')).status).toBe(200);
    });

    it("limits a tenant's users together", async () => {
      const send = appWith({ name: name('tenant'), perUser: 100, perTenant: 4, backend });
      const [tenant, other] = [randomUUID(), randomUUID()];
      expect([...(await statuses(() => send(tenant, 'api-key:a'), 2)), ...(await statuses(() => send(tenant, 'api-key:b'), 2))]).toEqual([
        200, 200, 200, 200,
      ]);
      const refused = await send(tenant, 'api-key:c');
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { detail: string }).detail).toContain("your tenant's limit of 4");
      expect((await send(other, 'api-key:c')).status).toBe(200);
    });

    it('lets requests through again once the window has passed, and a limit of 0 is no limit', async () => {
      const send = appWith({ name: name('window'), perUser: 2, perTenant: 0, windowSeconds: 1, backend });
      const tenant = randomUUID();
      expect(await statuses(() => send(tenant, 'u'), 3)).toEqual([200, 200, 429]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await send(tenant, 'u')).status).toBe(200);
      const unlimited = appWith({ name: name('off'), perUser: 0, perTenant: 0, backend });
      expect(new Set(await statuses(() => unlimited(tenant, 'u'), 30))).toEqual(new Set([200]));
    });
  });
}

describeBackend('memory', () => openRateLimitBackend(null));
describeBackend('redis', () => openRateLimitBackend(REDIS_URL));

describe('rate limits across processes and through a Redis outage', () => {
  it('counts two API processes together in Redis', async () => {
    const [first, second] = [await openRateLimitBackend(REDIS_URL), await openRateLimitBackend(REDIS_URL)];
    try {
      const name = `test-shared-${randomUUID().slice(0, 8)}`;
      const a = appWith({ name, perUser: 4, perTenant: 0, backend: first });
      const b = appWith({ name, perUser: 4, perTenant: 0, backend: second });
      const tenant = randomUUID();
      expect([...(await statuses(() => a(tenant, 'u'), 2)), ...(await statuses(() => b(tenant, 'u'), 2))]).toEqual([200, 200, 200, 200]);
      expect((await a(tenant, 'u')).status).toBe(429);
      expect((await b(tenant, 'u')).status).toBe(429);
      // Counted in Redis itself, not in either process's fallback memory.
      const redis = new Redis(REDIS_URL);
      try {
        expect(Number(await redis.get(`infraai:rate:${name}:user:${JSON.stringify([tenant, 'u'])}`))).toBe(6);
      } finally {
        redis.disconnect();
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('falls back to memory counters, still limiting, when Redis does not answer', async () => {
    const errors: Error[] = [];
    // Nothing listens on port 1: every Redis command fails at once.
    const backend = await openRateLimitBackend('redis://127.0.0.1:1', (err) => errors.push(err));
    try {
      const send = appWith({ name: 'test-outage', perUser: 2, perTenant: 0, backend });
      const tenant = randomUUID();
      expect(await statuses(() => send(tenant, 'u'), 3)).toEqual([200, 200, 429]);
      expect(errors.some((err) => /ECONNREFUSED/.test(err.message))).toBe(true);
    } finally {
      await backend.close();
    }
  });
});

describe('the chat routes behind the limiter', () => {
  it('counts POST /api/v1/chat per user before the route reads the body: 422, 422, then 429 with Retry-After', async () => {
    const backend = await openRateLimitBackend(null);
    const stack = await startTestStack({
      chat: { rateLimit: rateLimit({ name: `chat-${randomUUID().slice(0, 8)}`, perUser: 2, perTenant: 100, backend }) },
    });
    try {
      const key = await stack.keyFor('limited', 'operator');
      const send = () => stack.call('POST', '/api/v1/chat', { key, body: { message: '  ' } });
      expect([(await send()).status, (await send()).status]).toEqual([422, 422]);
      const refused = await send();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Reading is not limited.
      expect((await stack.call('GET', `/api/v1/chat/async/${randomUUID()}`, { key })).status).toBe(404);
      // Another user of the tenant still sends.
      const other = await stack.keyFor('limited', 'operator');
      expect((await stack.call('POST', '/api/v1/chat/async', { key: other, body: { message: '' } })).status).toBe(422);
    } finally {
      await stack.close();
      await backend.close();
    }
  });
});
