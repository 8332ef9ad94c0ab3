import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifiers } from '../../adapters/notify/create.js';
import { NotifierError, type IncidentNotice } from '../../adapters/notify/port.js';
import { PAGERDUTY_ACCEPT, PagerDutyNotifier, type PagerDutyConfig } from '../../adapters/notify/pagerduty.js';
import { ServiceNowNotifier, type ServiceNowConfig } from '../../adapters/notify/servicenow.js';
import { FakePagerDuty } from '../support/fake-pagerduty.js';
import { FakeServiceNow } from '../support/fake-servicenow.js';

// The notifiers against local servers that speak ServiceNow's Table API and PagerDuty's REST and
// Events APIs (request shape, state changes, error mapping), then against the real services when
// credentials are configured.

const SN_USER = 'infraai.integration';
const SN_PASSWORD = `pw-${randomUUID()}`;
const SN_TOKEN = `oauth-${randomUUID()}`;
const SN_BASIC = Buffer.from(`${SN_USER}:${SN_PASSWORD}`).toString('base64');
const GROUP = 'a715cd759f2002002920bde8132e7018';
const PD_KEY = `u+${randomBytes(12).toString('base64url')}`;
const PD_FROM = 'oncall-bot@example.com';
const PD_ROUTING = randomBytes(16).toString('hex');

function notice(overrides: Partial<IncidentNotice> = {}): IncidentNotice {
  return {
    incidentNumber: 42,
    title: 'nginx down on web-1',
    status: 'resolved',
    summary: 'nginx on web-1 had exited; InfraAI restarted it and the health check passes.',
    rootCause: 'nginx was killed by the OOM killer',
    actions: [{ command: 'systemctl restart nginx', outcome: 'exit 0; active (running)' }],
    url: 'https://infraai.example.com/incidents/42',
    external: {},
    ...overrides,
  };
}

