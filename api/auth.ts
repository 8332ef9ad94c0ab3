import { createRemoteJWKSet, decodeProtectedHeader, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import type { JwtConfig } from '../config.js';
import type { Role, Store } from '../adapters/store/port.js';
import { verifyApiKey } from './api-keys.js';
import { DEFAULT_AUTH_CACHE_MAX_ENTRIES, DEFAULT_AUTH_CACHE_TTL_MS, VerifiedCredentialCache } from './auth-cache.js';
import type { Principal } from './principal.js';
import { ProblemError, problemResponse } from './problem.js';
import { TENANT_SLUG } from '../core/tenant-slug.js';

export type { Principal };

export type AuthEnv = { Variables: { principal: Principal; requestId: string } };

const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

/**
 * The credential was refused. Thrown without a stack: a refusal is an answer, not a fault, nobody
 * reads its trace, and capturing one cost more than all the rest of a 401.
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';

  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let current: unknown = payload;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Verifies bearer JWTs (Clerk, Supabase Auth, Backstage) and maps them to a tenant and role. */
export class JwtVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(
    private readonly config: JwtConfig,
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    if (config.jwksUrl) {
      this.getKey = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    } else if (config.publicKeyPem) {
      const pem = config.publicKeyPem.replace(/\\n/g, '\n');
      const byAlg = new Map<string, ReturnType<typeof importSPKI>>();
      this.getKey = async (header) => {
        const alg = header.alg ?? 'RS256';
        if (!byAlg.has(alg)) byAlg.set(alg, importSPKI(pem, alg));
        return byAlg.get(alg)!;
      };
    } else {
      throw new Error('JWT verification needs INFRAAI_JWT_JWKS_URL or INFRAAI_JWT_PUBLIC_KEY');
    }
  }

  /** The principal and, when the token has one, its expiry (epoch milliseconds). */
  async verify(token: string): Promise<{ principal: Principal; expiresAt: number | null }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        clockTolerance: 30,
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw new AuthenticationError(`The bearer token is not valid: ${(err as Error).message}`);
    }
    const claim = claimAt(payload, this.config.tenantClaim);
    const slug = typeof claim === 'string' ? claim.trim().toLowerCase() : '';
    if (!TENANT_SLUG.test(slug)) {
      throw new AuthenticationError(`The token has no usable '${this.config.tenantClaim}' claim naming a tenant.`);
    }
    const tenant = await this.store.tenants.ensure(slug);
    const roleClaim = claimAt(payload, this.config.roleClaim);
    const role = ROLES.includes(roleClaim as Role) ? (roleClaim as Role) : this.config.defaultRole;
    return {
      principal: { tenantId: tenant.id, tenantSlug: tenant.slug, role, subject: payload.sub ?? 'jwt', method: 'jwt' },
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  }
}

function looksLikeJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

export interface Authenticator {
  authenticate(headers: { authorization?: string | undefined; apiKey?: string | undefined }): Promise<Principal>;
  /** A key was revoked through this process: stop accepting it now, not when its cache entry expires. */
  forgetApiKey(apiKeyId: string): void;
}

export interface AuthenticatorOptions {
  /** How long a verified credential is trusted without a store lookup; 0 asks the store every time. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  /** Epoch milliseconds; tests move it instead of sleeping. */
  now?: () => number;
  /** Where a failed last-used update is reported (it never fails the request). */
  log?: (line: string) => void;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const TOUCH_INTERVAL_MS = 60_000;

/**
 * API keys and JWTs to principals. A credential verified in the last `cacheTtlMs` is answered from
 * memory, so a hot key costs no store query; a key revoked through another process is therefore
 * still accepted here for at most `cacheTtlMs` (revoked through this one, at once: forgetApiKey).
 */
export function createAuthenticator(store: Store, jwt: JwtConfig | null, options: AuthenticatorOptions = {}): Authenticator {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.warn(line));
  const verifier = jwt ? new JwtVerifier(jwt, store, now) : null;
  const cache = new VerifiedCredentialCache(
    options.cacheTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS,
    options.cacheMaxEntries ?? DEFAULT_AUTH_CACHE_MAX_ENTRIES,
    now,
  );
  const tenantSlugs = new Map<string, string>();
  const touched = new Map<string, number>();

  // Last-use bookkeeping at most once a minute per key and process, off the request's path: reads
  // stay reads, and a store hiccup on this write costs a log line, not the caller's request.
  const touch = (apiKeyId: string) => {
    const at = now();
    if ((touched.get(apiKeyId) ?? Number.NEGATIVE_INFINITY) > at - TOUCH_INTERVAL_MS) return;
    touched.set(apiKeyId, at);
    store.apiKeys.touch(apiKeyId).catch((err: unknown) => {
      log(`[api] could not record the last use of API key ${apiKeyId}: ${err instanceof Error ? err.message : String(err)}`);
    });
  };

