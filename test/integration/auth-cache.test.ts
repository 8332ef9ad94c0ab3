import { randomBytes } from 'node:crypto';
import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { EncryptedCredentialVault } from '../../adapters/secrets/encrypted-vault.js';
import { createStore } from '../../adapters/store/create.js';
import type { Role, Store } from '../../adapters/store/port.js';
import { createApiKey } from '../../api/api-keys.js';
import { createApp, type ApiDeps } from '../../api/app.js';
import { LruMap } from '../../api/auth-cache.js';
import { AuthenticationError, createAuthenticator, type Authenticator, type AuthenticatorOptions } from '../../api/auth.js';
import { loadConfig } from '../../config.js';

// The verified-credential cache over a real (PGlite) store whose calls are counted: what a hot key
// costs, when an entry stops being trusted, and how fast a revocation takes effect in this process
// and in another one sharing the store. Time moves by an injected clock, never by sleeping.

const TTL_MS = 5000;

let dataDir: string;
let realStore: Store;
let tenantId: string;

/** The store with every call of its repositories and ping counted by `repository.method`. */
function countingStore(store: Store, overrides: Partial<Record<string, (...args: unknown[]) => Promise<unknown>>> = {}) {
  const calls = new Map<string, number>();
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const repositories = new Map<PropertyKey, object>();
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          count(String(property));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (value === null || typeof value !== 'object') return value;
      if (!repositories.has(property)) {
        repositories.set(
          property,
          new Proxy(value, {
            get(repo, method, repoReceiver) {
              const fn: unknown = Reflect.get(repo, method, repoReceiver);
              if (typeof fn !== 'function') return fn;
              const name = `${String(property)}.${String(method)}`;
              return (...args: unknown[]) => {
                count(name);
                const override = overrides[name];
                return override ? override(...args) : (fn as (...a: unknown[]) => unknown).apply(repo, args);
              };
            },
          }),
        );
      }
      return repositories.get(property);
    },
  });
  return { store: wrapped, calls: (name: string) => calls.get(name) ?? 0 };
}

function newClock(start = 1_700_000_000_000) {
  const clock = { now: start, advance: (ms: number) => (clock.now += ms) };
  return clock;
}

const mintKey = async (role: Role) => (await createApiKey(realStore, { tenantId, name: `${role} cache test`, role })).key;

function authenticatorFor(store: Store, clock: { now: number }, options: AuthenticatorOptions = {}): Authenticator {
  return createAuthenticator(store, null, { cacheTtlMs: TTL_MS, now: () => clock.now, log: () => undefined, ...options });
}

/** The API over this store and authenticator; Temporal and the other ports are not reached by these routes. */
function appFor(store: Store, auth: Authenticator) {
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by the auth routes')) });
  return createApp({
    store,
    telemetry: new PrometheusTelemetry({ runCounts: async () => [] }),
    incidents: unused as ApiDeps['incidents'],
    ingestion: unused as ApiDeps['ingestion'],
    diagnosis: unused as ApiDeps['diagnosis'],
    knowledge: new LocalKnowledgeBase(store),
    vault: new EncryptedCredentialVault(store, randomBytes(32)),
    kubernetes: null,
    runbooks: [],
    auth,
    inlineIngestLimitBytes: 1024,
    version: 'test',
    bodyLimitBytes: 64 * 1024,
    uploadLimitBytes: 64 * 1024,
    corsOrigins: [],
    log: () => undefined,
  });
}

const me = (app: ReturnType<typeof appFor>, key: string) => app.request('/api/v1/me', { headers: { authorization: `Bearer ${key}` } });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-auth-cache-'));
  realStore = await createStore({ kind: 'pglite', dataDir });
  tenantId = (await realStore.tenants.ensure('cache-test')).id;
});

