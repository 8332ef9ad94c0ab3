import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { createStore } from '../../adapters/store/create.js';
import type { Role, Store } from '../../adapters/store/port.js';
import { chatRunStarters } from '../../api/run-starts.js';
import { createTemporalAutomationGateway, createTemporalIncidentGateway } from '../../api/temporal-gateway.js';
import type {
  AutomationRunData,
  CmdbLookupData,
  IncidentDetailData,
  IncidentsListData,
  KnowledgeSearchData,
  RemediationStartedData,
} from '../../core/chat/builtin-tools.js';
import type { IncidentRunProjectionState } from '../../core/contracts/incident.js';
import { MAX_CONTENT_CHARS } from '../../tools/builtin/shared.js';
import { createBuiltinTools } from '../../tools/builtin/index.js';
import { IntegrationNotConfiguredError } from '../../tools/integrations.js';
import { createToolRegistry, type ToolRegistry } from '../../tools/registry.js';
import { ToolRefusedError, toolCallHash, type ToolCaller, type ToolResult } from '../../tools/tool.js';
import { connectTestClient, uniqueTaskQueue } from '../support/temporal.js';

// The built-in chat tools through the registry, as the chat activities and the MCP server call
// them: over a real store (PGlite) and knowledge base, with the starters the wiring gives them
// starting real workflows on the test run's Temporal (on a task queue no worker polls, so a started
// run waits and the test sees exactly what the start did).

let dataDir: string;
let store: Store;
let knowledge: LocalKnowledgeBase;
let client: Client;
let connection: Connection;
let registry: ToolRegistry;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-tools-'));
  store = await createStore({ kind: 'pglite', dataDir });
  knowledge = new LocalKnowledgeBase(store, { embedder: null });
  ({ client, connection } = await connectTestClient());
  const taskQueue = uniqueTaskQueue('chat-tools');
  const starters = chatRunStarters({
    store,
    incidents: createTemporalIncidentGateway(client, { taskQueue }),
    automation: createTemporalAutomationGateway(client, { taskQueue }),
  });
  registry = createToolRegistry(createBuiltinTools({ store, knowledge, ...starters }));
});

afterAll(async () => {
  await connection?.close();
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function tenant(role: Role = 'operator'): Promise<ToolCaller> {
  const t = await store.tenants.ensure(`tools-${randomUUID().slice(0, 8)}`);
  return { tenantId: t.id, userId: 'api-key:tools-test', role };
}

async function addItem(caller: ToolCaller, tagId: string, extra: Partial<Parameters<Store['cmdb']['create']>[1]> = {}) {
  return store.cmdb.create(caller.tenantId, {
    tagId,
    instanceId: null,
    hostname: `${tagId}.example.com`,
    address: `10.9.0.${Math.floor(Math.random() * 200) + 1}`,
    port: 22,
    environment: 'production',
    owner: null,
    os: 'linux',
    serviceManager: 'systemd',
    sshUser: null,
    sshCredential: null,
    description: null,
    tags: {},
    ...extra,
  });
}

async function addIncident(
  caller: ToolCaller,
  tagId: string,
  title: string,
  status: Parameters<Store['incidents']['update']>[2]['status'] = 'open',
) {
  const { incident } = await store.incidents.create(caller.tenantId, {
    id: randomUUID(),
    title,
    description: `${title} (reported)`,
    severity: 'high',
    tagId,
    source: 'test',
    createdBy: null,
  });
  return (await store.incidents.update(caller.tenantId, incident.id, { status }))!;
}

/** Prepares and runs a call as the chat activity does; `confirm` is the hash a confirmation carried. */
async function call(
  caller: ToolCaller,
  name: string,
  args: unknown,
  options: { confirm?: string; callKey?: string; childRuns?: boolean } = {},
): Promise<ToolResult> {
  const prepared = await registry.prepare(name, args, caller);
  return registry.run(
    prepared,
    {
      caller,
      signal: new AbortController().signal,
      callKey: options.callKey ?? randomUUID(),
      ...(options.childRuns ? { childRuns: true } : {}),
      integration: (integration) => Promise.reject(new IntegrationNotConfiguredError(integration)),
    },
    options.confirm,
  );
}

async function refusal(promise: Promise<unknown>): Promise<ToolRefusedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ToolRefusedError);
  return err as ToolRefusedError;
}

