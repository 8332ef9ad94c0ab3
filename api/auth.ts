import { createRemoteJWKSet, decodeProtectedHeader, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import type { JwtConfig } from '../config.js';
import type { Role, Store } from '../adapters/store/port.js';
import { verifyApiKey } from './api-keys.js';
import { ProblemError } from './problem.js';

export interface Principal {
  tenantId: string;
  tenantSlug: string;
  role: Role;
  /** API key id, or the JWT subject. */
  subject: string;
  method: 'api_key' | 'jwt';
}

export type AuthEnv = { Variables: { principal: Principal; requestId: string } };

const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];
const TENANT_SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
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

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        clockTolerance: 30,
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
    return { tenantId: tenant.id, tenantSlug: tenant.slug, role, subject: payload.sub ?? 'jwt', method: 'jwt' };
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
}

export function createAuthenticator(store: Store, jwt: JwtConfig | null): Authenticator {
  const verifier = jwt ? new JwtVerifier(jwt, store) : null;
  const tenantSlugs = new Map<string, string>();
  const touched = new Map<string, number>();

  return {
    async authenticate({ authorization, apiKey }) {
      let token = apiKey?.trim();
      if (!token && authorization) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        if (!match) throw new AuthenticationError("The Authorization header must be 'Bearer <API key or JWT>'.");
        token = match[1];
      }
      if (!token) throw new AuthenticationError("Send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.");
      if (verifier && !apiKey && looksLikeJwt(token)) return verifier.verify(token);

      const record = await verifyApiKey(store, token);
      if (!record) throw new AuthenticationError('The API key is not valid or has been revoked.');
      // Last-use bookkeeping at most once a minute per key and process: reads stay reads.
      const now = Date.now();
      if ((touched.get(record.id) ?? 0) < now - 60_000) {
        touched.set(record.id, now);
        await store.apiKeys.touch(record.id);
      }
      let slug = tenantSlugs.get(record.tenantId);
      if (!slug) {
        slug = (await store.tenants.getById(record.tenantId))?.slug;
        if (!slug) throw new AuthenticationError('The API key belongs to a tenant that no longer exists.');
        tenantSlugs.set(record.tenantId, slug);
      }
      return { tenantId: record.tenantId, tenantSlug: slug, role: record.role, subject: `api-key:${record.id}`, method: 'api_key' };
    },
  };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Authenticates every /api/v1 request and enforces roles: viewer reads, operator writes, admin manages keys. */
export function authMiddleware(authenticator: Authenticator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    let principal: Principal;
    try {
      principal = await authenticator.authenticate({ authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key') });
    } catch (err) {
      if (err instanceof AuthenticationError) {
        throw new ProblemError(401, 'unauthorized', err.message, undefined, { 'www-authenticate': 'Bearer realm="infraai"' });
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
    if (WRITE_METHODS.has(c.req.method) && principal.role === 'viewer') {
      throw new ProblemError(403, 'forbidden', 'The viewer role can only read.');
    }
    c.set('principal', principal);
    await next();
  };
}
