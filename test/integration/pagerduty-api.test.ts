import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPagerDutyClient } from '../../adapters/pagerduty/create.js';
import { PagerDutyError, PagerDutyNotFoundError, type PagerDutyIncidents } from '../../adapters/pagerduty/port.js';
import { createPagerDutyTools } from '../../tools/pagerduty.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, type ToolCaller } from '../../tools/tool.js';
import { FakePagerDuty } from '../support/fake-pagerduty.js';
import { toolContext } from '../support/tool-context.js';

// The PagerDuty client (REST API v2) and the PagerDuty chat tools against a local server that
// speaks the REST API: the exact requests and headers, offset paging, idempotent resolve, the
// error mapping, and the confirmation rule for acknowledge and resolve.

const API_TOKEN = 'u+pd-token-3b9f1e77aa';
const FROM = 'oncall-bot@example.com';
const ACCEPT = 'application/vnd.pagerduty+json;version=2';

async function failure(run: () => Promise<unknown>): Promise<PagerDutyError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(PagerDutyError);
    return err as PagerDutyError;
  }
  throw new Error('expected the call to fail');
}

describe('PagerDuty REST API v2 client (local PagerDuty server)', () => {
  let fake: FakePagerDuty;
  let client: PagerDutyIncidents;
  let payments: string;

  beforeAll(async () => {
    fake = await FakePagerDuty.start({ apiKey: API_TOKEN, users: [FROM] });
    client = createPagerDutyClient({ apiToken: API_TOKEN, fromEmail: FROM, baseUrl: fake.url });
    payments = fake.addService('Payments API');
    for (let i = 0; i < 7; i++)
      fake.addIncident({ title: `Checkout latency ${i}`, serviceId: payments, status: i < 4 ? 'triggered' : 'acknowledged' });
    for (let i = 0; i < 3; i++) fake.addIncident({ title: `Old disk alert ${i}`, status: 'resolved', urgency: 'low' });
    fake.addIncident({ title: 'Queue backlog', assignees: ['Sam Primary', 'Kim Secondary'] });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.clearRequests());

  it('lists open incidents newest first, a page at a time, with the REST v2 headers and query', async () => {
    const first = await client.listIncidents({ limit: 5 });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'GET', path: '/incidents' });
    expect(request!.headers).toMatchObject({ authorization: `Token token=${API_TOKEN}`, accept: ACCEPT });
    expect(request!.headers.from).toBeUndefined();
    expect(first).toMatchObject({ limit: 5, offset: 0, more: true, total: 8 });
    expect(first.incidents[0]).toEqual({
      id: expect.stringMatching(/^Q[0-9A-F]{12}$/),
      number: expect.any(Number),
      title: 'Queue backlog',
      status: 'triggered',
      urgency: 'high',
      priority: 'P1',
      service: { id: 'PSVC001', name: 'Default Service' },
      assignees: ['Sam Primary', 'Kim Secondary'],
      escalationPolicy: 'Default',
      createdAt: expect.stringMatching(/^2026-12-01T08:00:\d\dZ$/),
      lastStatusChangeAt: expect.any(String),
      url: `https://acme.pagerduty.com/incidents/${first.incidents[0]!.id}`,
    });
    const second = await client.listIncidents({ limit: 5, offset: 5 });
    expect(second).toMatchObject({ offset: 5, more: false, total: 8 });
    expect(new Set([...first.incidents, ...second.incidents].map((i) => i.id)).size).toBe(8);
    expect(fake.requests[1]!.query).toEqual([
      ['limit', '5'],
      ['offset', '5'],
      ['total', 'true'],
      ['sort_by', 'created_at:desc'],
      ['statuses[]', 'triggered'],
      ['statuses[]', 'acknowledged'],
    ]);
  });

  it('filters by status, service and time window', async () => {
    const resolved = await client.listIncidents({ statuses: ['resolved'] });
    expect(resolved.incidents.map((i) => i.title).sort()).toEqual(['Old disk alert 0', 'Old disk alert 1', 'Old disk alert 2']);
    const acknowledged = await client.listIncidents({ statuses: ['acknowledged', 'triggered'], serviceIds: [payments] });
    expect(fake.requests[1]!.query.filter(([key]) => key.endsWith('[]'))).toEqual([
      ['statuses[]', 'acknowledged'],
      ['statuses[]', 'triggered'],
      ['service_ids[]', payments],
    ]);
    expect(acknowledged.total).toBe(7);
    expect(acknowledged.incidents.every((i) => i.service?.name === 'Payments API')).toBe(true);
    const window = await client.listIncidents({ statuses: ['triggered'], since: '2026-12-01T08:00:02Z', until: '2026-12-01T08:00:04Z' });
    expect(window.incidents.map((i) => i.title)).toEqual(['Checkout latency 2', 'Checkout latency 1']);
    await expect(client.listIncidents({ since: 'yesterday' })).rejects.toThrow(/ISO 8601/);
    expect(fake.requests).toHaveLength(3);
  });

  it('gets one incident; an unknown id is a PagerDutyNotFoundError, a malformed one is refused before any request', async () => {
    const id = fake.addIncident({ title: 'DNS failures' });
    expect(await client.getIncident(id)).toMatchObject({ id, title: 'DNS failures', status: 'triggered' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /incidents/${id}`]);
    const missing = await failure(() => client.getIncident('QNOSUCHINCIDENT'));
    expect(missing).toBeInstanceOf(PagerDutyNotFoundError);
    expect(missing).toMatchObject({ retryable: false, status: 404 });
    await expect(client.getIncident('../services/P1')).rejects.toThrow(/not a PagerDuty incident id/);
    expect(fake.requests).toHaveLength(2);
  });

  it('acknowledges and resolves with PUT and From; resolving a resolved incident succeeds and says so', async () => {
    const id = fake.addIncident({ title: 'Memory leak' });
    const acknowledged = await client.acknowledgeIncident(id);
    expect(acknowledged.status).toBe('acknowledged');
    const put = fake.requests[0]!;
    expect(put).toMatchObject({ method: 'PUT', path: `/incidents/${id}` });
    expect(put.headers).toMatchObject({
      authorization: `Token token=${API_TOKEN}`,
      accept: ACCEPT,
      from: FROM,
      'content-type': 'application/json',
    });
    expect(put.body).toEqual({ incident: { type: 'incident_reference', status: 'acknowledged' } });

    expect(await client.resolveIncident(id)).toMatchObject({ incident: { id, status: 'resolved' }, alreadyResolved: false });
    expect(fake.incident(id)!.status).toBe('resolved');
    fake.clearRequests();
    expect(await client.resolveIncident(id)).toMatchObject({ incident: { id, status: 'resolved' }, alreadyResolved: true });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /incidents/${id}`, `GET /incidents/${id}`]);

    const refused = await failure(() => client.acknowledgeIncident(id));
    expect(refused).toMatchObject({ retryable: false, status: 400 });
    expect(refused.message).toContain('Incident Already Resolved');
  });

  it('maps 401 to not retryable, 429 with ratelimit-reset or Retry-After and 5xx to retryable, and never shows the token', async () => {
    const wrong = createPagerDutyClient({ apiToken: 'u+wrong-token-zz', fromEmail: FROM, baseUrl: fake.url });
    const denied = await failure(() => wrong.listIncidents({}));
    expect(denied).toMatchObject({ retryable: false, status: 401 });
    expect(denied.message).toContain('Authentication failed');
    expect(inspect(denied)).not.toContain('u+wrong-token-zz');

    fake.failNext(429, 1, { rateLimitReset: '12' });
    expect(await failure(() => client.listIncidents({}))).toMatchObject({ retryable: true, status: 429, retryAfterMs: 12_000 });
    fake.failNext(429, 1, { retryAfter: '3' });
    expect(await failure(() => client.getIncident('Q1'))).toMatchObject({ retryable: true, retryAfterMs: 3_000 });
    fake.failNext(502);
    expect(await failure(() => client.resolveIncident('Q1'))).toMatchObject({ retryable: true, status: 502 });

    const unknownUser = createPagerDutyClient({ apiToken: API_TOKEN, fromEmail: 'nobody@example.com', baseUrl: fake.url });
    const from = await failure(() => unknownUser.acknowledgeIncident(fake.addIncident()));
    expect(from).toMatchObject({ retryable: false, status: 400 });
    expect(from.message).toContain('"From" header does not belong to a user');
  });
});