afterAll(async () => {
  await realStore?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the verified-key cache', () => {
  it('answers a hot key without any store query, and asks the store again once the TTL has passed', async () => {
    const key = await mintKey('operator');
    const { store, calls } = countingStore(realStore);
    const clock = newClock();
    const auth = authenticatorFor(store, clock);

    const first = await auth.authenticate({ authorization: `Bearer ${key}` });
    expect(first).toMatchObject({ tenantId, role: 'operator', method: 'api_key' });
    const afterFirst = { lookups: calls('apiKeys.findByPrefix'), tenants: calls('tenants.getById'), touches: calls('apiKeys.touch') };
    expect(afterFirst.lookups).toBe(1);

    for (let i = 0; i < 20; i += 1) {
      clock.advance(TTL_MS / 25);
      expect(await auth.authenticate({ authorization: `Bearer ${key}` })).toEqual(first);
    }
    expect({ lookups: calls('apiKeys.findByPrefix'), tenants: calls('tenants.getById'), touches: calls('apiKeys.touch') }).toEqual(
      afterFirst,
    );

    clock.advance(TTL_MS); // well past the entry's expiry
    expect(await auth.authenticate({ authorization: `Bearer ${key}` })).toEqual(first);
    expect(calls('apiKeys.findByPrefix')).toBe(2);
  });

  it('asks the store on every request with a TTL of 0', async () => {
    const key = await mintKey('viewer');
    const { store, calls } = countingStore(realStore);
    const auth = authenticatorFor(store, newClock(), { cacheTtlMs: 0 });
    for (let i = 0; i < 3; i += 1) await auth.authenticate({ apiKey: key });
    expect(calls('apiKeys.findByPrefix')).toBe(3);
  });

  it('never remembers a refused key: each attempt asks the store and is refused', async () => {
    const { store, calls } = countingStore(realStore);
    const auth = authenticatorFor(store, newClock());
    for (let i = 0; i < 3; i += 1) {
      await expect(auth.authenticate({ authorization: 'Bearer iai_not-a-key-000000000000000000000' })).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    }
    expect(calls('apiKeys.findByPrefix')).toBe(3);
  });

  it('holds no more entries than its bound, dropping the least recently used first', async () => {
    const [a, b, c] = [await mintKey('viewer'), await mintKey('viewer'), await mintKey('viewer')];
    const { store, calls } = countingStore(realStore);
    const auth = authenticatorFor(store, newClock(), { cacheMaxEntries: 2 });
    await auth.authenticate({ apiKey: a });
    await auth.authenticate({ apiKey: b });
    await auth.authenticate({ apiKey: a }); // a is now the most recently used
    await auth.authenticate({ apiKey: c }); // evicts b
    expect(calls('apiKeys.findByPrefix')).toBe(3);
    await auth.authenticate({ apiKey: a });
    await auth.authenticate({ apiKey: c });
    expect(calls('apiKeys.findByPrefix')).toBe(3);
    await auth.authenticate({ apiKey: b });
    expect(calls('apiKeys.findByPrefix')).toBe(4);

    const lru = new LruMap<number, number>(100);
    for (let i = 0; i < 1000; i += 1) lru.set(i, i);
    expect(lru.size).toBe(100);
    expect(lru.get(899)).toBeUndefined();
    expect(lru.get(900)).toBe(900);
  });

  it('records the last use off the request path: a failing touch is logged and the request still succeeds', async () => {
    const key = await mintKey('viewer');
    const { store } = countingStore(realStore, { 'apiKeys.touch': () => Promise.reject(new Error('store write timed out')) });
    const lines: string[] = [];
    const auth = authenticatorFor(store, newClock(), { log: (line) => lines.push(line) });
    expect(await auth.authenticate({ apiKey: key })).toMatchObject({ role: 'viewer' });
    await vi.waitFor(() => expect(lines.join('\n')).toMatch(/could not record the last use of API key .*store write timed out/));
  });
});

