import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedSecretStore } from '../../adapters/secrets/encrypted-vault.js';
import {
  DEFAULT_SECRET_VALUES_PATH,
  InfisicalRequestError,
  InfisicalSecretStore,
  openInfisicalSecrets,
  type InfisicalVaultOptions,
} from '../../adapters/secrets/infisical-vault.js';
import { SecretDecryptionError, SecretsUnavailableError, secretPathSegment } from '../../adapters/secrets/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { FakeInfisical } from '../support/fake-infisical.js';
import { describeSecretStoreContract } from '../support/secret-store-contract.js';

// The SecretStore port (secret values by tenant and path, used by integration settings): the
// embedded adapter sealing into PGlite, Infisical against a local server that speaks the REST
// endpoints @infisical/sdk calls, and Infisical live when a machine identity is configured.

describe('embedded (sealed rows in PGlite)', () => {
  let dataDir: string;
  let store: Store;
  const key = randomBytes(32);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'infraai-secrets-pglite-'));
    store = await createStore({ kind: 'pglite', dataDir });
  });
  afterAll(async () => {
    await store?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  describeSecretStoreContract('local-encrypted (PGlite)', async () => ({
    secrets: new EncryptedSecretStore(store, key),
    tenantA: (await store.tenants.ensure('secrets-a')).id,
    tenantB: (await store.tenants.ensure('secrets-b')).id,
  }));

  it('keeps only ciphertext in the row, which opens only with its key, tenant and path', async () => {
    const tenant = (await store.tenants.ensure('secrets-sealed')).id;
    const secrets = new EncryptedSecretStore(store, key);
    await secrets.put(tenant, 'integrations/tenant/github', 'ghp_visible_only_to_the_key');
    const row = await store.sealedSecrets.get(tenant, 'integrations/tenant/github');
    expect(row?.ciphertext).toMatch(/^v1:/);
    expect(row?.ciphertext).not.toContain('ghp_visible');
    await expect(new EncryptedSecretStore(store, randomBytes(32)).get(tenant, 'integrations/tenant/github')).rejects.toBeInstanceOf(
      SecretDecryptionError,
    );
    // The same ciphertext moved to another path does not open there.
    await store.sealedSecrets.put(tenant, 'integrations/tenant/jira', row!.ciphertext);
    await expect(secrets.get(tenant, 'integrations/tenant/jira')).rejects.toBeInstanceOf(SecretDecryptionError);
  });
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
  beforeEach(() => fake.clearRequests());

  describeSecretStoreContract('infisical (local protocol server)', async () => ({
    secrets: (await openInfisicalSecrets(options({ environment: 'staging' }))).secrets,
    tenantA: randomUUID(),
    tenantB: randomUUID(),
  }));

  it('keeps a value as a secret named after the last segment, in a folder of the tenant; replaces it with PATCH', async () => {
    const { vault, secrets } = await openInfisicalSecrets(options());
    const tenant = randomUUID();
    const user = secretPathSegment('api-key:7f3c');
    expect(user).toBe('api-key_3a7f3c');
    await secrets.put(tenant, `integrations/users/${user}/github`, 'ghp_first${x}');
    await secrets.put(tenant, `integrations/users/${user}/github`, 'ghp_second');
    await vault.list(tenant);
    // One login for both adapters: they share the session.
    expect(fake.requestsTo('POST', '/api/v1/auth/universal-auth/login')).toHaveLength(1);

    const folder = `${DEFAULT_SECRET_VALUES_PATH}/${tenant.replaceAll('-', '')}/integrations/users/${user}`;
    const [stored] = fake.secretsIn('dev', folder);
    expect(stored?.secretKey).toBe('github');
    expect(stored?.version).toBe(2);
    // Bound to its tenant and path; '$' never reaches Infisical as such.
    expect(JSON.parse(stored!.secretValue)).toEqual({
      v: 1,
      tenantId: tenant,
      path: `integrations/users/${user}/github`,
      value: 'ghp_second',
    });
    const writes = fake.requests.filter((r) => r.path.startsWith('/api/v3/secrets/raw/'));
    // Created (after the missing folder answered 404 and was made), then found existing and replaced.
    expect(writes.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'PATCH']);
    for (const request of writes) expect(request.url).not.toContain('ghp_');
    expect(JSON.stringify(writes[1]!.body)).not.toContain('${');
    expect(JSON.stringify(writes[1]!.body)).toContain('ghp_first');
    expect(writes[3]!.body).toMatchObject({ workspaceId: PROJECT_ID, environment: 'dev', secretPath: folder, type: 'shared' });
    expect(fake.hasFolder('dev', folder)).toBe(true);
    expect(await secrets.get(tenant, `integrations/users/${user}/github`)).toBe('ghp_second');
  });

  it('refuses a value copied under another tenant, and maps an unreachable Infisical to SecretsUnavailableError', async () => {
    const secrets = new InfisicalSecretStore(options());
    const [a, b] = [randomUUID(), randomUUID()];
    await secrets.put(a, 'integrations/tenant/jira', 'token-a');
    await secrets.put(b, 'integrations/tenant/jira', 'token-b');
    const copied = fake.secretsIn('dev', secrets.locate(a, 'integrations/tenant/jira').folder)[0]!;
    fake.secretsIn('dev', secrets.locate(b, 'integrations/tenant/jira').folder)[0]!.secretValue = copied.secretValue;
    await expect(secrets.get(b, 'integrations/tenant/jira')).rejects.toBeInstanceOf(InfisicalRequestError);

    fake.failNext(503, 1);
    await expect(secrets.get(a, 'integrations/tenant/jira')).rejects.toBeInstanceOf(SecretsUnavailableError);
    expect(await secrets.get(a, 'integrations/tenant/jira')).toBe('token-a');
  });
});

// Live Infisical: the same variables as the credential vault's live test (INFISICAL_CLIENT_ID,
// INFISICAL_CLIENT_SECRET, INFISICAL_PROJECT_ID; optional INFISICAL_SITE_URL, INFISICAL_ENVIRONMENT).
// Each run uses fresh tenant ids under /infraai/values-test and deletes its secrets.
const liveEnv = {
  clientId: process.env.INFISICAL_CLIENT_ID?.trim(),
  clientSecret: process.env.INFISICAL_CLIENT_SECRET?.trim(),
  projectId: process.env.INFISICAL_PROJECT_ID?.trim(),
};
const live = Boolean(liveEnv.clientId && liveEnv.clientSecret && liveEnv.projectId);
const LIVE_VARIABLES = 'set INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET and INFISICAL_PROJECT_ID';
if (!live) console.info(`Infisical live secret store contract skipped: ${LIVE_VARIABLES} to run it.`);

describe.skipIf(!live)(live ? 'infisical (live)' : `infisical (live) skipped: ${LIVE_VARIABLES}`, () => {
  describeSecretStoreContract('infisical (live)', async () => ({
    secrets: (
      await openInfisicalSecrets({
        siteUrl: process.env.INFISICAL_SITE_URL?.trim() || 'https://app.infisical.com',
        clientId: liveEnv.clientId!,
        clientSecret: liveEnv.clientSecret!,
        projectId: liveEnv.projectId!,
        environment: process.env.INFISICAL_ENVIRONMENT?.trim() || 'dev',
        valuesPath: '/infraai/values-test',
      })
    ).secrets,
    tenantA: randomUUID(),
    tenantB: randomUUID(),
  }));
});