describe('PagerDuty chat tools through the registry', () => {
  let fake: FakePagerDuty;
  const registry = createToolRegistry(createPagerDutyTools());
  const operator: ToolCaller = { tenantId: 'tenant-1', userId: 'api-key:ops', role: 'operator' };
  const viewer: ToolCaller = { ...operator, role: 'viewer' };
  let settings: { pagerduty: Record<string, unknown> };

  beforeAll(async () => {
    fake = await FakePagerDuty.start({ apiKey: API_TOKEN, users: [FROM] });
    settings = { pagerduty: { apiToken: API_TOKEN, fromEmail: FROM, baseUrl: fake.url } };
    for (let i = 0; i < 40; i++) fake.addIncident({ title: `Disk usage above 90% on a rather long hostname number ${i}.prod.example.com` });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('offers viewers list and get; acknowledge and resolve need operator and are mutating', () => {
    expect(registry.describe(viewer).map((d) => d.name)).toEqual(['pagerduty_list_incidents', 'pagerduty_get_incident']);
    expect(registry.describe(operator).map((d) => [d.name, d.mutating])).toEqual([
      ['pagerduty_list_incidents', false],
      ['pagerduty_get_incident', false],
      ['pagerduty_acknowledge_incident', true],
      ['pagerduty_resolve_incident', true],
    ]);
  });

  it('lists open incidents by default with bounded text, paging hints, data and links', async () => {
    const call = await registry.prepare('pagerduty_list_incidents', { limit: 50 }, viewer);
    expect(call.args).toMatchObject({ statuses: ['triggered', 'acknowledged'], limit: 50, offset: 0 });
    const result = await registry.run(call, toolContext(settings, { caller: viewer }));
    expect(result.content.split('\n')[0]).toBe('PagerDuty incidents 1–40 of 40 (triggered, acknowledged):');
    expect(result.content.length).toBeLessThanOrEqual(4_000);
    expect(result.content).toMatch(/\n… \d+ more not shown; narrow with statuses, serviceIds or since\/until, or lower limit$/);
    expect(result.content.split('\n')[1]).toMatch(/^Q[0-9A-F]{12} #\d+ \[triggered, high urgency, P1\] Disk usage above 90% .* number 39/);
    expect((result.data as { incidents: unknown[] }).incidents).toHaveLength(40);
    expect(result.links![0]).toEqual({
      title: expect.stringMatching(/^PagerDuty #\d+$/),
      url: expect.stringMatching(/^https:\/\/acme\.pagerduty\.com\/incidents\//),
    });

    const page = await registry.run(
      await registry.prepare('pagerduty_list_incidents', { limit: 10, offset: 10 }, viewer),
      toolContext(settings),
    );
    expect(page.content.split('\n')[0]).toBe('PagerDuty incidents 11–20 of 40 (triggered, acknowledged); next page: offset 20:');
    const none = await registry.run(
      await registry.prepare('pagerduty_list_incidents', { statuses: ['resolved'] }, viewer),
      toolContext(settings),
    );
    expect(none.content).toBe('No resolved PagerDuty incident matches.');
    const past = await registry.run(await registry.prepare('pagerduty_list_incidents', { offset: 100 }, viewer), toolContext(settings));
    expect(past.content).toBe('No triggered or acknowledged PagerDuty incidents past offset 100: 40 match in all.');
  });

  it('resolves once after a matching confirmation; a second confirmed run reports it already resolved', async () => {
    const id = fake.addIncident({ title: 'Kafka consumer lag' });
    const call = await registry.prepare('pagerduty_resolve_incident', { id }, operator);
    expect(call.risk).toBe('change');
    await expect(registry.prepare('pagerduty_resolve_incident', { id }, viewer)).rejects.toMatchObject({ reason: 'role' });
    await expect(registry.run(call, toolContext(settings))).rejects.toMatchObject({ name: 'ToolRefusedError', reason: 'confirmation' });
    const ack = await registry.prepare('pagerduty_acknowledge_incident', { id }, operator);
    await expect(registry.run(call, toolContext(settings), ack.hash)).rejects.toMatchObject({ reason: 'confirmation' });
    expect(fake.incident(id)!.status).toBe('triggered');
    expect(fake.requestsTo('PUT', `/incidents/${id}`)).toHaveLength(0);

    const resolved = await registry.run(call, toolContext(settings), call.hash);
    expect(resolved.content).toMatch(
      /^Resolved PagerDuty incident #\d+\.\nPagerDuty incident #\d+ \(Q[0-9A-F]+\): Kafka consumer lag\nStatus resolved/,
    );
    expect(fake.incident(id)!.status).toBe('resolved');
    const again = await registry.run(call, toolContext(settings), call.hash);
    expect(again.content).toMatch(/^PagerDuty incident #\d+ was already resolved\./);
    expect(fake.requestsTo('PUT', `/incidents/${id}`)).toHaveLength(2);
  });

  it('acknowledges after confirmation, and turns failures into ToolFailedError or a refusal', async () => {
    const id = fake.addIncident({ title: 'TLS certificate expiring' });
    const call = await registry.prepare('pagerduty_acknowledge_incident', { id }, operator);
    const result = await registry.run(call, toolContext(settings), call.hash);
    expect(result.data).toMatchObject({ id, status: 'acknowledged' });
    expect(fake.requestsTo('PUT', `/incidents/${id}`)[0]!.headers.from).toBe(FROM);

    const get = await registry.prepare('pagerduty_get_incident', { id: 'QMISSING' }, viewer);
    const missing = await registry.run(get, toolContext(settings)).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ToolFailedError);
    expect(missing).toMatchObject({ retryable: false, status: 404 });
    fake.failNext(429, 1, { retryAfter: '20' });
    await expect(registry.run(get, toolContext(settings))).rejects.toMatchObject({
      name: 'ToolFailedError',
      retryable: true,
      retryAfterMs: 20_000,
    });
    await expect(registry.prepare('pagerduty_get_incident', { id: 'Q1/../x' }, viewer)).rejects.toMatchObject({
      reason: 'invalid_arguments',
    });
    await expect(registry.run(get, toolContext({}))).rejects.toMatchObject({ name: 'ToolRefusedError', reason: 'not_configured' });
  });
});
