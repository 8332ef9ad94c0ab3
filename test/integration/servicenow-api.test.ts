import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServiceNowClient } from '../../adapters/servicenow/create.js';
import { ServiceNowError, ServiceNowNotFoundError, type ServiceNowIncidents } from '../../adapters/servicenow/port.js';
import { createToolRegistry } from '../../tools/registry.js';
import { correlationIdFor, createServiceNowTools } from '../../tools/servicenow.js';
import { ToolFailedError, ToolRefusedError, type ToolCaller } from '../../tools/tool.js';
import { FakeServiceNow } from '../support/fake-servicenow.js';
import { toolContext } from '../support/tool-context.js';

// The ServiceNow client (Table API) and the ServiceNow chat tools against a local server that
// speaks the Table API: the exact requests, paging, idempotent creates, the error mapping, and the
// confirmation rule for the tools that change the instance.

const USER = 'infraai.chat';
const PASSWORD = 'sn-password-4f1c9a';
const TOKEN = 'sn-oauth-token-77d2e1b0';
const FIELDS =
  'sys_id,number,state,active,short_description,description,priority,urgency,impact,assignment_group,assigned_to,caller_id,category,opened_at,sys_updated_on,close_code,close_notes,correlation_id';

async function failure(run: () => Promise<unknown>): Promise<ServiceNowError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceNowError);
    return err as ServiceNowError;
  }
  throw new Error('expected the call to fail');
}

