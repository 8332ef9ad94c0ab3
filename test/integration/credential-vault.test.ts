import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedCredentialVault } from '../../adapters/secrets/encrypted-vault.js';
import {
  DEFAULT_SECRET_PATH,
  InfisicalAuthError,
  InfisicalRequestError,
  infisicalSecretKey,
  openInfisicalVault,
  type InfisicalCredentialVault,
  type InfisicalVaultOptions,
} from '../../adapters/secrets/infisical-vault.js';
import { SecretsUnavailableError } from '../../adapters/secrets/port.js';
import { createStore } from '../../adapters/store/create.js';
import { DuplicateKeyError } from '../../adapters/store/port.js';
import { describeCredentialVaultContract, generateTestKey, type TestKey } from '../support/credential-vault-contract.js';
import { FakeInfisical } from '../support/fake-infisical.js';

// The CredentialVault contract for every adapter: the embedded encrypted vault on PGlite, Infisical
// against a local server that speaks the REST endpoints @infisical/sdk calls (reached through the
// SDK's siteUrl), and Infisical live when a machine identity is configured. The local server also
// lets us check the requests' shape, re-login and the error mapping.

describeCredentialVaultContract('local-encrypted (PGlite)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-vault-pglite-'));
  const store = await createStore({ kind: 'pglite', dataDir });
  const tenantA = (await store.tenants.ensure('vault-a')).id;
  const tenantB = (await store.tenants.ensure('vault-b')).id;
  return {
    vault: new EncryptedCredentialVault(store, randomBytes(32)),
    tenantA,
    tenantB,
    close: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const CLIENT_ID = randomUUID();
const CLIENT_SECRET = `ua-secret-${randomBytes(24).toString('hex')}`;
const PROJECT_ID = randomUUID();

describe('infisical (local protocol server)', () => {
  let fake: FakeInfisical;
  const options = (extra: Partial<InfisicalVaultOptions> = {}): InfisicalVaultOptions => ({
    siteUrl: fake.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    projectId: PROJECT_ID,
    environment: 'dev',
    ...extra,
  });

  beforeAll(async () => {
    fake = await FakeInfisical.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, projectId: PROJECT_ID });
  });
  afterAll(async () => {
    await fake?.close();
  });

  describeCredentialVaultContract('infisical (local protocol server)', async () => ({
    vault: await openInfisicalVault(options({ environment: 'staging' })),
    tenantA: randomUUID(),
    tenantB: randomUUID(),
  }));

  describe('requests', () => {
    let dir: string;
    let key: TestKey;
    let vault: InfisicalCredentialVault;
    const tenant = randomUUID();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'infraai-infisical-'));
      key = await generateTestKey(dir, 'shape', 'rsa', 'pass ${word}');
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
      fake.clearRequests();
    });

    it('logs in once with the client ID and secret, then sends the bearer token on every secret call', async () => {
      vault = await openInfisicalVault(options());
      await vault.put(tenant, { name: 'web', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      await vault.list(tenant);
      await vault.reveal(tenant, 'web');
      await vault.delete(tenant, 'web');

      const logins = fake.requestsTo('POST', '/api/v1/auth/universal-auth/login');
      expect(logins).toHaveLength(1);
      expect(logins[0]!.body).toEqual({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      expect(logins[0]!.headers['content-type']).toBe('application/json');
      expect(logins[0]!.headers.authorization).toBeUndefined();

      const others = fake.requests.filter((r) => r !== logins[0]);
      expect(others.map((r) => `${r.method} ${r.path.replace(/INFRAAI_SSH_\w+$/, '{key}')}`)).toEqual([
        'POST /api/v3/secrets/raw/{key}', // the folder does not exist yet: 404
        'POST /api/v1/folders',
        'POST /api/v1/folders',
        'POST /api/v3/secrets/raw/{key}',
        'GET /api/v3/secrets/raw',
        'GET /api/v3/secrets/raw/{key}',
        'DELETE /api/v3/secrets/raw/{key}',
      ]);
      const token = /^Bearer (\S+)$/.exec(String(others[0]!.headers.authorization))?.[1];
      // The token the fake issued at login (fake.<24 random bytes, base64url>).
      expect(token).toMatch(/^fake\.[A-Za-z0-9_-]{32}$/);
      for (const request of others) expect(request.headers.authorization).toBe(`Bearer ${token}`);
      expect(fake.hasFolder('dev', DEFAULT_SECRET_PATH)).toBe(true);
    });

    it('keeps the secret in the JSON body, never in a URL, under a key made of the tenant and the hex of the name', async () => {
      await vault.put(tenant, { name: 'db.main', username: 'ops', privateKey: key.privateKey, passphrase: key.passphrase });
      await vault.list(tenant);
      await vault.reveal(tenant, 'db.main');

      const secretKey = infisicalSecretKey(tenant, 'db.main');
      expect(secretKey).toBe(`INFRAAI_SSH_${tenant.replaceAll('-', '')}_${Buffer.from('db.main').toString('hex')}`);
      expect(secretKey).toMatch(/^[A-Za-z0-9_]+$/);
      for (const request of fake.requests) {
        const url = decodeURIComponent(request.url);
        expect(url).not.toContain('PRIVATE KEY');
        expect(url).not.toContain(key.privateKey.split('\n')[1]!);
        expect(url).not.toContain(key.passphrase!);
        expect(url).not.toContain(CLIENT_SECRET);
      }

      const [create] = fake.requestsTo('POST', '/api/v3/secrets/raw/');
      expect(create!.path).toBe(`/api/v3/secrets/raw/${secretKey}`);
      const body = create!.body as Record<string, unknown>;
      expect(body).toMatchObject({ workspaceId: PROJECT_ID, environment: 'dev', secretPath: DEFAULT_SECRET_PATH, type: 'shared' });
      // No '$' reaches Infisical (it would read ${word} as a reference); the JSON still decodes to the passphrase.
      expect(body.secretValue).not.toContain('$');
      expect(JSON.parse(body.secretValue as string)).toEqual({
        v: 1,
        tenantId: tenant,
        name: 'db.main',
        username: 'ops',
        keyType: 'ssh-rsa',
        fingerprint: key.fingerprint,
        privateKey: key.privateKey,
        passphrase: 'pass ${word}',
        createdAt: expect.any(String),
      });
      expect(fake.secretsIn('dev', DEFAULT_SECRET_PATH).map((s) => s.secretKey)).toEqual([secretKey]);

      // Reads never ask Infisical to expand references or to follow imports.
      const [list] = fake.requestsTo('GET', '/api/v3/secrets/raw');
      expect(list!.query).toMatchObject({
        workspaceId: PROJECT_ID,
        environment: 'dev',
        secretPath: DEFAULT_SECRET_PATH,
        expandSecretReferences: 'false',
        include_imports: 'false',
        recursive: 'false',
      });
      const get = fake.requests.find((r) => r.method === 'GET' && r.path.startsWith('/api/v3/secrets/raw/'));
      expect(get!.query).toMatchObject({
        workspaceId: PROJECT_ID,
        environment: 'dev',
        secretPath: DEFAULT_SECRET_PATH,
        expandSecretReferences: 'false',
        includeImports: 'false',
        type: 'shared',
      });
      expect(await vault.delete(tenant, 'db.main')).toBe(true);
    });

    it('creates no folder once it exists, and uses a configured secretPath', async () => {
      const custom = await openInfisicalVault(options({ secretPath: '/ops/keys/ssh/' }));
      expect(custom.secretPath).toBe('/ops/keys/ssh');
      await custom.put(tenant, { name: 'a', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      await custom.put(tenant, { name: 'b', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      expect(fake.requestsTo('POST', '/api/v1/folders').map((r) => r.body)).toEqual([
        expect.objectContaining({ name: 'ops', path: '/', workspaceId: PROJECT_ID, environment: 'dev' }),
        expect.objectContaining({ name: 'keys', path: '/ops' }),
        expect.objectContaining({ name: 'ssh', path: '/ops/keys' }),
      ]);
      expect(fake.secretsIn('dev', '/ops/keys/ssh')).toHaveLength(2);
      expect((await custom.list(tenant)).map((c) => c.name)).toEqual(['a', 'b']);
      // The default vault does not see credentials kept under another path.
      expect(await vault.list(tenant)).toEqual([]);
    });

    it('logs in again once when Infisical stops accepting the access token', async () => {
      await vault.put(tenant, { name: 'relogin', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      const before = fake.logins;
      fake.revokeTokens();
      fake.clearRequests();
      expect((await vault.reveal(tenant, 'relogin'))?.privateKey).toBe(key.privateKey);
      expect(fake.logins).toBe(before + 1);
      expect(fake.requests.map((r) => r.method + ' ' + r.path.replace(/INFRAAI_SSH_\w+$/, '{key}'))).toEqual([
        'GET /api/v3/secrets/raw/{key}',
        'POST /api/v1/auth/universal-auth/login',
        'GET /api/v3/secrets/raw/{key}',
      ]);
      expect(fake.requests[2]!.headers.authorization).not.toBe(fake.requests[0]!.headers.authorization);
      expect(await vault.delete(tenant, 'relogin')).toBe(true);
    });

    it('ignores secrets in the folder that are not its own or not in its format', async () => {
      await vault.put(tenant, { name: 'mine', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      // A value copied by hand under another name's key does not pass for that credential.
      const copied = fake.secretsIn('dev', DEFAULT_SECRET_PATH).find((s) => s.secretKey === infisicalSecretKey(tenant, 'mine'))!;
      await createRaw(fake, infisicalSecretKey(tenant, 'copy'), copied.secretValue);
      await createRaw(fake, 'DATABASE_URL', 'postgres://elsewhere');
      expect((await vault.list(tenant)).map((c) => c.name)).toEqual(['mine']);
      await expect(vault.reveal(tenant, 'copy')).rejects.toThrow(/not in InfraAI's format/);
      expect(await vault.delete(tenant, 'copy')).toBe(true);
      expect(await vault.delete(tenant, 'mine')).toBe(true);
    });

    it('maps a duplicate to DuplicateKeyError without retrying or logging in again', async () => {
      await vault.put(tenant, { name: 'twice', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase });
      fake.clearRequests();
      await expect(
        vault.put(tenant, { name: 'twice', username: 'root', privateKey: key.privateKey, passphrase: key.passphrase }),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(fake.requests.map((r) => r.method)).toEqual(['POST']);
      expect(await vault.delete(tenant, 'twice')).toBe(true);
    });
  });

  describe('errors', () => {
    let dir: string;
    let key: TestKey;
    const tenant = randomUUID();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'infraai-infisical-errors-'));
      key = await generateTestKey(dir, 'errors', 'ed25519');
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('a bad client secret fails at open with a clear InfisicalAuthError that does not hold the secret', async () => {
      const wrongSecret = `ua-secret-wrong-${randomBytes(16).toString('hex')}`;
      const error = await openInfisicalVault(options({ clientSecret: wrongSecret })).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InfisicalAuthError);
      const authError = error as InfisicalAuthError;
      expect(authError.status).toBe(401);
      expect(authError.message).toContain(CLIENT_ID);
      expect(authError.message).toMatch(/client ID and client secret/);
      expect(authError.message).toContain('Invalid credentials');
      for (const text of [authError.message, String(authError.stack), inspect(authError, { depth: 5 }), JSON.stringify(authError)]) {
        expect(text).not.toContain(wrongSecret);
        expect(text).not.toContain(CLIENT_SECRET);
      }
    });

    it('Infisical answering 5xx is SecretsUnavailableError; 403 is InfisicalAuthError; an unknown environment is InfisicalRequestError', async () => {
      const vault = await openInfisicalVault(options());
      fake.failNext(503, 1, 'upstream connect error');
      const unavailable = await vault.list(tenant).catch((err: unknown) => err);
      expect(unavailable).toBeInstanceOf(SecretsUnavailableError);
      expect(unavailable).toMatchObject({ status: 503, message: expect.stringContaining('upstream connect error') });

      fake.failNext(500);
      await expect(vault.reveal(tenant, 'x')).rejects.toMatchObject({ name: 'SecretsUnavailableError', status: 500 });

      fake.failNext(403, 1, 'You are not allowed to create on secrets');
      const forbidden = await vault.put(tenant, { name: 'x', username: 'root', privateKey: key.privateKey }).catch((err: unknown) => err);
      expect(forbidden).toBeInstanceOf(InfisicalAuthError);
      expect((forbidden as Error).message).toMatch(/may not store an SSH credential in project .* \(403: You are not allowed/);

      const wrongEnv = await openInfisicalVault(options({ environment: 'nope' }));
      const error = await wrongEnv.put(tenant, { name: 'x', username: 'root', privateKey: key.privateKey }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InfisicalRequestError);
      expect((error as Error).message).toMatch(/Environment with slug 'nope'/);
      expect(await vault.reveal(tenant, 'x')).toBeNull();
    });

    // The SDK itself retries 429 and network failures 4 times with backoff (about 15 s in all)
    // before it gives up, so these two run side by side.
    it.concurrent('429 that does not stop is SecretsUnavailableError after the SDK retries', async () => {
      const vault = await openInfisicalVault(options());
      fake.failNext(429, 5, 'rate limit exceeded');
      const error = await vault.list(tenant).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SecretsUnavailableError);
      expect(error).toMatchObject({ status: 429 });
    });

    it.concurrent('an Infisical that does not answer is SecretsUnavailableError at open', async () => {
      const error = await openInfisicalVault(options({ siteUrl: `http://127.0.0.1:${await closedPort()}` })).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SecretsUnavailableError);
      expect(error).toMatchObject({ status: undefined, message: expect.stringMatching(/did not answer/) });
      expect((error as Error).message).not.toContain(CLIENT_SECRET);
    });

    it('refuses incomplete options before any request', async () => {
      await expect(openInfisicalVault(options({ clientSecret: ' ' }))).rejects.toThrow(/clientSecret must be set/);
      await expect(openInfisicalVault(options({ siteUrl: 'ftp://example' }))).rejects.toThrow(/must be http/);
      await expect(openInfisicalVault(options({ secretPath: '/has space' }))).rejects.toThrow(/folder names/);
    });
  });
});

/** A secret put straight into the fake through the REST API, as someone editing Infisical by hand. */
async function createRaw(fake: FakeInfisical, key: string, value: string): Promise<void> {
  const login = await fetch(`${fake.url}/api/v1/auth/universal-auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const created = await fetch(`${fake.url}/api/v3/secrets/raw/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ workspaceId: PROJECT_ID, environment: 'dev', secretPath: DEFAULT_SECRET_PATH, secretValue: value }),
  });
  expect(created.status).toBe(200);
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Live Infisical: needs a machine identity with Universal Auth (INFISICAL_CLIENT_ID,
// INFISICAL_CLIENT_SECRET) that may create folders and secrets in INFISICAL_PROJECT_ID;
// INFISICAL_SITE_URL (default https://app.infisical.com) and INFISICAL_ENVIRONMENT (default dev)
// are optional. Each run uses fresh tenant ids under /infraai/ssh-test and deletes its secrets.
const liveEnv = {
  clientId: process.env.INFISICAL_CLIENT_ID?.trim(),
  clientSecret: process.env.INFISICAL_CLIENT_SECRET?.trim(),
  projectId: process.env.INFISICAL_PROJECT_ID?.trim(),
};
const live = Boolean(liveEnv.clientId && liveEnv.clientSecret && liveEnv.projectId);
const LIVE_VARIABLES =
  'set INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET and INFISICAL_PROJECT_ID (optional: INFISICAL_SITE_URL, INFISICAL_ENVIRONMENT, default dev)';
if (!live) console.info(`Infisical live contract skipped: ${LIVE_VARIABLES} to run it.`);

describe.skipIf(!live)(live ? 'infisical (live)' : `infisical (live) skipped: ${LIVE_VARIABLES}`, () => {
  describeCredentialVaultContract('infisical (live)', async () => ({
    vault: await openInfisicalVault({
      siteUrl: process.env.INFISICAL_SITE_URL?.trim() || 'https://app.infisical.com',
      clientId: liveEnv.clientId!,
      clientSecret: liveEnv.clientSecret!,
      projectId: liveEnv.projectId!,
      environment: process.env.INFISICAL_ENVIRONMENT?.trim() || 'dev',
      secretPath: '/infraai/ssh-test',
    }),
    tenantA: randomUUID(),
    tenantB: randomUUID(),
  }));
});