async function failure(run: () => Promise<unknown>): Promise<NotifierError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(NotifierError);
    return err as NotifierError;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecret(err: unknown, ...secrets: string[]): void {
  const shown = `${String(err)}\n${inspect(err)}\n${JSON.stringify(err)}`;
  for (const secret of secrets) expect(shown).not.toContain(secret);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts requests and never answers. */
async function silentServer(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('servicenow notifier (local Table API server)', () => {
  let fake: FakeServiceNow;
  const open = (extra: Partial<ServiceNowConfig> = {}) =>
    new ServiceNowNotifier({ instanceUrl: fake.url, username: SN_USER, password: SN_PASSWORD, ...extra } as ServiceNowConfig);

  beforeAll(async () => {
    fake = await FakeServiceNow.start({ username: SN_USER, password: SN_PASSWORD });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.clearRequests();
  });

  it('resolved: one PATCH with basic auth and JSON headers sets state 6, close code and notes, and adds a work note', async () => {
    const sysId = fake.addIncident({ state: '2', short_description: 'web-1 down' });
    const result = await open().notify(notice({ external: { servicenowSysId: sysId } }));

    expect(result.delivered).toBe(true);
    expect(result.detail).toContain(sysId);
    expect(result.detail).toContain('state Resolved');
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /api/now/table/incident/${sysId}`]);
    const [request] = fake.requests;
    expect(request!.headers.authorization).toBe(`Basic ${SN_BASIC}`);
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.query).toMatchObject({ sysparm_fields: 'sys_id,number,state' });
    const body = request!.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['close_code', 'close_notes', 'state', 'work_notes']);
    expect(body).toMatchObject({ state: '6', close_code: 'Solved (Permanently)' });
    expect(body.close_notes).toContain('Root cause: nginx was killed by the OOM killer');
    expect(body.work_notes).toContain('InfraAI INC-42: resolved by InfraAI');
    expect(body.work_notes).toContain('- systemctl restart nginx -> exit 0; active (running)');
    expect(body.work_notes).toContain('https://infraai.example.com/incidents/42');

    const record = fake.incident(sysId)!;
    expect(record).toMatchObject({ state: '6', close_code: 'Solved (Permanently)' });
    expect(record.workNotes).toHaveLength(1);
  });

  it('escalated: adds a work note and sets assignment_group when one is configured, leaving the state alone', async () => {
    const sysId = fake.addIncident({ state: '2' });
    const result = await open({ assignmentGroup: GROUP }).notify(
      notice({ status: 'escalated', actions: [], external: { servicenowSysId: sysId } }),
    );

    expect(result).toMatchObject({ delivered: true });
    const body = fake.requests[0]!.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['assignment_group', 'work_notes']);
    expect(body.assignment_group).toBe(GROUP);
    expect(body.work_notes).toContain('escalated to a human by InfraAI');
    expect(body.work_notes).toContain('Fixes applied: none');
    expect(fake.incident(sysId)).toMatchObject({ state: '2', assignment_group: GROUP });
  });

  it('escalated without an assignment group, failed and cancelled: a work note only', async () => {
    const sysId = fake.addIncident({ state: '2' });
    const notifier = open();
    for (const status of ['escalated', 'failed', 'cancelled'] as const) {
      await notifier.notify(notice({ status, external: { servicenowSysId: sysId } }));
    }
    expect(fake.requests.map((r) => Object.keys(r.body as object))).toEqual([['work_notes'], ['work_notes'], ['work_notes']]);
    expect(fake.incident(sysId)!.state).toBe('2');
    expect(fake.incident(sysId)!.workNotes).toHaveLength(3);
  });

  it('no sys_id: looks for an earlier record by correlation_id, then creates the incident and returns its sys_id', async () => {
    const result = await open({ assignmentGroup: GROUP }).notify(notice({ incidentNumber: 501, status: 'escalated' }));

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/now/table/incident', 'POST /api/now/table/incident']);
    const [lookup, create] = fake.requests;
    expect(lookup!.query).toMatchObject({ sysparm_query: 'correlation_id=infraai:INC-501', sysparm_limit: '1' });
    expect(lookup!.headers.authorization).toBe(`Basic ${SN_BASIC}`);
    expect(create!.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Basic ${SN_BASIC}`,
    });
    const body = create!.body as Record<string, string>;
    expect(body).toMatchObject({
      short_description: '[InfraAI INC-501] nginx down on web-1',
      urgency: '1',
      impact: '2',
      correlation_id: 'infraai:INC-501',
      correlation_display: 'InfraAI',
      assignment_group: GROUP,
    });
    expect(body.state).toBeUndefined();
    expect(body.description).toContain('InfraAI INC-501: escalated to a human by InfraAI');

    // Exactly one record opened for the incident.
    const opened = fake.incidents().filter((r) => r.correlation_id === 'infraai:INC-501');
    expect(opened).toHaveLength(1);
    const created = opened[0];
    expect(result.delivered).toBe(true);
    expect(result.detail).toBe(`created ${created!.number} (sys_id ${created!.sys_id})`);
    expect(result.external).toEqual({ servicenowSysId: created!.sys_id, servicenowNumber: created!.number });
  });

  it('a retried notice without sys_id updates the record the first attempt created instead of opening another', async () => {
    const notifier = open();
    const first = await notifier.notify(notice({ incidentNumber: 502, status: 'failed' }));
    fake.clearRequests();
    const again = await notifier.notify(notice({ incidentNumber: 502, status: 'failed' }));

    expect(fake.incidents().filter((r) => r.correlation_id === 'infraai:INC-502')).toHaveLength(1);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/now/table/incident',
      `PATCH /api/now/table/incident/${first.external!.servicenowSysId}`,
    ]);
    expect(again.external).toEqual(first.external);
    expect(fake.incident(first.external!.servicenowSysId!)!.workNotes).toHaveLength(1);
  });

  it('an alert notice opens one incident keyed by correlation_id; a retry adds a work note to it', async () => {
    const notifier = open({ assignmentGroup: GROUP });
    const alertNotice = {
      key: 'policy-job:1b2c:breaker',
      title: "Self-healing policy 'restart' stopped: its breaker opened on web-9",
      summary: 'No incident could be raised: web-9 is not in the CMDB.',
      severity: 'critical',
      labels: { alertname: 'ServiceDown', instance: 'web-9:9100' },
      url: 'https://infraai.example.com/api/v1/jobs/1b2c',
    };
    const first = await notifier.notifyAlert(alertNotice);
    const created = fake.incidents().filter((r) => r.correlation_id === 'infraai:policy-job:1b2c:breaker');
    expect(created).toHaveLength(1);
    expect(first).toEqual({ delivered: true, detail: `created ${created[0]!.number} (sys_id ${created[0]!.sys_id})` });
    expect(created[0]).toMatchObject({
      short_description: "[InfraAI alert] Self-healing policy 'restart' stopped: its breaker opened on web-9",
      urgency: '1',
      impact: '1',
      assignment_group: GROUP,
    });
    expect(created[0]!.description).toContain('Labels: alertname=ServiceDown, instance=web-9:9100');
    expect(created[0]!.description).toContain('InfraAI job: https://infraai.example.com/api/v1/jobs/1b2c');
    const again = await notifier.notifyAlert(alertNotice);
    expect(again.detail).toMatch(/work note added/);
    expect(fake.incidents().filter((r) => r.correlation_id === 'infraai:policy-job:1b2c:breaker')).toHaveLength(1);
    expect(fake.incident(created[0]!.sys_id)!.workNotes).toHaveLength(1);
  });

  it('resolved with no sys_id creates the incident already resolved, with urgency and impact low', async () => {
    const result = await open({ closeCode: 'Solution provided' }).notify(notice({ incidentNumber: 503 }));
    const record = fake.incident(result.external!.servicenowSysId!)!;
    expect(record).toMatchObject({ state: '6', close_code: 'Solution provided', urgency: '3', impact: '3' });
    expect(record.close_notes).toContain('Resolved by InfraAI (INC-503)');
  });

  it('OAuth: sends Authorization: Bearer <token>', async () => {
    const tokenFake = await FakeServiceNow.start({ token: SN_TOKEN });
    try {
      const sysId = tokenFake.addIncident();
      const result = await new ServiceNowNotifier({ instanceUrl: tokenFake.url, token: SN_TOKEN }).notify(
        notice({ status: 'escalated', external: { servicenowSysId: sysId } }),
      );
      expect(result.delivered).toBe(true);
      expect(tokenFake.requests[0]!.headers.authorization).toBe(`Bearer ${SN_TOKEN}`);

      const err = await failure(() =>
        new ServiceNowNotifier({ instanceUrl: tokenFake.url, token: `${SN_TOKEN}-revoked` }).notify(
          notice({ external: { servicenowSysId: sysId } }),
        ),
      );
      expect(err).toMatchObject({ retryable: false, status: 401 });
      expectNoSecret(err, SN_TOKEN);
    } finally {
      await tokenFake.close();
    }
  });

  it('401 (wrong password) is not retryable, and neither the password nor the encoded credentials appear', async () => {
    const sysId = fake.addIncident();
    const wrong = `${SN_PASSWORD}-old`;
    const err = await failure(() => open({ password: wrong }).notify(notice({ external: { servicenowSysId: sysId } })));
    expect(err).toMatchObject({ name: 'NotifierError', notifier: 'servicenow', retryable: false, status: 401 });
    expect(err.message).toContain('credentials rejected');
    expect(err.message).toContain('User Not Authenticated');
    expectNoSecret(err, wrong, Buffer.from(`${SN_USER}:${wrong}`).toString('base64'), SN_PASSWORD);
  });

  it('a secret echoed back in an error body is masked', async () => {
    const sysId = fake.addIncident();
    fake.failNext(400, 1, { detail: `rejected credentials ${SN_USER}:${SN_PASSWORD} (Basic ${SN_BASIC})` });
    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: sysId } })));
    expect(err).toMatchObject({ retryable: false, status: 400 });
    expect(err.message).toContain('[REDACTED]');
    expectNoSecret(err, SN_PASSWORD, SN_BASIC);
  });

  it('429 with Retry-After is retryable and carries retryAfterMs', async () => {
    const sysId = fake.addIncident();
    fake.failNext(429, 1, { retryAfter: '7' });
    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: sysId } })));
    expect(err).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 });
    expect(err.message).toContain('rate limited');
  });

  it('503 is retryable', async () => {
    const sysId = fake.addIncident();
    fake.failNext(503);
    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: sysId } })));
    expect(err).toMatchObject({ retryable: true, status: 503 });
    expect(fake.incident(sysId)!.workNotes).toHaveLength(0);
  });

  it('an unknown sys_id (404) is not retryable', async () => {
    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: 'f'.repeat(32) } })));
    expect(err).toMatchObject({ retryable: false, status: 404 });
    expect(err.message).toContain('No Record found');
  });

  it('403 (a data policy or ACL refusal) is not retryable', async () => {
    const sysId = fake.addIncident();
    fake.failNext(403, 1, { detail: 'Data Policy Exception: the following fields are mandatory: Resolution code' });
    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: sysId } })));
    expect(err).toMatchObject({ retryable: false, status: 403 });
    expect(err.message).toContain('Data Policy Exception');
  });

  it('network failures and timeouts are retryable', async () => {
    const port = await closedPort();
    const refused = await failure(() =>
      new ServiceNowNotifier({ instanceUrl: `http://127.0.0.1:${port}`, username: SN_USER, password: SN_PASSWORD }).notify(
        notice({ external: { servicenowSysId: 'a'.repeat(32) } }),
      ),
    );
    expect(refused).toMatchObject({ retryable: true, status: undefined });
    expect(refused.message).toContain('ECONNREFUSED');
    expectNoSecret(refused, SN_PASSWORD, SN_BASIC);

    const silent = await silentServer();
    try {
      const timedOut = await failure(() =>
        new ServiceNowNotifier({ instanceUrl: silent.url, username: SN_USER, password: SN_PASSWORD, timeoutMs: 300 }).notify(
          notice({ external: { servicenowSysId: 'a'.repeat(32) } }),
        ),
      );
      expect(timedOut).toMatchObject({ retryable: true, status: undefined });
      expect(timedOut.message).toContain('within 300 ms');
    } finally {
      silent.server.closeAllConnections();
      await new Promise<void>((resolve) => silent.server.close(() => resolve()));
    }
  });

  it('rejects bad configuration and a malformed sys_id without echoing secrets', async () => {
    const withCreds = (() => {
      try {
        return new ServiceNowNotifier({
          instanceUrl: `https://${SN_USER}:${SN_PASSWORD}@dev.service-now.com`,
          username: SN_USER,
          password: SN_PASSWORD,
        });
      } catch (err) {
        return err;
      }
    })();
    expect(withCreds).toBeInstanceOf(NotifierError);
    expect(withCreds).toMatchObject({ retryable: false });
    expectNoSecret(withCreds, SN_PASSWORD);
    expect(() => new ServiceNowNotifier({ instanceUrl: fake.url, username: SN_USER, password: '' })).toThrow(
      /username and password, or token/,
    );
    expect(() => open({ assignmentGroup: 'Service Desk' })).toThrow(/assignmentGroup must be a sys_id/);

    const err = await failure(() => open().notify(notice({ external: { servicenowSysId: '../sys_user/x' } })));
    expect(err).toMatchObject({ retryable: false });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('pagerduty notifier (local REST and Events API server)', () => {
  let fake: FakePagerDuty;
  const rest = (extra: Partial<PagerDutyConfig> = {}) =>
    new PagerDutyNotifier({ apiKey: PD_KEY, fromEmail: PD_FROM, apiBaseUrl: fake.url, eventsBaseUrl: fake.url, ...extra });
  const events = (extra: Partial<PagerDutyConfig> = {}) =>
    new PagerDutyNotifier({ routingKey: PD_ROUTING, apiBaseUrl: fake.url, eventsBaseUrl: fake.url, ...extra });

  beforeAll(async () => {
    fake = await FakePagerDuty.start({ apiKey: PD_KEY, users: [PD_FROM], routingKey: PD_ROUTING });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.clearRequests();
  });

  it('escalated: one POST of a note with Token auth, the v2 Accept header, JSON and From; the incident stays open', async () => {
    const id = fake.addIncident();
    const result = await rest().notify(notice({ status: 'escalated', external: { pagerdutyIncidentId: id } }));

    expect(result).toEqual({ delivered: true, detail: `note added to PagerDuty incident ${id}` });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /incidents/${id}/notes`]);
    const [request] = fake.requests;
    expect(request!.headers).toMatchObject({
      authorization: `Token token=${PD_KEY}`,
      accept: PAGERDUTY_ACCEPT,
      'content-type': 'application/json',
      from: PD_FROM,
    });
    expect(PAGERDUTY_ACCEPT).toBe('application/vnd.pagerduty+json;version=2');
    const body = request!.body as { note: { content: string } };
    expect(Object.keys(body)).toEqual(['note']);
    expect(Object.keys(body.note)).toEqual(['content']);
    expect(body.note.content).toContain('InfraAI INC-42: escalated to a human by InfraAI');
    expect(body.note.content).toContain('Root cause: nginx was killed by the OOM killer');
    expect(fake.incident(id)).toMatchObject({ status: 'triggered' });
    expect(fake.incident(id)!.notes).toHaveLength(1);
  });

  it('resolved: the note, then PUT /incidents/{id} with incident_reference / resolved', async () => {
    const id = fake.addIncident({ status: 'acknowledged' });
    const result = await rest().notify(notice({ external: { pagerdutyIncidentId: id } }));

    expect(result).toEqual({ delivered: true, detail: `note added to PagerDuty incident ${id}; incident resolved` });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /incidents/${id}/notes`, `PUT /incidents/${id}`]);
    const put = fake.requests[1]!;
    expect(put.body).toEqual({ incident: { type: 'incident_reference', status: 'resolved' } });
    expect(put.headers).toMatchObject({
      authorization: `Token token=${PD_KEY}`,
      accept: PAGERDUTY_ACCEPT,
      'content-type': 'application/json',
      from: PD_FROM,
    });
    expect(fake.incident(id)).toMatchObject({ status: 'resolved' });
  });

  it('resolved when someone resolved it first: delivered, and says so', async () => {
    const id = fake.addIncident({ status: 'resolved' });
    const result = await rest().notify(notice({ external: { pagerdutyIncidentId: id } }));
    expect(result).toEqual({ delivered: true, detail: `note added to PagerDuty incident ${id}; incident was already resolved` });
  });

  it('skips cleanly, without a request, when the incident has no reference it can use', async () => {
    expect(await rest().notify(notice())).toEqual({ delivered: false, detail: 'no PagerDuty incident id on this incident' });
    expect(await events().notify(notice({ external: { pagerdutyIncidentId: 'PABC123' } }))).toEqual({
      delivered: false,
      detail: 'no PagerDuty dedup key on this incident',
    });
    expect(await rest({ routingKey: PD_ROUTING }).notify(notice({ external: { servicenowSysId: 'a'.repeat(32) } }))).toEqual({
      delivered: false,
      detail: 'no PagerDuty incident id or dedup key on this incident',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('Events API: a resolve event with routing_key and dedup_key, and no Authorization header', async () => {
    const id = fake.addIncident({ dedupKey: 'infraai/web-1/nginx' });
    const result = await events().notify(notice({ external: { pagerdutyDedupKey: 'infraai/web-1/nginx' } }));

    expect(result).toEqual({ delivered: true, detail: 'resolve event accepted for PagerDuty dedup key infraai/web-1/nginx' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/enqueue']);
    const [request] = fake.requests;
    expect(request!.body).toEqual({ routing_key: PD_ROUTING, event_action: 'resolve', dedup_key: 'infraai/web-1/nginx' });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBeUndefined();
    expect(fake.incident(id)).toMatchObject({ status: 'resolved' });
  });

  it('Events API: escalated sends nothing by default (the on-call keeps being paged), acknowledge when configured', async () => {
    const id = fake.addIncident({ dedupKey: 'infraai/db-1/disk' });
    const quiet = await events().notify(notice({ status: 'escalated', external: { pagerdutyDedupKey: 'infraai/db-1/disk' } }));
    expect(quiet.delivered).toBe(false);
    expect(quiet.detail).toContain('left open for the on-call');
    expect(fake.requests).toHaveLength(0);

    const acked = await events({ acknowledgeUnresolved: true }).notify(
      notice({ status: 'escalated', external: { pagerdutyDedupKey: 'infraai/db-1/disk' } }),
    );
    expect(acked).toEqual({ delivered: true, detail: 'acknowledge event accepted for PagerDuty dedup key infraai/db-1/disk' });
    expect(fake.requests[0]!.body).toEqual({ routing_key: PD_ROUTING, event_action: 'acknowledge', dedup_key: 'infraai/db-1/disk' });
    expect(fake.incident(id)).toMatchObject({ status: 'acknowledged' });
  });

  it('an alert notice is a trigger event keyed by the notice (Events API); without a routing key it is not sent', async () => {
    const alertNotice = {
      key: 'policy-job:77aa',
      title: 'restart web: ServiceDown on web-9',
      summary: 'web is down on web-9',
      severity: 'warning',
      labels: { alertname: 'ServiceDown', instance: 'web-9:9100', job: 'web' },
      url: null,
    };
    const sent = await events().notifyAlert(alertNotice);
    expect(sent).toEqual({ delivered: true, detail: 'trigger event accepted for PagerDuty dedup key infraai:policy-job:77aa' });
    const [request] = fake.requestsTo('POST', '/v2/enqueue');
    expect(request!.body).toMatchObject({
      routing_key: PD_ROUTING,
      event_action: 'trigger',
      dedup_key: 'infraai:policy-job:77aa',
      payload: { summary: 'restart web: ServiceDown on web-9', source: 'web-9:9100', severity: 'warning', component: 'web' },
    });
    expect(fake.events.at(-1)).toMatchObject({ event_action: 'trigger', dedup_key: 'infraai:policy-job:77aa' });
    fake.clearRequests();
    expect(await rest().notifyAlert(alertNotice)).toEqual({
      delivered: false,
      detail: 'paging for an alert needs a routing key (Events API v2)',
    });
    expect(fake.requests).toEqual([]);
  });

  it('with both keys: REST when the incident id is known, the Events API when only the dedup key is', async () => {
    const id = fake.addIncident({ dedupKey: 'both-keys' });
    const notifier = rest({ routingKey: PD_ROUTING });
    await notifier.notify(notice({ status: 'escalated', external: { pagerdutyIncidentId: id, pagerdutyDedupKey: 'both-keys' } }));
    await notifier.notify(notice({ external: { pagerdutyDedupKey: 'both-keys' } }));
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /incidents/${id}/notes`, 'POST /v2/enqueue']);
  });

  it('401 is not retryable and the API key does not appear', async () => {
    const id = fake.addIncident();
    const wrong = `${PD_KEY}x`;
    const err = await failure(() => rest({ apiKey: wrong }).notify(notice({ external: { pagerdutyIncidentId: id } })));
    expect(err).toMatchObject({ notifier: 'pagerduty', retryable: false, status: 401 });
    expect(err.message).toContain('Authentication failed');
    expectNoSecret(err, wrong, PD_KEY);
  });

  it('429 with Retry-After is retryable with retryAfterMs; ratelimit-reset is used when Retry-After is absent', async () => {
    const id = fake.addIncident();
    fake.failNext(429, 1, { retryAfter: '3' });
    const err = await failure(() => rest().notify(notice({ external: { pagerdutyIncidentId: id } })));
    expect(err).toMatchObject({ retryable: true, status: 429, retryAfterMs: 3000 });

    fake.failNext(429, 1, { rateLimitReset: '12' });
    const reset = await failure(() => rest().notify(notice({ external: { pagerdutyIncidentId: id } })));
    expect(reset).toMatchObject({ retryable: true, status: 429, retryAfterMs: 12_000 });
    expect(fake.incident(id)!.notes).toHaveLength(0);
  });

  it('503 is retryable, on the REST and the Events API', async () => {
    const id = fake.addIncident();
    fake.failNext(503);
    expect(await failure(() => rest().notify(notice({ external: { pagerdutyIncidentId: id } })))).toMatchObject({
      retryable: true,
      status: 503,
    });
    fake.failNext(503);
    expect(await failure(() => events().notify(notice({ external: { pagerdutyDedupKey: 'x' } })))).toMatchObject({
      retryable: true,
      status: 503,
    });
    fake.failNext(429, 1, { retryAfter: '1' });
    expect(await failure(() => events().notify(notice({ external: { pagerdutyDedupKey: 'x' } })))).toMatchObject({
      retryable: true,
      status: 429,
      retryAfterMs: 1000,
    });
  });

  it('an unknown incident (404), an unknown From user and a wrong routing key (400) are not retryable', async () => {
    const missing = await failure(() => rest().notify(notice({ external: { pagerdutyIncidentId: 'PNOSUCH' } })));
    expect(missing).toMatchObject({ retryable: false, status: 404 });

    const id = fake.addIncident();
    const from = await failure(() => rest({ fromEmail: 'stranger@example.com' }).notify(notice({ external: { pagerdutyIncidentId: id } })));
    expect(from).toMatchObject({ retryable: false, status: 400 });
    expect(from.message).toContain('From');

    const wrongKey = randomBytes(16).toString('hex');
    const routing = await failure(() => events({ routingKey: wrongKey }).notify(notice({ external: { pagerdutyDedupKey: 'x' } })));
    expect(routing).toMatchObject({ retryable: false, status: 400 });
    expect(routing.message).toContain('Invalid routing key');
    expectNoSecret(routing, wrongKey);
  });

  it('network failures are retryable', async () => {
    const port = await closedPort();
    const err = await failure(() =>
      rest({ apiBaseUrl: `http://127.0.0.1:${port}` }).notify(notice({ external: { pagerdutyIncidentId: 'PABC123' } })),
    );
    expect(err).toMatchObject({ retryable: true, status: undefined });
    expectNoSecret(err, PD_KEY);
  });

  it('rejects incomplete configuration and a malformed incident id', async () => {
    expect(() => new PagerDutyNotifier({})).toThrow(/apiKey .* or a routingKey/);
    expect(() => new PagerDutyNotifier({ apiKey: PD_KEY })).toThrow(/fromEmail/);
    const err = await failure(() => rest().notify(notice({ external: { pagerdutyIncidentId: '../users/P1' } })));
    expect(err).toMatchObject({ retryable: false });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('createNotifiers', () => {
  it('returns the configured notifiers, none when nothing is configured', () => {
    expect(createNotifiers({})).toEqual([]);
    const notifiers = createNotifiers({
      servicenow: { instanceUrl: 'https://dev00000.service-now.com', username: SN_USER, password: SN_PASSWORD },
      pagerduty: { routingKey: PD_ROUTING },
    });
    expect(notifiers.map((n) => n.name)).toEqual(['servicenow', 'pagerduty']);
    expect(createNotifiers({ pagerduty: { apiKey: PD_KEY, fromEmail: PD_FROM } }).map((n) => n.name)).toEqual(['pagerduty']);
  });

  it('throws a non-retryable NotifierError for an incomplete section', () => {
    expect(() => createNotifiers({ pagerduty: { apiKey: PD_KEY } })).toThrow(NotifierError);
    expect(() => createNotifiers({ servicenow: { instanceUrl: 'not a url', token: SN_TOKEN } })).toThrow(/instanceUrl is not a valid URL/);
  });
});

// Live ServiceNow (a developer instance is enough): creates an incident for a made-up InfraAI
// incident, then resolves it. SERVICENOW_CLOSE_CODE overrides the close code for instances on the
// newer resolution-code list (e.g. "Solution provided").
const snUrl = process.env.SERVICENOW_INSTANCE_URL?.trim();
const snUser = process.env.SERVICENOW_USERNAME?.trim();
const snPassword = process.env.SERVICENOW_PASSWORD;
const snLive = Boolean(snUrl && snUser && snPassword);
const snLiveTitle = snLive
  ? 'servicenow (live)'
  : 'servicenow (live) skipped: set SERVICENOW_INSTANCE_URL, SERVICENOW_USERNAME and SERVICENOW_PASSWORD';

describe.skipIf(!snLive)(snLiveTitle, () => {
  const config = (): ServiceNowConfig & { username: string; password: string } => ({
    instanceUrl: snUrl!,
    username: snUser!,
    password: snPassword!,
    correlationPrefix: `infraai-test-${randomBytes(4).toString('hex')}`,
    ...(process.env.SERVICENOW_CLOSE_CODE?.trim() ? { closeCode: process.env.SERVICENOW_CLOSE_CODE.trim() } : {}),
  });

  it('creates an incident for an escalation, then resolves it by sys_id', async () => {
    const notifier = new ServiceNowNotifier(config());
    const number = 900_000 + Math.floor(Math.random() * 99_999);
    const created = await notifier.notify(
      notice({ incidentNumber: number, status: 'escalated', title: 'InfraAI notifier test (safe to close)' }),
    );
    expect(created.delivered).toBe(true);
    const sysId = created.external?.servicenowSysId;
    expect(sysId).toMatch(/^[0-9a-f]{32}$/);
    const resolved = await notifier.notify(
      notice({ incidentNumber: number, title: 'InfraAI notifier test (safe to close)', external: { servicenowSysId: sysId! } }),
    );
    expect(resolved.delivered).toBe(true);
    expect(resolved.detail).toContain('state Resolved');
  });

  it('a wrong password is a non-retryable 401 that does not show the password', async () => {
    const wrong = `${snPassword}-wrong-${randomUUID()}`;
    const err = await failure(() =>
      new ServiceNowNotifier({ ...config(), password: wrong }).notify(notice({ external: { servicenowSysId: '0'.repeat(32) } })),
    );
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expectNoSecret(err, wrong, snPassword!);
  });
});

// Live PagerDuty: adds a note to PAGERDUTY_TEST_INCIDENT_ID (an incident kept for tests) and never
// changes its status. PAGERDUTY_API_BASE_URL selects another region (https://api.eu.pagerduty.com).
const pdKey = process.env.PAGERDUTY_API_KEY?.trim();
const pdFrom = process.env.PAGERDUTY_FROM_EMAIL?.trim();
const pdIncident = process.env.PAGERDUTY_TEST_INCIDENT_ID?.trim();
const pdLive = Boolean(pdKey && pdFrom && pdIncident);
const pdLiveTitle = pdLive
  ? 'pagerduty (live)'
  : 'pagerduty (live) skipped: set PAGERDUTY_API_KEY, PAGERDUTY_FROM_EMAIL and PAGERDUTY_TEST_INCIDENT_ID';

describe.skipIf(!pdLive)(pdLiveTitle, () => {
  const config = (): PagerDutyConfig => ({
    apiKey: pdKey!,
    fromEmail: pdFrom!,
    ...(process.env.PAGERDUTY_API_BASE_URL?.trim() ? { apiBaseUrl: process.env.PAGERDUTY_API_BASE_URL.trim() } : {}),
  });

  it('adds a note to the test incident (status unchanged)', async () => {
    const result = await new PagerDutyNotifier(config()).notify(
      notice({ status: 'escalated', title: 'InfraAI notifier test note', external: { pagerdutyIncidentId: pdIncident! } }),
    );
    expect(result).toEqual({ delivered: true, detail: `note added to PagerDuty incident ${pdIncident}` });
  });

  it('a wrong API key is a non-retryable 401 that does not show the key', async () => {
    const wrong = `${pdKey}x`;
    const err = await failure(() =>
      new PagerDutyNotifier({ ...config(), apiKey: wrong }).notify(
        notice({ status: 'escalated', external: { pagerdutyIncidentId: pdIncident! } }),
      ),
    );
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expectNoSecret(err, wrong);
  });
});
