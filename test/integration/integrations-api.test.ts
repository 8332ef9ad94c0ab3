import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { IntegrationNotConfiguredError } from '../../tools/integrations.js';
import { openInfisicalSecrets } from '../../adapters/secrets/infisical-vault.js';
import {
  CorruptIntegrationSecretsError,
  IntegrationSettingsIncompleteError,
  IntegrationSettingsService,
} from '../../tools/integration-settings.js';
import { FakeInfisical } from '../support/fake-infisical.js';
import { createTestDatabase } from '../support/postgres.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// Integration settings through the API, over the machine's PostgreSQL: the user's fields over the
// tenant's, secrets masked in every answer and sealed in the database, roles, DELETE, and the
// aliases reference 000's clients use.

const JIRA_TOKEN = 'ATATT3xFfGF0-tenant-token-4471';
const ALICE_TOKEN = 'ATATT3xFfGF0-alice-token-9902';
const PROM_PASSWORD = 'prom-basic-auth-password-5150';

let db: { url: string; drop(): Promise<void> };
let store: Store;
let stack: TestStack;
let sql: pg.Client;
let alice: string;
let bob: string;
let viewer: string;
let tenantId: string;

async function subjectOf(key: string): Promise<string> {
  const me = await stack.call('GET', '/api/v1/me', { key });
  return ((await me.json()) as { subject: string }).subject;
}

/** Every secret of this file, none of which may appear in an answer or a row. */
const SECRETS = [JIRA_TOKEN, ALICE_TOKEN, PROM_PASSWORD];
const expectNoSecret = (text: string) => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

beforeAll(async () => {
  db = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: db.url });
  stack = await startTestStack({ store });
  alice = await stack.keyFor('acme', 'operator');
  bob = await stack.keyFor('acme', 'operator');
  viewer = await stack.keyFor('acme', 'viewer');
  tenantId = (await store.tenants.getBySlug('acme'))!.id;
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await stack?.close();
  await store?.close();
  await db?.drop();
});