describe('built-in chat tools through the registry', () => {
  it('shows a viewer only the reading tools; an operator also the ones that start runs', async () => {
    const viewer = registry.describe(await tenant('viewer')).map((t) => t.name);
    const operator = registry.describe(await tenant('operator'));
    expect(viewer.sort()).toEqual(
      [
        'automation_run_get',
        'automation_runs_list',
        'cmdb_get_item',
        'cmdb_lookup',
        'incidents_get',
        'incidents_list',
        'knowledge_search',
      ].sort(),
    );
    expect(operator.map((t) => t.name)).toEqual(expect.arrayContaining(['incidents_start_remediation', 'automation_start_run']));
    expect(operator.find((t) => t.name === 'incidents_start_remediation')).toMatchObject({ mutating: true });
    expect(operator.find((t) => t.name === 'knowledge_search')).toMatchObject({ mutating: false });
    expect(operator.find((t) => t.name === 'incidents_list')!.parameters).toMatchObject({ type: 'object' });
  });

  it('refuses a viewer the change tools, and bad arguments with a clear message', async () => {
    const viewer = await tenant('viewer');
    await addItem(viewer, 'web-01');
    expect((await refusal(call(viewer, 'incidents_start_remediation', { tagId: 'web-01', title: 'nginx down' }))).reason).toBe('role');
    expect((await refusal(call(viewer, 'automation_start_run', { request: 'restart nginx', targets: ['web-01'] }))).reason).toBe('role');
    const bad = await refusal(call(viewer, 'incidents_list', { status: 'exploded' }));
    expect(bad.reason).toBe('invalid_arguments');
    expect(bad.message).toMatch(/status/);
    expect((await refusal(call(viewer, 'incidents_list', { since: 'last tuesday' }))).message).toMatch(/duration such as 30m/);
    expect((await refusal(call(viewer, 'cmdb_get_item', { tagId: 'nope' }))).reason).toBe('invalid_arguments');
    expect((await store.incidents.list(viewer.tenantId, {}, { limit: 10 })).items).toEqual([]);
  });

  it('starts a remediation only with the confirmation hash of that exact call, once per call key', async () => {
    const operator = await tenant();
    await addItem(operator, 'db-01');
    const args = { tagId: 'db-01', title: 'Disk /var full on db-01', severity: 'critical' };
    const prepared = await registry.prepare('incidents_start_remediation', args, operator);
    expect(prepared.risk).toBe('change');
    expect(prepared.hash).toBe(toolCallHash('incidents_start_remediation', { ...args, description: '' }));

    expect((await refusal(call(operator, 'incidents_start_remediation', args))).reason).toBe('confirmation');
    const otherCall = toolCallHash('incidents_start_remediation', { ...args, tagId: 'web-01', description: '' });
    expect((await refusal(call(operator, 'incidents_start_remediation', args, { confirm: otherCall }))).reason).toBe('confirmation');
    expect((await store.incidents.list(operator.tenantId, {}, { limit: 10 })).items).toEqual([]);

    const callKey = `chat-test/${randomUUID()}`;
    const started = await call(operator, 'incidents_start_remediation', args, { confirm: prepared.hash, callKey });
    const data = started.data as RemediationStartedData;
    expect(data).toMatchObject({ created: true, incident: { tagId: 'db-01', severity: 'critical', number: 1 } });
    expect(started.links).toEqual([{ title: 'INC-1', url: `/api/v1/incidents/${data.incident.id}` }]);
    const row = await store.incidents.get(operator.tenantId, data.incident.id);
    expect(row).toMatchObject({ source: 'chat', createdBy: 'api-key:tools-test', title: 'Disk /var full on db-01' });
    const described = await client.workflow.getHandle(data.workflowId).describe();
    expect(described.status.name).toBe('RUNNING');

    // The same call again (a retried activity): the incident created first, nothing new started.
    const again = await call(operator, 'incidents_start_remediation', args, { confirm: prepared.hash, callKey });
    expect(again.data).toMatchObject({ created: false, incident: { id: data.incident.id } });
    expect((await store.incidents.list(operator.tenantId, {}, { limit: 10 })).items).toHaveLength(1);
    await client.workflow.getHandle(data.workflowId).terminate('test over');
  });

  it('refuses to start on a tagId the tenant does not have, leaving nothing behind', async () => {
    const operator = await tenant();
    const args = { tagId: 'ghost-01', title: 'nginx down' };
    const { hash } = await registry.prepare('incidents_start_remediation', args, operator);
    const err = await refusal(call(operator, 'incidents_start_remediation', args, { confirm: hash }));
    expect(err.message).toMatch(/No CMDB item with tagId 'ghost-01'.*cmdb_lookup/);
    const runArgs = { request: 'restart nginx', targets: ['ghost-01'] };
    const run = await registry.prepare('automation_start_run', runArgs, operator);
    expect((await refusal(call(operator, 'automation_start_run', runArgs, { confirm: run.hash }))).reason).toBe('invalid_arguments');
    expect((await store.incidents.list(operator.tenantId, {}, { limit: 10 })).items).toEqual([]);
    expect((await store.automation.list(operator.tenantId, {}, { limit: 10 })).items).toEqual([]);
  });

  it('starts an automation run after confirmation and reads it back by number', async () => {
    const operator = await tenant();
    await addItem(operator, 'web-01');
    for (const request of ['install htop', 'restart cron']) {
      await store.automation.create(operator.tenantId, {
        id: randomUUID(),
        request,
        targets: ['web-01'],
        checkMode: true,
        createdBy: null,
      });
    }
    const args = { request: 'restart nginx', targets: ['web-01'], checkMode: true };
    const { hash, risk } = await registry.prepare('automation_start_run', args, operator);
    expect(risk).toBe('change');
    expect((await refusal(call(operator, 'automation_start_run', args))).reason).toBe('confirmation');
    const started = await call(operator, 'automation_start_run', args, { confirm: hash });
    expect(started.data).toMatchObject({ created: true, run: { number: 3, request: 'restart nginx', checkMode: true } });
    const { workflowId } = started.data as { workflowId: string };
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    await client.workflow.getHandle(workflowId).terminate('test over');

    const byNumber = await call(operator, 'automation_run_get', { id: 2 });
    expect((byNumber.data as AutomationRunData).run).toMatchObject({ number: 2, request: 'restart cron', status: 'queued' });
    const byText = await call(operator, 'automation_run_get', { id: '3' });
    expect((byText.data as AutomationRunData).run.request).toBe('restart nginx');
    expect((await refusal(call(operator, 'automation_run_get', { id: 99 }))).message).toMatch(/no automation run 99/);
    const list = await call(operator, 'automation_runs_list', { target: 'web-01', limit: 2 });
    expect(list.content).toMatch(/^2 automation run\(s\) \(more: pass cursor\)/);
  });

  it('in a chat workflow (childRuns) records a remediation and an automation run, starts neither, and returns the starts', async () => {
    const operator = await tenant();
    await addItem(operator, 'web-01');
    const slug = (await store.tenants.getById(operator.tenantId))!.slug;
    const remediation = { tagId: 'web-01', title: 'nginx down on web-01', description: 'connection refused', severity: 'high' };
    const { hash } = await registry.prepare('incidents_start_remediation', remediation, operator);
    const recorded = await call(operator, 'incidents_start_remediation', remediation, {
      confirm: hash,
      callKey: 'chat-x/1/c1',
      childRuns: true,
    });
    const { incident } = recorded.data as { incident: { id: string; number: number } };
    expect(recorded.content).toMatch(/starts now from this conversation/);
    expect(recorded.childRun).toEqual({
      kind: 'remediation',
      workflowType: 'remediateIncident',
      workflowId: `incident-${incident.id}`,
      input: expect.objectContaining({
        tenantId: operator.tenantId,
        tenantSlug: slug,
        incidentId: incident.id,
        incidentNumber: incident.number,
        severity: 'high',
        tagId: 'web-01',
      }),
      searchAttributes: { tenant: slug, severity: 'high', incidentStatus: 'open', targetHost: 'web-01.example.com' },
      label: `INC-${incident.number}`,
      recordId: incident.id,
    });
    await expect(client.workflow.getHandle(`incident-${incident.id}`).describe()).rejects.toThrow(/not found/i);
    // A retried activity (same call key) finds the same row and hands back the same start.
    const again = await call(operator, 'incidents_start_remediation', remediation, {
      confirm: hash,
      callKey: 'chat-x/1/c1',
      childRuns: true,
    });
    expect(again.data).toMatchObject({ created: false, incident: { id: incident.id } });
    expect(again.childRun).toEqual(recorded.childRun);

    const runArgs = { request: 'restart nginx', targets: ['web-01'], checkMode: true };
    const run = await registry.prepare('automation_start_run', runArgs, operator);
    const automation = await call(operator, 'automation_start_run', runArgs, { confirm: run.hash, childRuns: true });
    const { run: row } = automation.data as { run: { id: string; number: number } };
    expect(automation.childRun).toMatchObject({
      kind: 'automation',
      workflowType: 'runAutomation',
      workflowId: `automation-${row.id}`,
      input: { runId: row.id, runNumber: row.number, request: 'restart nginx', targets: ['web-01'], checkMode: true, tenantSlug: slug },
      searchAttributes: { tenant: slug },
      label: `RUN-${row.number}`,
    });
    await expect(client.workflow.getHandle(`automation-${row.id}`).describe()).rejects.toThrow(/not found/i);
  });

  it('searches only the tenant’s own knowledge (and the global one), citing source titles', async () => {
    const a = await tenant('viewer');
    const b = await tenant('viewer');
    await knowledge.ingest({
      tenantId: a.tenantId,
      title: 'Rotating the payments API key',
      kind: 'sop',
      source: 'test',
      contentType: 'text/markdown',
      text: '# Rotating the payments API key\n\nCreate the new key in the vault, deploy it to the payments service, then revoke the old key.',
    });
    const found = await call(a, 'knowledge_search', { query: 'rotate payments api key' });
    expect((found.data as KnowledgeSearchData).hits[0]).toMatchObject({
      title: 'Rotating the payments API key',
      kind: 'sop',
      global: false,
    });
    expect(found.content).toMatch(/\[1\] Rotating the payments API key/);
    expect(found.links?.[0]?.url).toMatch(/^\/api\/v1\/knowledge\/docs\//);
    const other = await call(b, 'knowledge_search', { query: 'rotate payments api key' });
    expect((other.data as KnowledgeSearchData).hits).toEqual([]);
    expect(other.content).toMatch(/No passage/);
  });

  it('finds CMDB items by IP, tag, description words and exact tagId first; bounds what the model reads', async () => {
    const viewer = await tenant('viewer');
    await addItem(viewer, 'web-1', { address: '10.1.0.1', tags: { role: 'web' } });
    await addItem(viewer, 'web-10', { address: '10.1.0.10', tags: { role: 'web' } });
    await addItem(viewer, 'db-1', { address: '10.1.0.20', tags: { role: 'db' }, description: 'Primary PostgreSQL for orders' });
    const byIp = (await call(viewer, 'cmdb_lookup', { query: '10.1.0.20' })).data as CmdbLookupData;
    expect(byIp.items.map((i) => i.tagId)).toEqual(['db-1']);
    const byTag = (await call(viewer, 'cmdb_lookup', { tags: { role: 'web' } })).data as CmdbLookupData;
    expect(byTag.items.map((i) => i.tagId)).toEqual(['web-1', 'web-10']);
    const exact = (await call(viewer, 'cmdb_lookup', { query: 'web-1' })).data as CmdbLookupData;
    expect(exact.items[0]!.tagId).toBe('web-1');
    const words = (await call(viewer, 'cmdb_lookup', { query: 'orders postgresql database' })).data as CmdbLookupData;
    expect(words.items.map((i) => i.tagId)).toEqual(['db-1']);
    const none = await call(viewer, 'cmdb_lookup', { query: 'mainframe' });
    expect(none.content).toBe('No CMDB item matches "mainframe".');

    const crowded = await tenant('viewer');
    for (let i = 0; i < 50; i++) await addItem(crowded, `node-${String(i).padStart(2, '0')}`, { description: 'x'.repeat(200) });
    const many = await call(crowded, 'cmdb_lookup', { query: 'node', limit: 50 });
    expect((many.data as CmdbLookupData).items).toHaveLength(50);
    expect(many.content.length).toBeLessThanOrEqual(MAX_CONTENT_CHARS + 40);
    expect(many.content).toMatch(/\[truncated \d+ chars\]$/);
  });

  it('lists active incidents across pages without losing or repeating one; filters by host and time', async () => {
    const viewer = await tenant('viewer');
    await addItem(viewer, 'web-01');
    await addItem(viewer, 'db-01', { hostname: 'db-01.prod.example.com' });
    const active = new Set<number>();
    for (let i = 0; i < 15; i++) {
      const incident = await addIncident(viewer, i % 2 ? 'web-01' : 'db-01', `problem ${i}`, i % 3 === 0 ? 'resolved' : 'investigating');
      if (i % 3 !== 0) active.add(incident.number);
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const data = (await call(viewer, 'incidents_list', { status: 'active', limit: 4, ...(cursor ? { cursor } : {}) }))
        .data as IncidentsListData;
      seen.push(...data.items.map((i) => i.number));
      expect(data.items.every((i) => i.status === 'investigating')).toBe(true);
      if (!data.nextCursor) break;
      cursor = data.nextCursor;
    }
    expect(seen.sort((x, y) => x - y)).toEqual([...active].sort((x, y) => x - y));

    const byHostname = (await call(viewer, 'incidents_list', { host: 'db-01.prod.example.com', limit: 50 })).data as IncidentsListData;
    expect(byHostname.filter.tagId).toBe('db-01');
    expect(byHostname.items).toHaveLength(8);
    expect(byHostname.items.every((i) => i.tagId === 'db-01')).toBe(true);
    const recent = (await call(viewer, 'incidents_list', { since: '1h', limit: 50 })).data as IncidentsListData;
    expect(recent.items).toHaveLength(15);
    const future = (await call(viewer, 'incidents_list', { since: new Date(Date.now() + 60_000).toISOString() })).data as IncidentsListData;
    expect(future.items).toEqual([]);
    expect(future.nextCursor).toBeNull();
    expect((await refusal(call(viewer, 'incidents_list', { cursor: 'not-a-cursor' }))).message).toMatch(/cursor is not one this list gave/);
    expect((await refusal(call(viewer, 'cmdb_lookup', { cursor: 'not-a-cursor' }))).reason).toBe('invalid_arguments');
    expect((await refusal(call(viewer, 'automation_runs_list', { cursor: 'not-a-cursor' }))).reason).toBe('invalid_arguments');
    const unknownHost = await call(viewer, 'incidents_list', { host: 'mainframe-9' });
    expect(unknownHost.content).toMatch(/No CMDB item matches host "mainframe-9"/);
  });

  it('shows one incident by number, INC-number or id with its run from the projection and its latest result', async () => {
    const viewer = await tenant('viewer');
    await addItem(viewer, 'web-01');
    const incident = await addIncident(viewer, 'web-01', 'nginx returns 502');
    const state: IncidentRunProjectionState = {
      run: {
        incidentId: incident.id,
        status: 'awaiting_approval',
        currentStep: 'awaitApproval',
        steps: [],
        target: null,
        findings: ['upstream app-01 refuses connections'],
        context: [],
        summary: null,
        error: null,
        rootCause: 'The application behind nginx is down',
        approval: {
          decision: 'pending',
          planHash: 'a'.repeat(64),
          requestedAt: new Date().toISOString(),
          deadline: null,
          by: null,
          comment: null,
          decidedAt: null,
        },
      },
      workflow: { runId: 'r1', status: 'RUNNING', startedAt: new Date().toISOString(), closedAt: null, historyLength: 12 },
    };
    await store.runs.project({
      tenantId: viewer.tenantId,
      family: 'incident',
      runId: incident.id,
      workflowId: incident.workflowId,
      version: 1,
      status: 'awaiting_approval',
      ended: false,
      state: state as unknown as Record<string, unknown>,
      events: [],
    });
    await store.results.write(viewer.tenantId, {
      incidentId: incident.id,
      idempotencyKey: `r-${incident.id}`,
      status: 'awaiting_approval',
      summary: 'Fix proposed: restart app-01',
      details: {},
    });
    for (const id of [incident.number, `INC-${incident.number}`, incident.id]) {
      const result = await call(viewer, 'incidents_get', { id });
      const data = result.data as IncidentDetailData;
      expect(data.incident).toMatchObject({ id: incident.id, title: 'nginx returns 502' });
      expect(data.run).toMatchObject({
        status: 'awaiting_approval',
        awaitingApproval: true,
        rootCause: 'The application behind nginx is down',
      });
      expect(data.result).toMatchObject({ summary: 'Fix proposed: restart app-01' });
      expect(result.content).toMatch(/waiting for approval/);
      expect(result.links).toEqual([{ title: `INC-${incident.number}`, url: `/api/v1/incidents/${incident.id}` }]);
    }
    expect((await refusal(call(viewer, 'incidents_get', { id: 'INC-999' }))).message).toMatch(/no incident INC-999/);
    expect((await refusal(call(viewer, 'incidents_get', { id: 'the nginx one' }))).reason).toBe('invalid_arguments');
    // Another tenant cannot read it by id.
    const other = await tenant('viewer');
    await refusal(call(other, 'incidents_get', { id: incident.id }));
  });
});