describe('ServiceNow Table API client (local Table API server)', () => {
  let fake: FakeServiceNow;
  let client: ServiceNowIncidents;
  let network: string;
  let storage: string;

  beforeAll(async () => {
    fake = await FakeServiceNow.start({ username: USER, password: PASSWORD });
    client = createServiceNowClient({ instanceUrl: fake.url, username: USER, password: PASSWORD });
    network = fake.addGroup('Network');
    storage = fake.addGroup('Storage');
    const bob = fake.addUser('Bob Ops');
    // 25 incidents: 14 open for Network (two about disks), 6 resolved for Network, 5 open for Storage.
    for (let i = 0; i < 14; i++)
      fake.addIncident({
        short_description: i < 2 ? `Disk full on web-${i}` : `Packet loss on switch ${i}`,
        description: i === 5 ? 'The disk quota alarm fired too' : 'Seen by monitoring',
        state: i % 2 ? '2' : '1',
        urgency: '1',
        impact: '2',
        assignment_group: network,
        assigned_to: i === 0 ? bob : '',
      });
    for (let i = 0; i < 6; i++)
      fake.addIncident({
        short_description: `Old outage ${i}`,
        state: '7',
        assignment_group: network,
        close_code: 'Solved (Permanently)',
        close_notes: 'fixed',
      });
    for (let i = 0; i < 5; i++) fake.addIncident({ short_description: `Volume degraded ${i}`, state: '2', assignment_group: storage });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.clearRequests());

  it('lists one page with the encoded query, the paging parameters and display values, and the total from X-Total-Count', async () => {
    const page = await client.listIncidents({ active: true, assignmentGroup: 'Network', limit: 10, offset: 0 });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'GET', path: '/api/now/table/incident' });
    expect(request!.query).toEqual({
      sysparm_query: 'active=true^assignment_group.name=Network^ORDERBYDESCsys_updated_on',
      sysparm_limit: '10',
      sysparm_offset: '0',
      sysparm_display_value: 'all',
      sysparm_exclude_reference_link: 'true',
      sysparm_fields: FIELDS,
    });
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    expect(request!.headers.accept).toBe('application/json');
    expect(page).toMatchObject({ total: 14, offset: 0, limit: 10, more: true });
    expect(page.incidents).toHaveLength(10);
    // Newest change first: the 14th open Network incident was added last.
    expect(page.incidents[0]).toMatchObject({
      shortDescription: 'Packet loss on switch 13',
      state: { value: '2', label: 'In Progress' },
      active: true,
      priority: '2 - High',
      urgency: '1 - High',
      assignmentGroup: { sysId: network, name: 'Network' },
    });
    expect(page.incidents[0]!.url).toBe(`${fake.url}/incident.do?sys_id=${page.incidents[0]!.sysId}`);

    const last = await client.listIncidents({ active: true, assignmentGroup: network, limit: 10, offset: 10 });
    expect(fake.requests[1]!.query.sysparm_query).toBe(`active=true^assignment_group=${network}^ORDERBYDESCsys_updated_on`);
    expect(last).toMatchObject({ total: 14, offset: 10, more: false });
    expect(last.incidents.map((i) => i.shortDescription).slice(-2)).toEqual(['Disk full on web-1', 'Disk full on web-0']);
    expect(last.incidents.at(-1)!.assignedTo).toEqual({ sysId: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'Bob Ops' });
    const all = new Set([...page.incidents, ...last.incidents].map((i) => i.number));
    expect(all.size).toBe(14);
  });

  it('filters by state and by words in either description, keeping ^ out of the query', async () => {
    const resolved = await client.listIncidents({ states: ['closed', 'canceled'] });
    expect(fake.requests[0]!.query.sysparm_query).toBe('stateIN7,8^ORDERBYDESCsys_updated_on');
    expect(resolved.total).toBe(6);
    expect(resolved.incidents.every((i) => !i.active && i.state.label === 'Closed')).toBe(true);

    const disks = await client.listIncidents({ text: 'disk^active=false' });
    expect(fake.requests[1]!.query.sysparm_query).toBe(
      'short_descriptionLIKEdisk active=false^ORdescriptionLIKEdisk active=false^ORDERBYDESCsys_updated_on',
    );
    expect(disks.total).toBe(0);
    const words = await client.listIncidents({ text: 'disk', active: true });
    expect(words.incidents.map((i) => i.shortDescription).sort()).toEqual([
      'Disk full on web-0',
      'Disk full on web-1',
      'Packet loss on switch 5',
    ]);
  });

  it('gets an incident by number or sys_id; one that does not exist is a ServiceNowNotFoundError', async () => {
    const { incidents } = await client.listIncidents({ assignmentGroup: 'Storage', limit: 1 });
    const listed = incidents[0]!;
    fake.clearRequests();
    const byNumber = await client.getIncident(listed.number.toLowerCase());
    expect(fake.requests[0]!.query).toMatchObject({ sysparm_query: `number=${listed.number}`, sysparm_limit: '1' });
    expect(byNumber).toEqual(listed);
    expect(await client.getIncident(listed.sysId)).toEqual(listed);
    expect(fake.requests[1]!.path).toBe(`/api/now/table/incident/${listed.sysId}`);

    const missingNumber = await failure(() => client.getIncident('INC9999999'));
    expect(missingNumber).toBeInstanceOf(ServiceNowNotFoundError);
    expect(missingNumber.message).toContain('INC9999999');
    const missingSysId = await failure(() => client.getIncident('0'.repeat(32)));
    expect(missingSysId).toBeInstanceOf(ServiceNowNotFoundError);
    expect(missingSysId).toMatchObject({ retryable: false, status: 404 });
    expect(missingSysId.message).toMatch(/not found.*No Record found/);
    const bad = await failure(() => client.getIncident('web-1 is down'));
    expect(bad).toMatchObject({ retryable: false, status: undefined });
    expect(fake.requests).toHaveLength(4);
  });

  it('creates once per correlation id: a retried create returns the record the first one made', async () => {
    const correlationId = 'infraai:chat:test/1/create';
    const fields = {
      shortDescription: 'Checkout API 502s',
      description: 'since 01:00',
      urgency: '1',
      impact: '2',
      assignmentGroup: network,
    } as const;
    const first = await client.createIncident(fields, correlationId);
    const second = await client.createIncident(fields, correlationId);
    expect(first.created).toBe(true);
    expect(second).toEqual({ incident: first.incident, created: false });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/now/table/incident',
      'POST /api/now/table/incident',
      'GET /api/now/table/incident',
    ]);
    expect(fake.requests[0]!.query.sysparm_query).toBe(`correlation_id=${correlationId}`);
    expect(fake.requests[1]!.body).toEqual({
      short_description: 'Checkout API 502s',
      description: 'since 01:00',
      urgency: '1',
      impact: '2',
      assignment_group: network,
      correlation_id: correlationId,
      correlation_display: 'InfraAI',
    });
    const records = fake.incidents().filter((r) => r.correlation_id === correlationId);
    expect(records).toHaveLength(1);
    expect(first.incident).toMatchObject({ number: records[0]!.number, priority: '2 - High', assignmentGroup: { name: 'Network' } });
    await expect(client.createIncident(fields, 'has^caret')).rejects.toThrow(/correlation id/);
  });

  it('updates fields and adds a work note by number; the data policy refusal reaches the caller unretried', async () => {
    const sysId = fake.addIncident({ short_description: 'Mail queue stuck', state: '2' });
    const number = fake.incident(sysId)!.number;
    const refused = await failure(() => client.updateIncident(number, { state: 'resolved', workNote: 'restarted postfix' }));
    expect(refused).toMatchObject({ retryable: false, status: 403 });
    expect(refused.message).toContain('mandatory: Resolution code, Resolution notes');
    expect(fake.incident(sysId)!.workNotes).toEqual([]);

    fake.clearRequests();
    const updated = await client.updateIncident(number, {
      state: 'resolved',
      closeCode: 'Solved (Permanently)',
      closeNotes: 'postfix restarted',
      workNote: 'restarted postfix',
      urgency: '3',
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/now/table/incident',
      `PATCH /api/now/table/incident/${sysId}`,
    ]);
    expect(fake.requests[1]!.body).toEqual({
      state: '6',
      urgency: '3',
      close_code: 'Solved (Permanently)',
      close_notes: 'postfix restarted',
      work_notes: 'restarted postfix',
    });
    expect(updated).toMatchObject({ state: { value: '6', label: 'Resolved' }, closeCode: 'Solved (Permanently)', urgency: '3 - Low' });
    expect(fake.incident(sysId)!.workNotes).toEqual(['restarted postfix']);
    await expect(client.updateIncident(sysId, {})).rejects.toThrow(/nothing to change/);
  });

  it('adds a keyed work note once: a retried update finds the note in the journal and sets only the fields', async () => {
    const sysId = fake.addIncident({ short_description: 'Disk full on web-01', state: '2' });
    const note = { workNote: 'cleared /var/log', workNoteKey: 'infraai:chat:chat-1/1/call_1' };
    await client.updateIncident(sysId, note);
    fake.clearRequests();
    await client.updateIncident(sysId, { ...note, urgency: '2' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/now/table/sys_journal_field',
      `PATCH /api/now/table/incident/${sysId}`,
    ]);
    expect(fake.requests[1]!.body).toEqual({ urgency: '2' });
    // The note alone, again: nothing to write.
    await client.updateIncident(sysId, note);
    expect(fake.requestsTo('PATCH', `/api/now/table/incident/${sysId}`)).toHaveLength(1);
    expect(fake.incident(sysId)).toMatchObject({ urgency: '2', workNotes: ['cleared /var/log\n\n[infraai:chat:chat-1/1/call_1]'] });
    // Another call's key is another note.
    await client.updateIncident(sysId, { ...note, workNoteKey: 'infraai:chat:chat-1/2/call_1' });
    expect(fake.incident(sysId)!.workNotes).toHaveLength(2);
  });

  it('maps 401 and 403 to not retryable, 429 (with Retry-After) and 5xx to retryable, and shows no secret', async () => {
    const wrong = createServiceNowClient({ instanceUrl: fake.url, username: USER, password: 'not-the-password-9z' });
    const rejected = await failure(() => wrong.listIncidents({}));
    expect(rejected).toMatchObject({ retryable: false, status: 401 });
    expect(rejected.message).toContain('credentials rejected');
    expect(`${inspect(rejected)} ${rejected.message}`).not.toContain('not-the-password-9z');

    fake.failNext(429, 1, { retryAfter: '7' });
    expect(await failure(() => client.listIncidents({}))).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7_000 });
    fake.failNext(503);
    expect(await failure(() => client.getIncident('INC0010001'))).toMatchObject({ retryable: true, status: 503 });
    fake.failNext(403, 1, { detail: 'ACL denies write' });
    expect(await failure(() => client.updateIncident('0'.repeat(32), { workNote: 'x' }))).toMatchObject({ retryable: false, status: 403 });
  });

  it('reports an instance that cannot be reached as retryable, and an abort as a cancellation', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const unreachable = createServiceNowClient({ instanceUrl: `http://127.0.0.1:${port}`, token: TOKEN });
    const err = await failure(() => unreachable.listIncidents({}));
    expect(err).toMatchObject({ retryable: true, status: undefined });
    expect(err.message).toContain('ECONNREFUSED');

    const aborted = new AbortController();
    aborted.abort();
    expect(await failure(() => client.listIncidents({}, { signal: aborted.signal }))).toMatchObject({ retryable: false });
  });

  it('authenticates with a bearer token', async () => {
    const tokenFake = await FakeServiceNow.start({ token: TOKEN });
    try {
      tokenFake.addIncident({ short_description: 'token works' });
      const page = await createServiceNowClient({ instanceUrl: tokenFake.url, token: TOKEN }).listIncidents({});
      expect(page.incidents.map((i) => i.shortDescription)).toEqual(['token works']);
      expect(tokenFake.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    } finally {
      await tokenFake.close();
    }
  });
});

