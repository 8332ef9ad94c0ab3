import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CmdbItemInput, Store } from '../../adapters/store/port.js';
import { DuplicateKeyError, InvalidCursorError } from '../../adapters/store/port.js';
import type { RunEventInput, RunProjectionWrite } from '../../core/contracts/run-events.js';
import { AUTOMATION_STATUSES } from '../../core/contracts/automation.js';
import { INCIDENT_STATUSES } from '../../core/incident.js';
import { describeChatContract } from './chat-contract.js';
import { describePolicyContract } from './policy-contract.js';
import { describeProvisioningContract } from './provisioning-contract.js';

// One contract for the store port: every adapter (PGlite, PostgreSQL, Supabase) must pass it.

let counter = 0;
const slug = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}`;

export const cmdbInput = (tagId: string, extra: Partial<CmdbItemInput> = {}): CmdbItemInput => ({
  tagId,
  instanceId: `i-${tagId}`,
  hostname: `${tagId}.example.internal`,
  address: '10.0.0.1',
  port: 22,
  environment: 'production',
  owner: 'sre',
  os: 'linux',
  serviceManager: 'systemd',
  sshUser: 'ops',
  sshCredential: 'ops-key',
  description: null,
  tags: {},
  ...extra,
});

export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    const newIncident = (
      tenantId: string,
      extra: { tagId?: string; severity?: 'low' | 'high' | 'critical'; idempotencyKey?: string } = {},
    ) =>
      store.incidents.create(tenantId, {
        id: randomUUID(),
        title: 'disk full',
        description: '/var at 100%',
        severity: extra.severity ?? 'high',
        tagId: extra.tagId ?? 'web-01',
        source: 'test',
        createdBy: 'contract',
        idempotencyKey: extra.idempotencyKey,
      });

    describe('self-healing policies', () => describePolicyContract(() => store));
    describe('chat', () => describeChatContract(() => store));
    describe('provisioning', () => describeProvisioningContract(() => store));

    it('pings', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('ensures tenants idempotently, also concurrently', async () => {
      const s = slug('t');
      const ids = await Promise.all(Array.from({ length: 10 }, () => store.tenants.ensure(s, 'Tenant')));
      expect(new Set(ids.map((t) => t.id)).size).toBe(1);
      expect(ids[0]).toMatchObject({ slug: s, name: 'Tenant' });
      expect(await store.tenants.getBySlug(s)).toMatchObject({ id: ids[0]!.id });
      expect(await store.tenants.getById(ids[0]!.id)).toMatchObject({ slug: s });
      expect(await store.tenants.getById(randomUUID())).toBeNull();
      expect(await store.tenants.getById('not-a-uuid')).toBeNull();
    });

    it('stores API keys by prefix: upsert, find, touch, revoke, list', async () => {
      const tenant = await store.tenants.ensure(slug('keys'));
      const prefix = randomUUID().replace(/-/g, '').slice(0, 16);
      const first = await store.apiKeys.create({ tenantId: tenant.id, name: 'ci', role: 'operator', prefix, hash: 'a'.repeat(64) });
      expect(first).toMatchObject({ tenantId: tenant.id, role: 'operator', revokedAt: null, lastUsedAt: null });
      expect(await store.apiKeys.revoke(tenant.id, first.id)).toBe(true);
      expect(await store.apiKeys.revoke(tenant.id, first.id)).toBe(false);
      expect((await store.apiKeys.findByPrefix(prefix))?.revokedAt).not.toBeNull();
      const again = await store.apiKeys.create({ tenantId: tenant.id, name: 'bootstrap', role: 'admin', prefix, hash: 'b'.repeat(64) });
      expect(again).toMatchObject({ id: first.id, name: 'bootstrap', role: 'admin', hash: 'b'.repeat(64), revokedAt: null });
      await store.apiKeys.touch(first.id);
      expect((await store.apiKeys.findByPrefix(prefix))?.lastUsedAt).not.toBeNull();
      expect((await store.apiKeys.list(tenant.id)).map((k) => k.id)).toEqual([first.id]);
      const other = await store.tenants.ensure(slug('keys-other'));
      expect(await store.apiKeys.list(other.id)).toEqual([]);
      expect(await store.apiKeys.revoke(other.id, first.id)).toBe(false);
      expect(await store.apiKeys.findByPrefix('0000000000000000')).toBeNull();
    });

    it('creates, reads, replaces and deletes CMDB items; duplicates are refused', async () => {
      const tenant = await store.tenants.ensure(slug('cmdb'));
      const created = await store.cmdb.create(tenant.id, cmdbInput('web-01', { tags: { team: 'web' }, port: 2222 }));
      expect(created).toMatchObject({ tenantId: tenant.id, tagId: 'web-01', port: 2222, tags: { team: 'web' }, description: null });
      expect(Date.parse(created.createdAt)).not.toBeNaN();
      await expect(store.cmdb.create(tenant.id, cmdbInput('web-01'))).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await store.cmdb.get(tenant.id, 'web-01')).toEqual(created);
      expect((await store.cmdb.getByInstanceId(tenant.id, 'i-web-01'))?.tagId).toBe('web-01');
      const replaced = await store.cmdb.replace(tenant.id, 'web-01', {
        ...cmdbInput('ignored'),
        hostname: 'web-01b.example.internal',
        tags: {},
        owner: null,
      });
      expect(replaced).toMatchObject({ tagId: 'web-01', hostname: 'web-01b.example.internal', owner: null, tags: {}, port: 22 });
      expect(Date.parse(replaced!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      expect(await store.cmdb.replace(tenant.id, 'missing', cmdbInput('missing'))).toBeNull();
      expect(await store.cmdb.delete(tenant.id, 'web-01')).toBe(true);
      expect(await store.cmdb.delete(tenant.id, 'web-01')).toBe(false);
      expect(await store.cmdb.get(tenant.id, 'web-01')).toBeNull();
    });

    it('filters CMDB lists and pages them with cursors without gaps or repeats', async () => {
      const tenant = await store.tenants.ensure(slug('cmdb-list'));
      for (let i = 0; i < 23; i += 1) {
        await store.cmdb.create(
          tenant.id,
          cmdbInput(`host-${String(i).padStart(2, '0')}`, {
            environment: i % 2 ? 'staging' : 'production',
            owner: i % 3 ? 'team-a' : 'team-b',
            tags: { rack: `r${i % 4}`, role: i < 5 ? 'db' : 'web' },
            description: i === 7 ? 'has 100%_literal marker' : null,
          }),
        );
      }
      const all: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.cmdb.list(tenant.id, {}, { limit: 5, cursor });
        all.push(...page.items.map((i) => i.tagId));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(all).toHaveLength(23);
      expect(new Set(all).size).toBe(23);
      expect(all).toEqual([...all].sort());
      const list = async (filter: Parameters<Store['cmdb']['list']>[1]) =>
        (await store.cmdb.list(tenant.id, filter, { limit: 100 })).items.map((i) => i.tagId);
      expect(await list({ environment: 'staging' })).toHaveLength(11);
      expect(await list({ owner: 'team-b' })).toHaveLength(8);
      expect(await list({ hostname: 'host-04.example.internal' })).toEqual(['host-04']);
      expect(await list({ instanceId: 'i-host-09' })).toEqual(['host-09']);
      expect(await list({ tags: { rack: 'r1', role: 'db' } })).toEqual(['host-01']);
      expect(await list({ q: 'HOST-1' })).toHaveLength(10);
      expect(await list({ q: '100%_lit' })).toEqual(['host-07']);
      expect(await list({ q: '%' })).toEqual(['host-07']);
      expect(await list({ q: 'st-0_' })).toEqual([]);
      await expect(store.cmdb.list(tenant.id, {}, { limit: 5, cursor: 'garbage!' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('numbers incidents per tenant, sequentially and under concurrency', async () => {
      const a = await store.tenants.ensure(slug('inc-a'));
      const b = await store.tenants.ensure(slug('inc-b'));
      expect((await newIncident(a.id)).incident.number).toBe(1);
      expect((await newIncident(a.id)).incident.number).toBe(2);
      expect((await newIncident(b.id)).incident.number).toBe(1);
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => newIncident(b.id)));
      expect(concurrent.map((r) => r.incident.number).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
      const first = concurrent[0]!.incident;
      expect(first).toMatchObject({
        tenantId: b.id,
        status: 'open',
        workflowId: `incident-${first.id}`,
        resolvedAt: null,
        targetHost: null,
      });
      expect(await store.incidents.getByNumber(b.id, first.number)).toMatchObject({ id: first.id });
    });

    it('returns the first incident for a repeated idempotency key, also under concurrency', async () => {
      const tenant = await store.tenants.ensure(slug('idem'));
      const one = await newIncident(tenant.id, { idempotencyKey: 'evt-1' });
      const two = await newIncident(tenant.id, { idempotencyKey: 'evt-1' });
      expect(one.created).toBe(true);
      expect(two).toMatchObject({ created: false, incident: { id: one.incident.id } });
      const racing = await Promise.all(Array.from({ length: 5 }, () => newIncident(tenant.id, { idempotencyKey: 'evt-2' })));
      expect(racing.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(racing.map((r) => r.incident.id)).size).toBe(1);
      const other = await store.tenants.ensure(slug('idem-other'));
      expect((await newIncident(other.id, { idempotencyKey: 'evt-1' })).created).toBe(true);
    });

    it('lists incidents newest first with filters and stable cursors', async () => {
      const tenant = await store.tenants.ensure(slug('inc-list'));
      const ids: string[] = [];
      for (let i = 0; i < 25; i += 1) {
        const { incident } = await newIncident(tenant.id, {
          tagId: i % 5 === 0 ? 'db-01' : 'web-01',
          severity: i % 2 ? 'low' : 'critical',
        });
        ids.push(incident.id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await store.incidents.list(tenant.id, {}, { limit: 7, cursor });
        seen.push(...page.items.map((i) => i.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual([...ids].reverse());
      expect((await store.incidents.list(tenant.id, { tagId: 'db-01' }, { limit: 100 })).items).toHaveLength(5);
      expect((await store.incidents.list(tenant.id, { severity: 'low' }, { limit: 100 })).items).toHaveLength(12);
      await store.incidents.update(tenant.id, ids[3]!, { status: 'escalated' });
      expect((await store.incidents.list(tenant.id, { status: 'escalated' }, { limit: 100 })).items.map((i) => i.id)).toEqual([ids[3]]);
      await expect(store.incidents.list(tenant.id, {}, { limit: 5, cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('updates status, target and summary; terminal statuses set resolvedAt', async () => {
      const tenant = await store.tenants.ensure(slug('upd'));
      const { incident } = await newIncident(tenant.id);
      const investigating = await store.incidents.update(tenant.id, incident.id, {
        status: 'investigating',
        targetHost: 'web-01.example.internal',
      });
      expect(investigating).toMatchObject({ status: 'investigating', targetHost: 'web-01.example.internal', resolvedAt: null });
      expect(Date.parse(investigating!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(incident.updatedAt));
      const escalated = await store.incidents.update(tenant.id, incident.id, { status: 'escalated', summary: 'handed over' });
      expect(escalated).toMatchObject({ status: 'escalated', summary: 'handed over', targetHost: 'web-01.example.internal' });
      expect(escalated!.resolvedAt).not.toBeNull();
      expect(await store.incidents.update(tenant.id, randomUUID(), { status: 'failed' })).toBeNull();
      expect(await store.incidents.delete(tenant.id, incident.id)).toBe(true);
      expect(await store.incidents.get(tenant.id, incident.id)).toBeNull();
    });

    it('counts incidents by status across tenants', async () => {
      // Other cases in this file add incidents too: compare with the counts before this one's.
      const before = await store.incidents.countByStatus();
      expect(Object.keys(before).sort()).toEqual([...INCIDENT_STATUSES].sort());
      const [a, b] = [await store.tenants.ensure(slug('count')), await store.tenants.ensure(slug('count'))];
      await newIncident(a.id);
      const waiting = (await newIncident(b.id)).incident;
      const ended = (await newIncident(b.id)).incident;
      await store.incidents.update(b.id, waiting.id, { status: 'awaiting_approval' });
      await store.incidents.update(b.id, ended.id, { status: 'resolved' });
      const after = await store.incidents.countByStatus();
      const delta = Object.fromEntries(INCIDENT_STATUSES.map((status) => [status, after[status] - before[status]]));
      expect(delta).toEqual({
        ...Object.fromEntries(INCIDENT_STATUSES.map((status) => [status, 0])),
        open: 1,
        awaiting_approval: 1,
        resolved: 1,
      });
    });

    it('writes results and job logs once per idempotency key', async () => {
      const tenant = await store.tenants.ensure(slug('res'));
      const { incident } = await newIncident(tenant.id);
      const first = await store.results.write(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: 'k1',
        status: 'escalated',
        summary: 'first',
        details: { a: 1 },
      });
      const repeat = await store.results.write(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: 'k1',
        status: 'resolved',
        summary: 'second',
        details: {},
      });
      expect(repeat).toEqual(first);
      expect(first).toMatchObject({ incidentId: incident.id, incidentNumber: incident.number, summary: 'first', details: { a: 1 } });
      expect(await store.results.listForIncident(tenant.id, incident.id)).toHaveLength(1);

      // A caller may name the row (storeResult tells its first write from a repeat by it); a repeat keeps the first id.
      const named = await store.results.write(tenant.id, {
        id: '6f1d3c2a-9b7e-4d5f-8a1c-2e3f4a5b6c7d',
        incidentId: incident.id,
        idempotencyKey: 'k2',
        status: 'resolved',
        summary: 'named',
        details: {},
      });
      expect(named.id).toBe('6f1d3c2a-9b7e-4d5f-8a1c-2e3f4a5b6c7d');
      const namedAgain = await store.results.write(tenant.id, {
        id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        incidentId: incident.id,
        idempotencyKey: 'k2',
        status: 'resolved',
        summary: 'named again',
        details: {},
      });
      expect(namedAgain).toEqual(named);
      expect((await store.results.listForIncident(tenant.id, incident.id)).map((r) => r.summary)).toEqual(['first', 'named']);

      const log1 = await store.jobLogs.append(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: 'j1',
        action: 'a',
        target: 't',
        status: 'succeeded',
        detail: { n: 1 },
      });
      const log1again = await store.jobLogs.append(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: 'j1',
        action: 'a',
        target: 't',
        status: 'failed',
        detail: {},
      });
      const log2 = await store.jobLogs.append(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: 'j2',
        action: 'b',
        target: 't',
        status: 'succeeded',
        detail: {},
      });
      expect([log1.created, log1again.created, log2.created]).toEqual([true, false, true]);
      expect(log1again.log).toEqual(log1.log);
      expect((await store.jobLogs.listForIncident(tenant.id, incident.id)).map((l) => l.action)).toEqual(['a', 'b']);
    });

    it('never lets one tenant read or change another tenant’s rows', async () => {
      const a = await store.tenants.ensure(slug('iso-a'));
      const b = await store.tenants.ensure(slug('iso-b'));
      await store.cmdb.create(a.id, cmdbInput('secret-host'));
      const { incident } = await newIncident(a.id);
      await store.results.write(a.id, { incidentId: incident.id, idempotencyKey: 'iso', status: 'escalated', summary: 's', details: {} });
      await store.jobLogs.append(a.id, {
        incidentId: incident.id,
        idempotencyKey: 'iso',
        action: 'x',
        target: 'y',
        status: 'succeeded',
        detail: {},
      });

      expect(await store.cmdb.get(b.id, 'secret-host')).toBeNull();
      expect((await store.cmdb.list(b.id, {}, { limit: 100 })).items).toEqual([]);
      expect(await store.cmdb.replace(b.id, 'secret-host', cmdbInput('x'))).toBeNull();
      expect(await store.cmdb.delete(b.id, 'secret-host')).toBe(false);
      expect(await store.incidents.get(b.id, incident.id)).toBeNull();
      expect(await store.incidents.getByNumber(b.id, incident.number)).toBeNull();
      expect((await store.incidents.list(b.id, {}, { limit: 100 })).items).toEqual([]);
      expect(await store.incidents.update(b.id, incident.id, { status: 'cancelled' })).toBeNull();
      expect(await store.incidents.delete(b.id, incident.id)).toBe(false);
      expect(await store.results.listForIncident(b.id, incident.id)).toEqual([]);
      expect(await store.jobLogs.listForIncident(b.id, incident.id)).toEqual([]);
      await expect(
        store.results.write(b.id, { incidentId: incident.id, idempotencyKey: 'iso-b', status: 'failed', summary: 'x', details: {} }),
      ).rejects.toThrow();
      expect((await store.cmdb.get(a.id, 'secret-host'))?.tagId).toBe('secret-host');
      expect((await store.incidents.get(a.id, incident.id))?.status).toBe('open');
    });

    it('stores knowledge documents with their chunks, idempotent by content, scoped by tenant', async () => {
      const a = await store.tenants.ensure(slug('kb-a'));
      const b = await store.tenants.ensure(slug('kb-b'));
      const hash = randomUUID();
      const input = (tenantId: string | null, contentHash: string = hash) => ({
        id: randomUUID(),
        tenantId,
        title: 'Payments SOP',
        kind: 'sop' as const,
        source: 'payments.md',
        contentType: 'text/markdown',
        contentHash,
        sizeBytes: 120,
        chunks: [
          { index: 0, section: 'Payments', text: 'restart the ledger' },
          { index: 1, section: 'Payments > DB', text: 'fail over the replica' },
        ],
      });
      const before = await store.knowledge.revision();
      const first = await store.knowledge.addDocument(input(a.id));
      expect(first).toMatchObject({ created: true, document: { tenantId: a.id, chunkCount: 2, kind: 'sop' } });
      expect(await store.knowledge.revision()).not.toBe(before);
      const again = await store.knowledge.addDocument(input(a.id));
      expect(again).toMatchObject({ created: false, document: { id: first.document.id } });
      expect((await store.knowledge.addDocument(input(b.id))).created).toBe(true);
      const global = await store.knowledge.addDocument(input(null, randomUUID()));
      expect((await store.knowledge.addDocument({ ...input(null, global.document.contentHash) })).created).toBe(false);

      expect((await store.knowledge.listDocuments(a.id)).map((d) => d.id)).toEqual([first.document.id]);
      expect((await store.knowledge.listDocuments(a.id, { includeGlobal: true })).map((d) => d.id)).toContain(global.document.id);
      expect(await store.knowledge.getDocument(b.id, first.document.id)).toBeNull();
      expect((await store.knowledge.findDocumentByHash(a.id, hash))?.id).toBe(first.document.id);
      expect(await store.knowledge.findDocumentByHash(null, hash)).toBeNull();
      expect((await store.knowledge.findDocumentByHash(null, global.document.contentHash))?.id).toBe(global.document.id);
      const chunks = (await store.knowledge.allChunks()).filter((c) => c.docId === first.document.id);
      expect(chunks.map((c) => [c.index, c.section, c.title, c.kind, c.tenantId])).toEqual([
        [0, 'Payments', 'Payments SOP', 'sop', a.id],
        [1, 'Payments > DB', 'Payments SOP', 'sop', a.id],
      ]);
      expect(await store.knowledge.deleteDocument(b.id, first.document.id)).toBe(false);
      const beforeDelete = await store.knowledge.revision();
      expect(await store.knowledge.deleteDocument(a.id, first.document.id)).toBe(true);
      expect(await store.knowledge.revision()).not.toBe(beforeDelete);
      expect((await store.knowledge.allChunks()).some((c) => c.docId === first.document.id)).toBe(false);
      expect(await store.knowledge.deleteDocument(null, global.document.id)).toBe(true);
    });

    it('keeps integration settings per tenant and per user: upsert keeps createdAt, lists the tenant row and one user row', async () => {
      const a = await store.tenants.ensure(slug('integ-a'));
      const b = await store.tenants.ensure(slug('integ-b'));
      const tenantWide = {
        tenantId: a.id,
        userId: null,
        integration: 'jira',
        settings: { baseUrl: 'https://acme.atlassian.net', defaultProject: 'OPS' },
        secretFields: [],
        updatedBy: 'api-key:admin',
      };
      const created = await store.integrationSettings.put(tenantWide);
      expect(created).toMatchObject({ ...tenantWide, createdAt: expect.any(String), updatedAt: expect.any(String) });
      const alice = await store.integrationSettings.put({
        tenantId: a.id,
        userId: 'api-key:alice',
        integration: 'jira',
        settings: { email: 'alice@example.com' },
        secretFields: ['apiToken'],
        updatedBy: 'api-key:alice',
      });
      expect(alice).toMatchObject({ userId: 'api-key:alice', secretFields: ['apiToken'] });
      await store.integrationSettings.put({ ...tenantWide, userId: 'api-key:bob', settings: { email: 'bob@example.com' } });
      await store.integrationSettings.put({ ...tenantWide, integration: 'github', settings: { defaultOwner: 'acme' } });
      await store.integrationSettings.put({ ...tenantWide, tenantId: b.id, settings: { baseUrl: 'https://other.atlassian.net' } });

      // Replaced in place: the settings and secret fields are the new ones, createdAt the first.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const replaced = await store.integrationSettings.put({ ...tenantWide, settings: { baseUrl: 'https://acme2.atlassian.net' } });
      expect(replaced.createdAt).toBe(created.createdAt);
      expect(Date.parse(replaced.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect((await store.integrationSettings.get(a.id, null, 'jira'))?.settings).toEqual({ baseUrl: 'https://acme2.atlassian.net' });
      expect((await store.integrationSettings.get(a.id, 'api-key:alice', 'jira'))?.settings).toEqual({ email: 'alice@example.com' });
      expect(await store.integrationSettings.get(a.id, 'api-key:carol', 'jira')).toBeNull();

      const mine = await store.integrationSettings.listFor(a.id, 'api-key:alice');
      expect(mine.map((row) => `${row.integration}:${row.userId ?? 'tenant'}`)).toEqual([
        'github:tenant',
        'jira:tenant',
        'jira:api-key:alice',
      ]);
      expect((await store.integrationSettings.listFor(a.id, 'api-key:alice', 'jira')).map((row) => row.userId)).toEqual([
        null,
        'api-key:alice',
      ]);
      expect((await store.integrationSettings.listFor(b.id, 'api-key:alice')).map((row) => row.settings)).toEqual([
        { baseUrl: 'https://other.atlassian.net' },
      ]);

      expect(await store.integrationSettings.delete(a.id, 'api-key:alice', 'jira')).toBe(true);
      expect(await store.integrationSettings.delete(a.id, 'api-key:alice', 'jira')).toBe(false);
      expect(await store.integrationSettings.get(a.id, null, 'jira')).not.toBeNull();
      expect(await store.integrationSettings.delete(a.id, null, 'jira')).toBe(true);
      expect(await store.integrationSettings.get(a.id, 'api-key:bob', 'jira')).not.toBeNull();
    });

    it('keeps sealed secrets by tenant and path, replacing on put', async () => {
      const a = await store.tenants.ensure(slug('sealed-a'));
      const b = await store.tenants.ensure(slug('sealed-b'));
      expect(await store.sealedSecrets.put(a.id, 'integrations/tenant/github', 'v1:first')).toMatchObject({
        tenantId: a.id,
        path: 'integrations/tenant/github',
        ciphertext: 'v1:first',
      });
      await store.sealedSecrets.put(b.id, 'integrations/tenant/github', 'v1:other');
      await store.sealedSecrets.put(a.id, 'integrations/tenant/github', 'v1:second');
      expect((await store.sealedSecrets.get(a.id, 'integrations/tenant/github'))?.ciphertext).toBe('v1:second');
      expect((await store.sealedSecrets.get(b.id, 'integrations/tenant/github'))?.ciphertext).toBe('v1:other');
      expect(await store.sealedSecrets.get(a.id, 'integrations/tenant/jira')).toBeNull();
      expect(await store.sealedSecrets.delete(a.id, 'integrations/tenant/github')).toBe(true);
      expect(await store.sealedSecrets.delete(a.id, 'integrations/tenant/github')).toBe(false);
      expect(await store.sealedSecrets.get(b.id, 'integrations/tenant/github')).not.toBeNull();
    });

    it('keeps SSH credentials (ciphertext only) and trusted host keys per tenant', async () => {
      const a = await store.tenants.ensure(slug('cred-a'));
      const b = await store.tenants.ensure(slug('cred-b'));
      const input = {
        tenantId: a.id,
        name: 'lab',
        username: 'root',
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:abc',
        ciphertext: 'v1:sealed',
      };
      expect(await store.credentials.insert(input)).toMatchObject({ name: 'lab', fingerprint: 'SHA256:abc', ciphertext: 'v1:sealed' });
      await expect(store.credentials.insert(input)).rejects.toBeInstanceOf(DuplicateKeyError);
      await store.credentials.insert({ ...input, tenantId: b.id, ciphertext: 'v1:other' });
      expect((await store.credentials.get(a.id, 'lab'))?.ciphertext).toBe('v1:sealed');
      expect((await store.credentials.list(b.id)).map((c) => c.ciphertext)).toEqual(['v1:other']);
      expect(await store.credentials.delete(a.id, 'lab')).toBe(true);
      expect(await store.credentials.delete(a.id, 'lab')).toBe(false);
      expect(await store.credentials.get(a.id, 'lab')).toBeNull();
      expect(await store.credentials.get(b.id, 'lab')).not.toBeNull();

      const first = await store.hostKeys.trustOnFirstUse({
        tenantId: a.id,
        host: '10.77.1.2',
        port: 22,
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:first',
      });
      expect(first.fingerprint).toBe('SHA256:first');
      // A different key later does not replace the trusted one: the caller sees the mismatch.
      expect(
        (
          await store.hostKeys.trustOnFirstUse({
            tenantId: a.id,
            host: '10.77.1.2',
            port: 22,
            keyType: 'ssh-ed25519',
            fingerprint: 'SHA256:evil',
          })
        ).fingerprint,
      ).toBe('SHA256:first');
      expect(await store.hostKeys.get(b.id, '10.77.1.2', 22)).toBeNull();
      expect((await store.hostKeys.list(a.id)).map((k) => `${k.host}:${k.port}`)).toEqual(['10.77.1.2:22']);
      expect(await store.hostKeys.forget(a.id, '10.77.1.2', 22)).toBe(true);
      expect(await store.hostKeys.get(a.id, '10.77.1.2', 22)).toBeNull();
    });

    it('keeps automation runs: numbered per tenant, idempotent, filtered and paged, scoped by tenant', async () => {
      const a = await store.tenants.ensure(slug('auto-a'));
      const b = await store.tenants.ensure(slug('auto-b'));
      const countsBefore = await store.automation.countByStatus();
      const create = (tenantId: string, targets: string[], idempotencyKey?: string) =>
        store.automation.create(tenantId, {
          id: randomUUID(),
          request: 'install nginx',
          targets,
          checkMode: false,
          createdBy: 'contract',
          idempotencyKey,
        });
      const first = await create(a.id, ['web-01'], 'click-1');
      expect(first).toMatchObject({ created: true, run: { number: 1, status: 'queued', targets: ['web-01'], findings: [], logLines: 0 } });
      expect(first.run.workflowId).toBe(`automation-${first.run.id}`);
      // A double click: one run; concurrent repeats too.
      const repeats = await Promise.all([create(a.id, ['web-01'], 'click-1'), create(a.id, ['web-01'], 'click-1')]);
      expect(repeats.map((r) => [r.created, r.run.id])).toEqual([
        [false, first.run.id],
        [false, first.run.id],
      ]);
      const second = await create(a.id, ['web-01', 'db-01']);
      const third = await create(a.id, ['db-01']);
      // Increasing; a number may be skipped where a repeated key raced the first insert.
      expect(second.run.number).toBeGreaterThan(first.run.number);
      expect(third.run.number).toBe(second.run.number + 1);
      expect((await create(b.id, ['web-01'])).run.number).toBe(1);

      expect(await store.automation.get(b.id, first.run.id)).toBeNull();
      expect(await store.automation.update(b.id, first.run.id, { status: 'failed' })).toBeNull();
      const updated = await store.automation.update(a.id, second.run.id, {
        status: 'invalid',
        findings: [{ check: 'module-allowlist', task: 'play[0].tasks[0] x', message: 'shell is not allowed' }],
        artifactsHash: 'f'.repeat(64),
        approval: null,
        progress: { tasksDone: 1, tasksTotal: 2, currentTask: 'x', events: 4 },
      });
      expect(updated).toMatchObject({ status: 'invalid', artifactsHash: 'f'.repeat(64), progress: { tasksDone: 1 } });
      expect(updated?.findings).toHaveLength(1);
      expect(updated?.finishedAt).not.toBeNull();

      const byTarget = await store.automation.list(a.id, { target: 'db-01' }, { limit: 10 });
      expect(byTarget.items.map((r) => r.id)).toEqual([third.run.id, second.run.id]);
      expect((await store.automation.list(a.id, { status: 'invalid' }, { limit: 10 })).items.map((r) => r.id)).toEqual([second.run.id]);
      const page1 = await store.automation.list(a.id, {}, { limit: 2 });
      expect(page1.items.map((r) => r.id)).toEqual([third.run.id, second.run.id]);
      const page2 = await store.automation.list(a.id, {}, { limit: 2, cursor: page1.nextCursor! });
      expect(page2).toMatchObject({ nextCursor: null });
      expect(page2.items.map((r) => r.id)).toEqual([first.run.id]);
      await expect(store.automation.list(a.id, {}, { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);

      // The log: lines numbered from 1, a retried store adds nothing, pages read after a line.
      const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
      expect(await store.automation.appendLog(a.id, first.run.id, 1, lines.slice(0, 20))).toBe(20);
      expect(await store.automation.appendLog(a.id, first.run.id, 11, lines.slice(10))).toBe(25);
      expect(await store.automation.appendLog(b.id, first.run.id, 1, ['intruder'])).toBe(0);
      const log = await store.automation.readLog(a.id, first.run.id, 20, 3);
      expect(log).toEqual({
        total: 25,
        lines: [
          { n: 21, text: 'line 21' },
          { n: 22, text: 'line 22' },
          { n: 23, text: 'line 23' },
        ],
      });
      expect((await store.automation.readLog(b.id, first.run.id, 0, 10)).lines).toEqual([]);
      // A retried attempt rewrites line numbers already stored (with whatever it has): the first text stays.
      expect(await store.automation.appendLog(a.id, first.run.id, 24, ['rewritten 24', 'rewritten 25', 'line 26'])).toBe(26);
      expect((await store.automation.readLog(a.id, first.run.id, 23, 10)).lines).toEqual([
        { n: 24, text: 'line 24' },
        { n: 25, text: 'line 25' },
        { n: 26, text: 'line 26' },
      ]);

      // The projection's status is mirrored onto the row, and a final status is kept.
      const project = (version: number, status: string, ended = false) =>
        store.runs.project({
          tenantId: a.id,
          family: 'automation',
          runId: third.run.id,
          workflowId: third.run.workflowId,
          version,
          status,
          ended,
          state: {},
          events: [{ seq: version, type: 'status.changed', at: new Date().toISOString(), data: { status } }],
        });
      await project(1, 'generating');
      expect((await store.automation.get(a.id, third.run.id))?.status).toBe('generating');
      await store.automation.update(a.id, third.run.id, { status: 'succeeded' });
      await project(2, 'running');
      expect((await store.automation.get(a.id, third.run.id))?.status).toBe('succeeded');

      expect(await store.automation.delete(b.id, third.run.id)).toBe(false);
      expect(await store.automation.delete(a.id, third.run.id)).toBe(true);
      expect(await store.automation.get(a.id, third.run.id)).toBeNull();

      // Counts by status across tenants, every status present (the metrics' gauges).
      const counts = await store.automation.countByStatus();
      expect(Object.keys(counts).sort()).toEqual([...AUTOMATION_STATUSES].sort());
      expect(counts.queued - countsBefore.queued).toBe(2);
      expect(counts.invalid - countsBefore.invalid).toBe(1);
      expect(counts.succeeded - countsBefore.succeeded).toBe(0);
    });

    it('keeps a trusted host key’s public key, and fills it in for a key recorded without one', async () => {
      const t = await store.tenants.ensure(slug('hostkey-pub'));
      const key = { tenantId: t.id, host: '10.77.1.9', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:k1' };
      expect((await store.hostKeys.trustOnFirstUse(key)).publicKey ?? null).toBeNull();
      // Another key presented later does not write its public key onto the trusted record.
      await store.hostKeys.trustOnFirstUse({ ...key, fingerprint: 'SHA256:evil', publicKey: 'RVZJTA==' });
      expect((await store.hostKeys.get(t.id, key.host, 22))?.publicKey ?? null).toBeNull();
      expect((await store.hostKeys.trustOnFirstUse({ ...key, publicKey: 'QUFBQQ==' })).publicKey).toBe('QUFBQQ==');
      expect((await store.hostKeys.list(t.id))[0]).toMatchObject({ fingerprint: 'SHA256:k1', publicKey: 'QUFBQQ==' });
    });

    it('leases a host to one remediation at a time and caps a tenant’s concurrent remediations', async () => {
      const t = await store.tenants.ensure(slug('lease'));
      const first = await store.leases.acquire({ tenantId: t.id, host: 'h1', holder: 'wf-a', ttlMs: 60_000, maxPerTenant: 2 });
      expect(first.acquired).toBe(true);
      expect(await store.leases.acquire({ tenantId: t.id, host: 'h1', holder: 'wf-b', ttlMs: 60_000, maxPerTenant: 2 })).toEqual({
        acquired: false,
        reason: 'host-busy',
        holder: 'wf-a',
      });
      // The holder renews its own lease.
      expect((await store.leases.acquire({ tenantId: t.id, host: 'h1', holder: 'wf-a', ttlMs: 60_000, maxPerTenant: 2 })).acquired).toBe(
        true,
      );
      expect((await store.leases.acquire({ tenantId: t.id, host: 'h2', holder: 'wf-c', ttlMs: 60_000, maxPerTenant: 2 })).acquired).toBe(
        true,
      );
      expect(await store.leases.acquire({ tenantId: t.id, host: 'h3', holder: 'wf-d', ttlMs: 60_000, maxPerTenant: 2 })).toEqual({
        acquired: false,
        reason: 'tenant-cap',
        holder: null,
      });
      expect((await store.leases.list(t.id)).map((l) => [l.host, l.holder])).toEqual([
        ['h1', 'wf-a'],
        ['h2', 'wf-c'],
      ]);
      expect(await store.leases.release(t.id, 'h1', 'wf-b')).toBe(false);
      expect(await store.leases.release(t.id, 'h1', 'wf-a')).toBe(true);
      expect((await store.leases.acquire({ tenantId: t.id, host: 'h1', holder: 'wf-b', ttlMs: 1, maxPerTenant: 2 })).acquired).toBe(true);
      // An expired lease (a run that was terminated) does not hold the host.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.leases.acquire({ tenantId: t.id, host: 'h1', holder: 'wf-e', ttlMs: 60_000, maxPerTenant: 2 })).acquired).toBe(
        true,
      );
      await store.leases.release(t.id, 'h1', 'wf-e');
      await store.leases.release(t.id, 'h2', 'wf-c');
    });

    it('projects runs idempotently and in version order, numbering events per run and per tenant', async () => {
      const tenant = await store.tenants.ensure(slug('runs'));
      const other = await store.tenants.ensure(slug('runs-other'));
      const runId = randomUUID();
      const event = (seq: number, type: RunEventInput['type'] = 'step.started'): RunEventInput => ({
        seq,
        type,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
        data: { n: seq, text: 'ünïcödé "quoted"' },
      });
      const write = (version: number, events: RunEventInput[], extra: Partial<RunProjectionWrite> = {}): RunProjectionWrite => ({
        tenantId: tenant.id,
        family: 'incident',
        runId,
        workflowId: `incident-${runId}`,
        version,
        status: 'investigating',
        ended: false,
        state: { version, nested: { list: [1, 2, 3] } },
        events,
        ...extra,
      });
      expect(await store.runs.get(tenant.id, 'incident', runId)).toBeNull();
      expect(await store.runs.latestTenantSeq(tenant.id)).toBe(0);

      expect(await store.runs.project(write(2, [event(1, 'status.changed'), event(2)]))).toEqual({
        applied: true,
        version: 2,
        tenantSeq: 2,
      });
      // A repeated write (a retried activity) and a stale one change nothing.
      expect(await store.runs.project(write(2, [event(1), event(2)]))).toEqual({ applied: false, version: 2, tenantSeq: null });
      expect(await store.runs.project(write(1, [event(1)]))).toEqual({ applied: false, version: 2, tenantSeq: null });
      // A write carrying events the store already has appends only the new ones.
      expect(await store.runs.project(write(4, [event(2), event(3), event(4, 'run.ended')], { status: 'resolved', ended: true }))).toEqual({
        applied: true,
        version: 4,
        tenantSeq: 4,
      });
      const projection = await store.runs.get(tenant.id, 'incident', runId);
      expect(projection).toMatchObject({
        tenantId: tenant.id,
        family: 'incident',
        runId,
        workflowId: `incident-${runId}`,
        version: 4,
        status: 'resolved',
        ended: true,
        state: { version: 4, nested: { list: [1, 2, 3] } },
      });
      expect(Date.parse(projection!.updatedAt)).not.toBeNaN();

      const events = await store.runs.eventsOfRun(tenant.id, 'incident', runId, 0, 100);
      expect(events.map((e) => [e.seq, e.tenantSeq, e.type])).toEqual([
        [1, 1, 'status.changed'],
        [2, 2, 'step.started'],
        [3, 3, 'step.started'],
        [4, 4, 'run.ended'],
      ]);
      expect(events[0]).toEqual({ ...event(1, 'status.changed'), tenantId: tenant.id, family: 'incident', runId, tenantSeq: 1 });
      expect((await store.runs.eventsOfRun(tenant.id, 'incident', runId, 2, 1)).map((e) => e.seq)).toEqual([3]);
      expect((await store.runs.eventsOfTenant(tenant.id, 1, 2)).map((e) => e.tenantSeq)).toEqual([2, 3]);
      expect(await store.runs.latestTenantSeq(tenant.id)).toBe(4);

      // Another tenant neither sees these nor shares their numbering.
      expect(await store.runs.get(other.id, 'incident', runId)).toBeNull();
      expect(await store.runs.eventsOfRun(other.id, 'incident', runId, 0, 100)).toEqual([]);
      expect(await store.runs.eventsOfTenant(other.id, 0, 100)).toEqual([]);
      const otherRun = randomUUID();
      expect(
        await store.runs.project({ ...write(1, [event(1)]), tenantId: other.id, runId: otherRun, workflowId: `incident-${otherRun}` }),
      ).toEqual({ applied: true, version: 1, tenantSeq: 1 });
      expect(await store.runs.get(tenant.id, 'incident', 'not-a-run')).toBeNull();
    });

    it('numbers a tenant’s events without gaps or repeats when many runs write at once', async () => {
      const tenant = await store.tenants.ensure(slug('runs-concurrent'));
      const runs = Array.from({ length: 8 }, () => randomUUID());
      // Writes of one run are chained, as the workflow chains them; the runs race each other.
      await Promise.all(
        runs.map(async (runId) => {
          for (const version of [1, 2, 3]) {
            await store.runs.project({
              tenantId: tenant.id,
              family: 'incident',
              runId,
              workflowId: `incident-${runId}`,
              version: version * 2,
              status: 'investigating',
              ended: false,
              state: {},
              events: [version * 2 - 1, version * 2].map((seq) => ({
                seq,
                type: 'step.ended' as const,
                at: new Date().toISOString(),
                data: {},
              })),
            });
          }
        }),
      );
      const all = await store.runs.eventsOfTenant(tenant.id, 0, 1000);
      expect(all.map((e) => e.tenantSeq)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
      for (const runId of runs) expect(all.filter((e) => e.runId === runId).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await store.runs.latestTenantSeq(tenant.id)).toBe(48);
    });

    it('stages a large document, indexes it in batches invisibly, then makes it searchable; a failure can be restaged', async () => {
      const tenant = await store.tenants.ensure(slug('kb-stage'));
      const contentHash = randomUUID();
      const meta = {
        id: randomUUID(),
        tenantId: tenant.id,
        title: 'Big SOP',
        kind: 'sop' as const,
        source: 'big.md',
        contentType: 'text/markdown',
        contentHash,
        sizeBytes: 5000,
      };
      const before = await store.knowledge.revision();
      const staged = await store.knowledge.stageDocument(meta, 'the whole text');
      expect(staged).toMatchObject({
        created: true,
        document: { id: meta.id, status: 'ingesting', chunkCount: 0, chunksIndexed: 0, error: null },
      });
      expect(await store.knowledge.stageDocument({ ...meta, id: randomUUID() }, 'the whole text')).toMatchObject({
        created: false,
        document: { id: meta.id },
      });
      expect(await store.knowledge.stagedText(meta.id)).toBe('the whole text');
      expect(await store.knowledge.setChunkCount(meta.id, 3)).toBe(true);
      const batch = [
        { index: 0, section: 'A', text: 'zero', embedding: [1, 0] },
        { index: 1, section: 'B', text: 'one', embedding: [0, 1] },
      ];
      expect(await store.knowledge.putChunks(meta.id, batch, 'test-model')).toBe(true);
      // The same batch again (an activity retried after a crash) does not add rows.
      expect(await store.knowledge.putChunks(meta.id, batch, 'test-model')).toBe(true);
      expect(await store.knowledge.getDocument(tenant.id, meta.id)).toMatchObject({ status: 'ingesting', chunkCount: 3, chunksIndexed: 2 });
      expect((await store.knowledge.allChunks()).some((c) => c.docId === meta.id)).toBe(false);
      expect(await store.knowledge.revision()).toBe(before);
      expect(await store.knowledge.putChunks(meta.id, [{ index: 2, section: 'C', text: 'two', embedding: null }], null)).toBe(true);
      const ready = await store.knowledge.completeDocument(meta.id);
      expect(ready).toMatchObject({ status: 'ready', chunkCount: 3, chunksIndexed: 3 });
      expect(await store.knowledge.stagedText(meta.id)).toBeNull();
      expect((await store.knowledge.allChunks()).filter((c) => c.docId === meta.id).map((c) => [c.index, c.text, c.embedding])).toEqual([
        [0, 'zero', [1, 0]],
        [1, 'one', [0, 1]],
        [2, 'two', null],
      ]);
      expect(await store.knowledge.revision()).not.toBe(before);
      // A ready document takes no more chunks.
      expect(await store.knowledge.putChunks(meta.id, batch, null)).toBe(false);

      const failing = { ...meta, id: randomUUID(), contentHash: randomUUID() };
      await store.knowledge.stageDocument(failing, 'broken');
      await store.knowledge.putChunks(failing.id, batch, null);
      expect(await store.knowledge.failDocument(failing.id, 'embeddings endpoint refused')).toMatchObject({
        status: 'failed',
        error: 'embeddings endpoint refused',
        chunksIndexed: 0,
      });
      expect(await store.knowledge.stagedText(failing.id)).toBeNull();
      expect((await store.knowledge.allChunks()).some((c) => c.docId === failing.id)).toBe(false);
      const restaged = await store.knowledge.stageDocument({ ...failing, id: randomUUID() }, 'broken, retried');
      expect(restaged).toMatchObject({ created: true, document: { id: failing.id, status: 'ingesting', error: null } });
      expect(await store.knowledge.stagedText(failing.id)).toBe('broken, retried');
      expect(await store.knowledge.deleteDocument(tenant.id, failing.id)).toBe(true);
      expect(await store.knowledge.stagedText(failing.id)).toBeNull();
      expect(await store.knowledge.setChunkCount(failing.id, 1)).toBe(false);
      expect(await store.knowledge.putChunks(failing.id, batch, null)).toBe(false);
    });
  });
}