  const verifyKey = async (token: string): Promise<Principal> => {
    const record = await verifyApiKey(store, token);
    if (!record) throw new AuthenticationError('The API key is not valid or has been revoked.');
    let slug = tenantSlugs.get(record.tenantId);
    if (!slug) {
      slug = (await store.tenants.getById(record.tenantId))?.slug;
      if (!slug) throw new AuthenticationError('The API key belongs to a tenant that no longer exists.');
      tenantSlugs.set(record.tenantId, slug);
    }
    return { tenantId: record.tenantId, tenantSlug: slug, role: record.role, subject: `api-key:${record.id}`, method: 'api_key' };
  };

  return {
    async authenticate({ authorization, apiKey }) {
      let token = apiKey?.trim();
      if (!token && authorization) {
        const match = BEARER.exec(authorization);
        if (!match) throw new AuthenticationError("The Authorization header must be 'Bearer <API key or JWT>'.");
        token = match[1];
      }
      if (!token) throw new AuthenticationError("Send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.");
      // A token sent as X-API-Key is only ever an API key; a bearer token may be a JWT.
      const mayBeJwt = verifier !== null && !apiKey;

      const key = cache.enabled ? VerifiedCredentialCache.keyOf(mayBeJwt ? 'key-or-jwt' : 'key-only', token) : '';
      const cached = cache.get(key);
      if (cached) {
        if (cached.method === 'api_key') touch(apiKeyIdOf(cached));
        return cached;
      }
      const ticket = cache.ticket();
      if (verifier && mayBeJwt && looksLikeJwt(token)) {
        const { principal, expiresAt } = await verifier.verify(token);
        return cache.remember(key, ticket, principal, { apiKeyId: null, ...(expiresAt !== null ? { notAfter: expiresAt } : {}) });
      }
      const principal = await verifyKey(token);
      touch(apiKeyIdOf(principal));
      return cache.remember(key, ticket, principal, { apiKeyId: apiKeyIdOf(principal) });
    },
    forgetApiKey(apiKeyId) {
      cache.forgetApiKey(apiKeyId);
    },
  };
}

function apiKeyIdOf(principal: Principal): string {
  return principal.subject.slice('api-key:'.length);
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Where HTTP basic auth is taken besides bearer: Alertmanager's webhook, whose `http_config` may
 * only offer `basic_auth`. The password is an API key (the username is not read); never a JWT.
 */
const BASIC_AUTH_PATHS = new Set(['/api/v1/alerts', '/api/v1/alerts/']);
const BASIC = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i;

/** The API key in basic credentials (`user:key`, base64), or null when the header is not basic auth. */
export function basicAuthApiKey(authorization: string | undefined): string | null {
  if (!authorization || !/^Basic\s/i.test(authorization)) return null;
  const match = BASIC.exec(authorization);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(colon + 1) : '';
  if (!key) throw new AuthenticationError("Basic credentials must be base64 of '<any user>:<API key>'.");
  return key;
}

/** POSTs a viewer may make: sending chat messages, and the direct integration searches (reads with a JSON body). */
const VIEWER_POST_PATHS = new Set([
  '/api/v1/chat',
  '/api/v1/chat/async',
  // api/routes/integration-direct.ts: each also answers GET with the same fields as query parameters.
  '/api/v1/integrations/github/issues/search',
  '/api/v1/integrations/github/commits/search',
  '/api/v1/integrations/jira/issues/search',
  '/api/v1/integrations/confluence/pages/search',
  '/api/v1/integrations/prometheus/query',
  '/api/v1/integrations/prometheus/query_range',
]);

/** Authenticates every /api/v1 request and enforces roles: viewer reads, operator writes, admin manages keys. */
export function authMiddleware(authenticator: Authenticator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    let principal: Principal;
    try {
      const authorization = c.req.header('authorization');
      const basicKey = BASIC_AUTH_PATHS.has(c.req.path) ? basicAuthApiKey(authorization) : null;
      principal = await authenticator.authenticate(
        basicKey !== null ? { apiKey: basicKey } : { authorization, apiKey: c.req.header('x-api-key') },
      );
    } catch (err) {
      // Answered here rather than thrown to onError: the same problem, without a second error object per refusal.
      if (err instanceof AuthenticationError) {
        return problemResponse(c, 401, 'unauthorized', err.message, undefined, { 'www-authenticate': 'Bearer realm="infraai"' });
      }
      throw err;
    }
    if (c.req.path.startsWith('/api/v1/api-keys') && principal.role !== 'admin') {
      throw new ProblemError(403, 'forbidden', 'Managing API keys needs the admin role.');
    }
    if (c.req.path.startsWith('/api/v1/credentials') && WRITE_METHODS.has(c.req.method) && principal.role !== 'admin') {
      throw new ProblemError(403, 'forbidden', 'Adding or removing credentials and trusted host keys needs the admin role.');
    }
    if (c.req.path.startsWith('/api/v1/knowledge/architecture') && principal.role !== 'admin') {
      throw new ProblemError(403, 'forbidden', 'Global architecture documents need the admin role.');
    }
    // A viewer may chat (the agent reads for them) and search; confirming a change is a write and needs operator.
    if (WRITE_METHODS.has(c.req.method) && principal.role === 'viewer' && !VIEWER_POST_PATHS.has(c.req.path)) {
      throw new ProblemError(403, 'forbidden', 'The viewer role can only read.');
    }
    c.set('principal', principal);
    await next();
  };
}