describe('ServiceNow chat tools through the registry', () => {
  let fake: FakeServiceNow;
  const registry = createToolRegistry(createServiceNowTools());
  const operator: ToolCaller = { tenantId: 'tenant-1', userId: 'api-key:ops', role: 'operator' };
  const viewer: ToolCaller = { ...operator, role: 'viewer' };
  let settings: { servicenow: Record<string, unknown> };

  beforeAll(async () => {
    fake = await FakeServiceNow.start({ username: USER, password: PASSWORD });
    settings = { servicenow: { instanceUrl: `${fake.url}/`, username: USER, password: PASSWORD } };
    const group = fake.addGroup('Database');
    for (let i = 0; i < 60; i++)
      fake.addIncident({
        short_description: `Replication lag on db-${i} exceeds the threshold the on-call agreed on for the primary cluster`,
        state: '2',
        assignment_group: group,
      });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('offers viewers the read tools only, and marks create and update as mutating', () => {
    expect(registry.describe(viewer).map((d) => d.name)).toEqual(['servicenow_list_incidents', 'servicenow_get_incident']);
    const all = registry.describe(operator);
    expect(all.map((d) => [d.name, d.mutating, d.integration])).toEqual([
      ['servicenow_list_incidents', false, 'servicenow'],
      ['servicenow_get_incident', false, 'servicenow'],
      ['servicenow_create_incident', true, 'servicenow'],
      ['servicenow_update_incident', true, 'servicenow'],
    ]);
    expect(all[0]!.parameters).toMatchObject({ type: 'object', properties: { limit: { type: 'integer', maximum: 50 } } });
  });

  it('lists with bounded text that says how to narrow, structured data and record links', async () => {
    const call = await registry.prepare('servicenow_list_incidents', { assignmentGroup: 'Database', limit: 50 }, viewer);
    expect(call.risk).toBe('read');
    const result = await registry.run(call, toolContext(settings, { caller: viewer }));
    expect(result.content.length).toBeLessThanOrEqual(4_000);
    expect(result.content.split('\n')[0]).toBe('ServiceNow incidents 1–50 of 60 (next page: offset 50):');
    expect(result.content).toMatch(/\n… \d+ more not shown; narrow with states, assignmentGroup or text, or lower limit$/);
    expect(result.content).toMatch(/INC\d+ \[In Progress\] 5 - Planning: Replication lag on db-59/);
    const data = result.data as { total: number; incidents: { number: string }[] };
    expect(data.total).toBe(60);
    expect(data.incidents).toHaveLength(50);
    expect(result.links).toHaveLength(50);
    const past = await registry.run(
      await registry.prepare('servicenow_list_incidents', { assignmentGroup: 'Database', offset: 60 }, viewer),
      toolContext(settings, { caller: viewer }),
    );
    expect(past.content).toBe('No ServiceNow incidents past offset 60: 60 match in all.');
    expect(result.links![0]!.url).toMatch(new RegExp(`^${fake.url}/incident\\.do\\?sys_id=[0-9a-f]{32}$`));
  });

  it('creates only with a confirmation of the exact call, and once per call key however often it runs', async () => {
    const args = { shortDescription: 'Payments API returns 502', urgency: 'high', impact: 'medium' };
    await expect(registry.prepare('servicenow_create_incident', args, viewer)).rejects.toMatchObject({ reason: 'role' });
    const call = await registry.prepare('servicenow_create_incident', args, operator);
    expect(call.risk).toBe('change');
    const context = toolContext(settings, { callKey: 'chat-7f3a/4/call_create' });
    const before = fake.incidents().length;
    await expect(registry.run(call, context)).rejects.toMatchObject({ name: 'ToolRefusedError', reason: 'confirmation' });
    const other = await registry.prepare('servicenow_create_incident', { ...args, urgency: 'low' }, operator);
    await expect(registry.run(call, context, other.hash)).rejects.toBeInstanceOf(ToolRefusedError);
    expect(fake.incidents()).toHaveLength(before);

    const first = await registry.run(call, context, call.hash);
    const again = await registry.run(call, context, call.hash);
    const created = fake.incidents().filter((r) => r.correlation_id === correlationIdFor('chat-7f3a/4/call_create'));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ short_description: 'Payments API returns 502', urgency: '1', impact: '2' });
    expect(first.content).toMatch(new RegExp(`^Created ${created[0]!.number}\\.`));
    expect(again.content).toMatch(new RegExp(`^${created[0]!.number} was already created by an earlier attempt of this call\\.`));
    expect(first.links).toEqual([{ title: created[0]!.number, url: `${fake.url}/incident.do?sys_id=${created[0]!.sys_id}` }]);

    await registry.run(call, toolContext(settings, { callKey: 'chat-7f3a/5/call_create' }), call.hash);
    expect(fake.incidents()).toHaveLength(before + 2);
  });

  it('keeps a long call key inside correlation_id, the same every time', () => {
    const long = `chat-${'9'.repeat(120)}/3/call_x`;
    expect(correlationIdFor(long)).toMatch(/^infraai:chat:sha256:[0-9a-f]{48}$/);
    expect(correlationIdFor(long)).toBe(correlationIdFor(long));
    expect(correlationIdFor('chat-1/2/call 3')).not.toBe(correlationIdFor('chat-1/2/call_3'));
  });

  it('updates with a confirmation, refuses bad arguments clearly, and gets the result', async () => {
    const sysId = fake.addIncident({ short_description: 'Cache node evicting', state: '1' });
    const number = fake.incident(sysId)!.number;
    await expect(registry.prepare('servicenow_update_incident', { incident: number }, operator)).rejects.toMatchObject({
      reason: 'invalid_arguments',
      message: expect.stringContaining('give at least one field to change or a work note'),
    });
    await expect(registry.prepare('servicenow_update_incident', { incident: 'web-1', workNote: 'x' }, operator)).rejects.toMatchObject({
      reason: 'invalid_arguments',
    });
    const call = await registry.prepare(
      'servicenow_update_incident',
      { incident: number, state: 'in_progress', workNote: 'looking' },
      operator,
    );
    await expect(registry.run(call, toolContext(settings))).rejects.toMatchObject({ reason: 'confirmation' });
    expect(fake.incident(sysId)!.state).toBe('1');
    const result = await registry.run(call, toolContext(settings), call.hash);
    expect(result.content).toMatch(new RegExp(`^Updated ${number}\\.\\n${number}: Cache node evicting\\nState In Progress;`));
    // The note carries the call's key, so a retried call does not add it again.
    expect(fake.incident(sysId)).toMatchObject({ state: '2', workNotes: [expect.stringMatching(/^looking\n\n\[infraai:chat:.+\]$/)] });

    const get = await registry.prepare('servicenow_get_incident', { incident: number }, viewer);
    const shown = await registry.run(get, toolContext(settings, { caller: viewer }));
    expect(shown.data).toMatchObject({ number, state: { label: 'In Progress' } });
  });

  it('turns failures into ToolFailedError (retryable with the wait for 429) and a missing configuration into a refusal', async () => {
    const get = await registry.prepare('servicenow_get_incident', { incident: 'INC0000001' }, viewer);
    const missing = await registry.run(get, toolContext(settings)).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ToolFailedError);
    expect(missing).toMatchObject({ retryable: false, status: 404, message: expect.stringContaining('no incident INC0000001') });

    fake.failNext(429, 1, { retryAfter: '30' });
    const limited = await registry.run(get, toolContext(settings)).catch((err: unknown) => err);
    expect(limited).toMatchObject({ name: 'ToolFailedError', retryable: true, status: 429, retryAfterMs: 30_000 });

    const wrong = toolContext({ servicenow: { ...settings.servicenow, password: 'wrong-password-x1' } });
    const denied = await registry.run(get, wrong).catch((err: unknown) => err);
    expect(denied).toMatchObject({ name: 'ToolFailedError', retryable: false, status: 401 });
    expect(String((denied as Error).message)).not.toContain('wrong-password-x1');

    await expect(registry.run(get, toolContext({}))).rejects.toMatchObject({ name: 'ToolRefusedError', reason: 'not_configured' });
  });
});