describe('integration settings API', () => {
  it('lists every integration with its fields, nothing configured at first', async () => {
    const response = await stack.call('GET', '/api/v1/integrations', { key: alice });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { name: string; fields: unknown[]; ready: boolean; user: unknown }[] };
    expect(items.map((item) => item.name)).toEqual(['servicenow', 'github', 'jira', 'confluence', 'pagerduty', 'prometheus']);
    expect(items.find((item) => item.name === 'jira')).toMatchObject({
      fields: [
        { name: 'baseUrl', secret: false, required: true },
        { name: 'email', secret: false, required: true },
        { name: 'apiToken', secret: true, required: true },
        { name: 'defaultProject', secret: false, required: false },
      ],
      user: { configured: false, updatedAt: null },
      tenant: { configured: false, updatedAt: null },
      ready: false,
    });
    const unconfigured = await stack.call('GET', '/api/v1/integrations/jira/config', { key: alice });
    expect(await unconfigured.json()).toMatchObject({ integration: 'jira', scope: 'user', configured: false, settings: {} });
    await expect(stack.integrationSettings.resolve({ tenantId, userId: await subjectOf(alice) }, 'jira')).rejects.toBeInstanceOf(
      IntegrationNotConfiguredError,
    );
  });

  it("resolves the user's fields over the tenant's, field by field, and masks every secret", async () => {
    const [aliceId, bobId] = [await subjectOf(alice), await subjectOf(bob)];
    // The tenant (admin) gives the site, a shared account and its token.
    const tenantPut = await stack.call('PUT', '/api/v1/integrations/jira/config?scope=tenant', {
      body: { baseUrl: 'https://acme.atlassian.net/', email: 'ops@acme.example', apiToken: JIRA_TOKEN, defaultProject: 'OPS' },
    });
    const tenantText = await tenantPut.text();
    expect(tenantPut.status, tenantText).toBe(200);
    expectNoSecret(tenantText);
    expect(JSON.parse(tenantText)).toMatchObject({
      scope: 'tenant',
      configured: true,
      settings: { baseUrl: 'https://acme.atlassian.net', email: 'ops@acme.example', defaultProject: 'OPS' },
      secrets: { apiToken: { configured: true } },
      updatedBy: `api-key:${(await subjectOf(stack.adminKey)).slice('api-key:'.length)}`,
      effective: { ready: true, problems: [] },
    });

    // Alice uses her own account: her email and token, the tenant's site and project.
    const mine = await stack.call('POST', '/api/v1/integrations/jira/config', {
      key: alice,
      body: { email: 'alice@acme.example', apiToken: ALICE_TOKEN },
    });
    const mineText = await mine.text();
    expect(mine.status, mineText).toBe(200);
    expectNoSecret(mineText);
    expect(JSON.parse(mineText)).toMatchObject({
      scope: 'user',
      settings: { email: 'alice@acme.example' },
      secrets: { apiToken: { configured: true } },
      effective: { ready: true, sources: { baseUrl: 'tenant', defaultProject: 'tenant', email: 'user', apiToken: 'user' } },
    });

    expect(await stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).toEqual({
      baseUrl: 'https://acme.atlassian.net',
      email: 'alice@acme.example',
      apiToken: ALICE_TOKEN,
      defaultProject: 'OPS',
    });
    // Bob has nothing of his own: the tenant's settings.
    expect(await stack.integrationSettings.resolve({ tenantId, userId: bobId }, 'jira')).toEqual({
      baseUrl: 'https://acme.atlassian.net',
      email: 'ops@acme.example',
      apiToken: JIRA_TOKEN,
      defaultProject: 'OPS',
    });

    // Alice's view of the tenant's settings is masked too, and the list says what is set where.
    const tenantView = await stack.call('GET', '/api/v1/integrations/jira/config?scope=tenant', { key: alice });
    expectNoSecret(await tenantView.clone().text());
    expect(await tenantView.json()).toMatchObject({ scope: 'tenant', secrets: { apiToken: { configured: true } } });
    const list = await stack.call('GET', '/api/v1/integrations', { key: alice });
    const listText = await list.text();
    expectNoSecret(listText);
    expect((JSON.parse(listText) as { items: { name: string }[] }).items.find((item) => item.name === 'jira')).toMatchObject({
      user: { configured: true },
      tenant: { configured: true },
      ready: true,
    });
  });

  it('keeps a secret the body leaves out (a GET put back as it came), and clears one given as null', async () => {
    const aliceId = await subjectOf(alice);
    const read = (await (await stack.call('GET', '/api/v1/integrations/jira/config', { key: alice })).json()) as {
      settings: Record<string, string>;
    };
    const putBack = await stack.call('PUT', '/api/v1/integrations/jira/config', { key: alice, body: read.settings });
    expect(putBack.status).toBe(200);
    expect(((await putBack.json()) as { secrets: unknown }).secrets).toEqual({ apiToken: { configured: true } });
    expect((await stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).apiToken).toBe(ALICE_TOKEN);

    // A form's blank password box keeps the secret too; a blank text box unsets its field.
    const blank = await stack.call('PUT', '/api/v1/integrations/jira/config', {
      key: alice,
      body: { email: 'alice@acme.example', apiToken: '', defaultProject: '' },
    });
    expect(await blank.json()).toMatchObject({ settings: { email: 'alice@acme.example' }, secrets: { apiToken: { configured: true } } });
    expect(await stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).toMatchObject({
      apiToken: ALICE_TOKEN,
      defaultProject: 'OPS',
    });

    const cleared = await stack.call('PUT', '/api/v1/integrations/jira/config', {
      key: alice,
      body: { email: 'alice@acme.example', apiToken: null },
    });
    expect(await cleared.json()).toMatchObject({
      secrets: { apiToken: { configured: false } },
      effective: { sources: { apiToken: 'tenant' } },
    });
    // Her email, the tenant's token.
    expect(await stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).toMatchObject({
      email: 'alice@acme.example',
      apiToken: JIRA_TOKEN,
    });
    const restored = await stack.call('PUT', '/api/v1/integrations/jira/config', {
      key: alice,
      body: { email: 'alice@acme.example', apiToken: ALICE_TOKEN },
    });
    expect(restored.status).toBe(200);
  });

  it('keeps no secret in clear in the database: the rows name the secret fields, the sealed rows hold ciphertext', async () => {
    const settings = await sql.query(
      'SELECT user_id, integration, settings, secret_fields FROM integration_settings WHERE tenant_id = $1',
      [tenantId],
    );
    expect(settings.rows.length).toBeGreaterThanOrEqual(2);
    expect(settings.rows.find((row: { user_id: string }) => row.user_id === '')).toMatchObject({
      integration: 'jira',
      settings: { baseUrl: 'https://acme.atlassian.net', email: 'ops@acme.example', defaultProject: 'OPS' },
      secret_fields: ['apiToken'],
    });
    const sealed = await sql.query('SELECT path, ciphertext FROM sealed_secrets WHERE tenant_id = $1 ORDER BY path', [tenantId]);
    expect(sealed.rows.map((row: { path: string }) => row.path)).toEqual([
      'integrations/tenant/jira',
      `integrations/users/api-key_3a${(await subjectOf(alice)).slice('api-key:'.length)}/jira`,
    ]);
    const everything = JSON.stringify([settings.rows, sealed.rows]);
    expectNoSecret(everything);
    for (const row of sealed.rows as { ciphertext: string }[]) expect(row.ciphertext).toMatch(/^v1:/);
  });

  it('refuses an unknown integration (404), an unknown field or a bad value (422 naming the field), and an incomplete merge at resolve', async () => {
    const unknown = await stack.call('PUT', '/api/v1/integrations/gitlab/config', { key: alice, body: { token: 'x' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect((await stack.call('GET', '/api/v1/integrations/gitlab/config', { key: alice })).status).toBe(404);

    const bad = await stack.call('PUT', '/api/v1/integrations/github/config', {
      key: alice,
      body: { token: 'ghp_never_echoed_1234', baseUrl: 'ftp://example.com', owner: 'acme' },
    });
    expect(bad.status).toBe(422);
    const badText = await bad.text();
    expect(badText).not.toContain('ghp_never_echoed_1234');
    const problem = JSON.parse(badText) as { errors: { path: string; code: string }[] };
    expect(problem.errors.map((error) => error.path).sort()).toEqual(['baseUrl', 'owner']);
    expect(problem.errors.find((error) => error.path === 'owner')?.code).toBe('unrecognized_keys');

    const notText = await stack.call('PUT', '/api/v1/integrations/github/config', { key: alice, body: { token: 42 } });
    expect(notText.status).toBe(422);
    expect(((await notText.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe('token');
    expect((await stack.call('PUT', '/api/v1/integrations/github/config', { key: alice, body: {} })).status).toBe(422);

    // A user-scope token without its required partner fields: stored, reported not ready, refused at resolve.
    const partial = await stack.call('PUT', '/api/v1/integrations/pagerduty/config', { key: alice, body: { apiToken: 'u+pd-token' } });
    expect(partial.status).toBe(200);
    expect(((await partial.json()) as { effective: { ready: boolean; problems: { path: string }[] } }).effective).toMatchObject({
      ready: false,
      problems: [{ path: 'fromEmail' }],
    });
    const error = await stack.integrationSettings
      .resolve({ tenantId, userId: await subjectOf(alice) }, 'pagerduty')
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(IntegrationSettingsIncompleteError);
    expect(error).toBeInstanceOf(IntegrationNotConfiguredError);
    expect((error as Error).message).not.toContain('u+pd-token');
  });

  it("lets only an admin write the tenant's settings; viewers write nothing; anyone reads masked", async () => {
    const operatorTenant = await stack.call('PUT', '/api/v1/integrations/github/config?scope=tenant', {
      key: alice,
      body: { token: 'ghp_x' },
    });
    expect(operatorTenant.status).toBe(403);
    expect((await stack.call('DELETE', '/api/v1/integrations/jira/config?scope=tenant', { key: alice })).status).toBe(403);
    expect((await stack.call('PUT', '/api/v1/integrations/github/config', { key: viewer, body: { token: 'ghp_x' } })).status).toBe(403);
    const viewerRead = await stack.call('GET', '/api/v1/integrations/jira/config?scope=tenant', { key: viewer });
    expect(viewerRead.status).toBe(200);
    expectNoSecret(await viewerRead.text());
    // Another tenant sees none of acme's settings.
    const other = await stack.keyFor('globex', 'admin');
    expect(await (await stack.call('GET', '/api/v1/integrations/jira/config?scope=tenant', { key: other })).json()).toMatchObject({
      configured: false,
    });
    expect((await stack.call('GET', '/api/v1/integrations/jira/config?scope=everyone', { key: alice })).status).toBe(422);
  });

  it("serves Prometheus' settings at reference 000's /api/v1/prometheus/config too", async () => {
    const saved = await stack.call('POST', '/api/v1/prometheus/config?scope=tenant', {
      body: { url: 'http://prometheus.internal:9090/', username: 'grafana', password: PROM_PASSWORD },
    });
    const savedText = await saved.text();
    expect(saved.status, savedText).toBe(200);
    expectNoSecret(savedText);
    const viaIntegrations = await stack.call('GET', '/api/v1/integrations/prometheus/config?scope=tenant', { key: alice });
    expect(await viaIntegrations.json()).toMatchObject({
      integration: 'prometheus',
      settings: { url: 'http://prometheus.internal:9090', username: 'grafana' },
      secrets: { password: { configured: true }, bearerToken: { configured: false } },
    });
    const viaAlias = await stack.call('GET', '/api/v1/prometheus/config', { key: alice });
    expect(await viaAlias.json()).toMatchObject({
      integration: 'prometheus',
      scope: 'user',
      configured: false,
      effective: { ready: true },
    });
    expect(await stack.integrationSettings.resolve({ tenantId, userId: await subjectOf(alice) }, 'prometheus')).toEqual({
      url: 'http://prometheus.internal:9090',
      username: 'grafana',
      password: PROM_PASSWORD,
    });
  });

  it('deletes a scope and its sealed secret; a second DELETE is 404; the tenant settings take over again', async () => {
    const aliceId = await subjectOf(alice);
    const deleted = await stack.call('DELETE', '/api/v1/integrations/jira/config', { key: alice });
    expect(deleted.status).toBe(204);
    expect((await stack.call('DELETE', '/api/v1/integrations/jira/config', { key: alice })).status).toBe(404);
    expect((await stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).apiToken).toBe(JIRA_TOKEN);
    const sealed = await sql.query('SELECT path FROM sealed_secrets WHERE tenant_id = $1 AND path LIKE $2', [
      tenantId,
      'integrations/users/%/jira',
    ]);
    expect(sealed.rows).toEqual([]);

    expect((await stack.call('DELETE', '/api/v1/integrations/jira/config?scope=tenant')).status).toBe(204);
    await expect(stack.integrationSettings.resolve({ tenantId, userId: aliceId }, 'jira')).rejects.toBeInstanceOf(
      IntegrationNotConfiguredError,
    );
    expect(
      (await sql.query('SELECT 1 FROM sealed_secrets WHERE tenant_id = $1 AND path = $2', [tenantId, 'integrations/tenant/jira'])).rows,
    ).toEqual([]);
  });
});

describe('integration settings with Infisical as the secrets store', () => {
  const clientId = randomUUID();
  const clientSecret = `ua-${randomUUID()}`;
  const projectId = randomUUID();
  let fake: FakeInfisical;

  beforeAll(async () => {
    fake = await FakeInfisical.start({ clientId, clientSecret, projectId });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("keeps each scope's secrets in Infisical under the tenant's and the user's folders, nothing sealed in the database", async () => {
    const { secrets } = await openInfisicalSecrets({ siteUrl: fake.url, clientId, clientSecret, projectId, environment: 'prod' });
    const service = new IntegrationSettingsService({ settings: store.integrationSettings, secrets });
    const tenant = (await store.tenants.ensure('initech')).id;
    const user = 'jwt|user-42';
    const scope = { tenantId: tenant, userId: user };
    await service.put(scope, { tenantId: tenant, userId: null }, 'github', { token: 'ghp_tenant_token', defaultOwner: 'initech' }, 'admin');
    const view = await service.put(scope, scope, 'github', { token: 'ghp_user_token' }, user);
    expect(view).toMatchObject({ scope: 'user', settings: {}, secrets: { token: { configured: true } }, effective: { ready: true } });
    expect(await service.resolve(scope, 'github')).toEqual({
      token: 'ghp_user_token',
      baseUrl: 'https://api.github.com',
      defaultOwner: 'initech',
    });

    const root = `/infraai/tenants/${tenant.replaceAll('-', '')}/integrations`;
    expect(fake.secretsIn('prod', `${root}/tenant`).map((secret) => secret.secretKey)).toEqual(['github']);
    const [userSecret] = fake.secretsIn('prod', `${root}/users/jwt_7cuser-42`);
    expect(JSON.parse(JSON.parse(userSecret!.secretValue).value as string)).toEqual({ token: 'ghp_user_token' });
    expect((await sql.query('SELECT 1 FROM sealed_secrets WHERE tenant_id = $1', [tenant])).rows).toEqual([]);
    expect(JSON.stringify((await sql.query('SELECT * FROM integration_settings WHERE tenant_id = $1', [tenant])).rows)).not.toContain(
      'ghp_',
    );

    expect(await service.delete(scope, 'github')).toBe(true);
    expect(fake.secretsIn('prod', `${root}/users/jwt_7cuser-42`)).toEqual([]);
    expect((await service.resolve(scope, 'github')).token).toBe('ghp_tenant_token');

    // A value changed outside InfraAI is refused by name, without quoting it (JSON.parse would).
    await secrets.put(tenant, 'integrations/tenant/github', 'ghp_edited_by_hand');
    const error = await service.resolve(scope, 'github').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CorruptIntegrationSecretsError);
    expect(String((error as Error).message)).not.toContain('ghp_');
  });
});
