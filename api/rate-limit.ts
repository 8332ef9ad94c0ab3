import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthEnv } from './auth.js';
import { problemResponse } from './problem.js';

// Request rate limits per tenant and per user (the chat API's: INFRAAI_CHAT_RATE_PER_MINUTE and
// INFRAAI_CHAT_TENANT_RATE_PER_MINUTE). Counters live in Redis when REDIS_URL is set, so every API
// process counts together; otherwise in this process's memory. If Redis stops answering, each
// process falls back to its own memory counters (rate-limiter-flexible's insurance limiter) rather
// than refusing every request or letting every request through.

/** Where the counters live. `close` ends what `openRateLimitBackend` opened (nothing for memory). */
export type RateLimitBackend = { kind: 'memory'; close(): Promise<void> } | { kind: 'redis'; client: Redis; close(): Promise<void> };

/**
 * The backend for REDIS_URL (null: memory). ioredis is loaded only when Redis is configured. The
 * client does not queue commands while disconnected, so a Redis outage costs a fallback to memory,
 * not a request held until Redis returns.
 */
export async function openRateLimitBackend(redisUrl: string | null, onError?: (err: Error) => void): Promise<RateLimitBackend> {
  if (!redisUrl) return { kind: 'memory', close: () => Promise.resolve() };
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', (err: Error) => onError?.(err));
  // Until the connection is ready every request is counted in memory: wait for it (a Redis that
  // does not answer in time is not waited for; the client keeps reconnecting).
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, 3000);
    client.once('ready', done);
  });
  return {
    kind: 'redis',
    client,
    close: async () => {
      client.disconnect();
      await Promise.resolve();
    },
  };
}

export interface RateLimitOptions {
  /** What is limited (`chat`): the counters' namespace, and the word the 429 uses. */
  name: string;
  /** Requests one user (tenant and subject) may make per window; 0: no per-user limit. */
  perUser: number;
  /** Requests all users of one tenant may make together per window; 0: no per-tenant limit. */
  perTenant: number;
  /** The window (default 60 s, the unit of the configured rates). */
  windowSeconds?: number;
  backend: RateLimitBackend;
}

const KEY_PREFIX = 'infraai:rate';

function limiter(options: RateLimitOptions, scope: 'user' | 'tenant', points: number): RateLimiterAbstract {
  const settings = { keyPrefix: `${KEY_PREFIX}:${options.name}:${scope}`, points, duration: options.windowSeconds ?? 60 };
  if (options.backend.kind === 'memory') return new RateLimiterMemory(settings);
  return new RateLimiterRedis({
    ...settings,
    storeClient: options.backend.client,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(settings),
  });
}

/**
 * A middleware that counts each request against the caller's user and tenant limits and answers
 * 429 (problem+json, Retry-After in seconds) when either is spent. Mount it after authentication:
 * it keys by the principal.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AuthEnv> {
  const limits = [
    ...(options.perUser > 0 ? [{ scope: 'user' as const, limiter: limiter(options, 'user', options.perUser) }] : []),
    ...(options.perTenant > 0 ? [{ scope: 'tenant' as const, limiter: limiter(options, 'tenant', options.perTenant) }] : []),
  ];
  return async (c, next) => {
    if (limits.length === 0) return next();
    const principal = c.get('principal') as AuthEnv['Variables']['principal'] | undefined;
    if (!principal) throw new Error(`The ${options.name} rate limit runs after authentication: no principal on ${c.req.path}.`);
    // JSON keeps the two parts apart whatever characters a JWT subject holds.
    const keys = { user: JSON.stringify([principal.tenantId, principal.subject]), tenant: principal.tenantId };
    const outcomes = await Promise.allSettled(limits.map(({ scope, limiter }) => limiter.consume(keys[scope])));
    const refused: { scope: 'user' | 'tenant'; res: RateLimiterRes }[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return;
      // A store error is only seen without an insurance limiter; it is not the caller's fault.
      if (!(outcome.reason instanceof RateLimiterRes)) throw outcome.reason;
      refused.push({ scope: limits[i]!.scope, res: outcome.reason });
    });
    if (refused.length === 0) return next();
    const waitMs = Math.max(...refused.map(({ res }) => res.msBeforeNext));
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    const which = refused.some(({ scope }) => scope === 'user')
      ? `your limit of ${options.perUser}`
      : `your tenant's limit of ${options.perTenant}`;
    return problemResponse(
      c,
      429,
      'rate-limited',
      `Too many ${options.name} requests: ${which} per ${options.windowSeconds ?? 60} s is spent; retry in ${seconds} s.`,
      undefined,
      { 'retry-after': String(seconds) },
    );
  };
}