describe('revocation', () => {
  it('is immediate in the process that revoked through the API, and reaches a second process sharing the store at the TTL', async () => {
    const adminKey = await mintKey('admin');
    const operatorKey = await mintKey('operator');
    const clock = newClock();
    const here = countingStore(realStore);
    const app = appFor(here.store, authenticatorFor(here.store, clock));
    // A second API process over the same store: its own authenticator and cache, the same clock.
    const there = countingStore(realStore);
    const otherApp = appFor(there.store, authenticatorFor(there.store, clock));

    const principal = (await (await me(app, operatorKey)).json()) as { subject: string };
    const keyId = principal.subject.replace('api-key:', '');
    expect((await me(otherApp, operatorKey)).status).toBe(200);
    clock.advance(1000);
    expect((await me(app, operatorKey)).status).toBe(200); // both now answer from their caches
    expect((await me(otherApp, operatorKey)).status).toBe(200);
    expect(there.calls('apiKeys.findByPrefix')).toBe(1);

    const revoked = await app.request(`/api/v1/api-keys/${keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } });
    expect(revoked.status).toBe(204);

    // Here at once, with no time passing.
    const refused = await me(app, operatorKey);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: 'urn:infraai:problem:unauthorized' });

    // There: still accepted until its entry (verified at t0) is TTL old, refused from then on.
    clock.advance(TTL_MS - 1000 - 1);
    expect((await me(otherApp, operatorKey)).status).toBe(200);
    expect(there.calls('apiKeys.findByPrefix')).toBe(1);
    clock.advance(1);
    expect((await me(otherApp, operatorKey)).status).toBe(401);
    expect(there.calls('apiKeys.findByPrefix')).toBe(2);
  });

  it('does not cache what a verification read just before a revocation this process saw', async () => {
    const { key, record } = await createApiKey(realStore, { tenantId, name: 'revoked mid-lookup', role: 'operator' });
    let duringLookup: () => Promise<void> = () => Promise.resolve();
    const { store } = countingStore(realStore, {
      'apiKeys.findByPrefix': async (prefix) => {
        const found = await realStore.apiKeys.findByPrefix(prefix as string);
        await duringLookup();
        return found;
      },
    });
    const auth = authenticatorFor(store, newClock());
    // The store answers "active", then the key is revoked through this process before that answer is cached.
    duringLookup = async () => {
      duringLookup = () => Promise.resolve();
      await realStore.apiKeys.revoke(tenantId, record.id);
      auth.forgetApiKey(record.id);
    };
    expect(await auth.authenticate({ apiKey: key })).toMatchObject({ role: 'operator' }); // began before the revocation
    await expect(auth.authenticate({ apiKey: key })).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('JWT principals', () => {
  it('are cached, but never past the token’s expiry', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const { store, calls } = countingStore(realStore);
    const clock = newClock(Date.UTC(2030, 0, 1));
    const auth = createAuthenticator(
      store,
      {
        jwksUrl: null,
        publicKeyPem: await exportSPKI(publicKey),
        issuer: null,
        audience: null,
        tenantClaim: 'tenant',
        roleClaim: 'role',
        defaultRole: 'viewer',
      },
      { cacheTtlMs: 10 * 60_000, now: () => clock.now, log: () => undefined },
    );
    const issuedAt = Math.floor(clock.now / 1000);
    const token = await new SignJWT({ tenant: 'cache-test', role: 'operator' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('user_7')
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 60)
      .sign(privateKey);
    const bearer = { authorization: `Bearer ${token}` };

    expect(await auth.authenticate(bearer)).toMatchObject({ tenantId, role: 'operator', subject: 'user_7', method: 'jwt' });
    expect(calls('tenants.ensure')).toBe(1);
    clock.advance(59_000);
    await auth.authenticate(bearer);
    expect(calls('tenants.ensure')).toBe(1);
    // The cache is keyed by how a token may be verified: the same JWT sent as X-API-Key is only ever
    // looked up as an API key, cached bearer or not.
    await expect(auth.authenticate({ apiKey: token })).rejects.toThrow(/API key is not valid/);

    // Past exp, inside the verifier's 30 s clock tolerance: the token is still valid, but it is
    // verified again rather than answered from the cache.
    clock.advance(2000);
    await auth.authenticate(bearer);
    expect(calls('tenants.ensure')).toBe(2);

    clock.advance(60_000);
    await expect(auth.authenticate(bearer)).rejects.toThrow(/not valid/);
  });
});

describe('INFRAAI_AUTH_CACHE_TTL_MS', () => {
  it('defaults to 5000, accepts 0 (no cache) and refuses a negative or fractional value', () => {
    expect(loadConfig({}).api.authCacheTtlMs).toBe(5000);
    expect(loadConfig({ INFRAAI_AUTH_CACHE_TTL_MS: '0' }).api.authCacheTtlMs).toBe(0);
    expect(loadConfig({ INFRAAI_AUTH_CACHE_TTL_MS: '250' }).api.authCacheTtlMs).toBe(250);
    expect(() => loadConfig({ INFRAAI_AUTH_CACHE_TTL_MS: '-1' })).toThrow(/INFRAAI_AUTH_CACHE_TTL_MS/);
    expect(() => loadConfig({ INFRAAI_AUTH_CACHE_TTL_MS: '1.5' })).toThrow(/INFRAAI_AUTH_CACHE_TTL_MS/);
  });
});
