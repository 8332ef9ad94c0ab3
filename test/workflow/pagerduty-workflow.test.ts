import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { createPagerDutyRelayer, type PagerDutyRelayer, type RelayContext } from '../../ingress/pagerduty-relay.js';
import { approvalUpdate, incidentStateQuery, SEARCH_ATTRIBUTES, type IncidentWorkflowState } from '../../core/contracts/incident.js';
import { pagerDutyEventSignal, pagerDutyStateQuery, pagerDutyWorkflowId, type PagerDutyRunState } from '../../core/contracts/pagerduty.js';
import { relayPagerDutyEvent } from '../../core/ingress/pagerduty.js';
import { scriptSupervisorService, type FakeHost } from '../support/fake-host.js';
import { PAGERDUTY_WORKFLOW_REVISION, saveHistoryFixture } from '../support/histories.js';
import { startIncidentHarness, type IncidentHarness } from '../support/incident-harness.js';
import { pdEvents, pdIncident, type PdIncident } from '../support/pagerduty-events.js';
import { waitFor } from '../support/stack.js';

// Workflow tier: the PagerDuty run (pd-<incident id>) for real on the dev server, started and
// signalled through the relayer the webhook and the SQS bridge share, over the incident harness
// (PGlite store, bundled runbooks, fake hosts). Each PagerDuty service maps to a CMDB item by its
// `pagerduty_service` tag; the remediation is the real incident workflow, as a child.

const PORT_HOLDER = 'LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("python3",pid=4242,fd=3))';
const STOP_HOLDER_AND_START = 'kill -TERM 4242 ; sleep 2 ; supervisorctl start web';
/** What PagerDuty's title says when the port-in-use runbook applies (its high-risk fix waits for approval). */
const PORT_IN_USE_TITLE = 'web cannot start: bind() to 0.0.0.0:8080 failed: address already in use';

const PAGERDUTY_REVISION = { family: 'pagerduty', revision: PAGERDUTY_WORKFLOW_REVISION };

let harness: IncidentHarness;
let relayer: PagerDutyRelayer;
let hostCount = 0;

beforeAll(async () => {
  harness = await startIncidentHarness();
  relayer = createPagerDutyRelayer(harness.client, { taskQueue: harness.taskQueue, pagerDutyTenantSlug: harness.tenant.slug });
});

afterAll(async () => {
  await harness?.close();
});

const via = (path: RelayContext['via'] = 'webhook'): RelayContext => ({
  tenantId: harness.tenant.id,
  tenantSlug: harness.tenant.slug,
  via: path,
});

/** A CMDB item on its own fake host, tagged as PagerDuty service `serviceId`, web scripted as a supervisor program. */
async function host(tagId: string, serviceId: string, service: Parameters<typeof scriptSupervisorService>[2] = {}): Promise<FakeHost> {
  hostCount += 1;
  const address = `10.98.0.${hostCount}`;
  await harness.addHost(tagId, address, { pagerduty_service: serviceId });
  const fake = harness.hosts.host(address);
  scriptSupervisorService(fake, 'web', service);
  return fake;
}

const pdHandle = (incident: PdIncident): WorkflowHandle => harness.client.workflow.getHandle(pagerDutyWorkflowId(incident.id, null));

async function pdStateOnce(incident: PdIncident, check: (state: PagerDutyRunState) => boolean, what: string): Promise<PagerDutyRunState> {
  return waitFor(async () => {
    const state = await pdHandle(incident).query(pagerDutyStateQuery);
    return check(state) ? state : null;
  }, what);
}

async function incidentRun(incident: PdIncident): Promise<WorkflowHandle> {
  const state = await pdStateOnce(incident, (s) => s.remediationWorkflowId !== null && s.status !== 'starting', 'the remediation run');
  return harness.client.workflow.getHandle(state.remediationWorkflowId!);
}

async function awaitingApproval(handle: WorkflowHandle): Promise<IncidentWorkflowState> {
  return waitFor(async () => {
    const state = await handle.query(incidentStateQuery);
    return state.status === 'awaiting_approval' ? state : null;
  }, 'the plan to wait for approval');
}

describe.concurrent('the PagerDuty run (pd-<incident id>)', () => {
  it('triggered: records the InfraAI incident and runs its remediation as the child incident-<id>', async () => {
    const fake = await host('pd-auto-01', 'PSVCAUTO1');
    const incident = pdIncident('PSVCAUTO1');
    expect(await relayer.relay(pdEvents.triggered(incident), via())).toMatchObject({
      kind: 'started',
      workflowId: `pd-${incident.id}`,
    });

    const state = (await pdHandle(incident).result()) as PagerDutyRunState;
    expect(state).toMatchObject({
      pagerDutyIncidentId: incident.id,
      status: 'completed',
      tagId: 'pd-auto-01',
      via: 'webhook',
      pagerDutyStatus: 'triggered',
      appliedEventIds: [expect.any(String)],
    });
    expect(state.summary).toMatch(/^INC-\d+ resolved: Service down/);

    const row = await harness.store.incidents.get(harness.tenant.id, state.incidentId!);
    expect(row).toMatchObject({
      number: state.incidentNumber,
      title: 'web is down',
      severity: 'high',
      source: 'pagerduty',
      tagId: 'pd-auto-01',
      status: 'resolved',
      targetHost: 'pd-auto-01.fake.internal',
      createdBy: 'pagerduty:webhook',
      workflowId: `incident-${state.incidentId}`,
      external: {
        pagerdutyIncidentId: incident.id,
        pagerdutyUrl: `https://acme.pagerduty.com/incidents/${incident.id}`,
        pagerdutyNumber: String(incident.number),
      },
    });
    expect(row!.description).toContain(`PagerDuty incident #${incident.number} (${incident.id})`);
    expect(state.remediationWorkflowId).toBe(`incident-${state.incidentId}`);

    const child = harness.client.workflow.getHandle(state.remediationWorkflowId!);
    const childState = (await child.result()) as IncidentWorkflowState;
    expect(childState.status).toBe('resolved');
    expect(fake.commands('supervisorctl start web')).toHaveLength(1);
    const described = await child.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant)).toBe(harness.tenant.slug);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.severity)).toBe('high');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.targetHost)).toBe('pd-auto-01.fake.internal');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.incidentStatus)).toBe('resolved');
    expect(described.raw.workflowExecutionInfo?.parentExecution?.workflowId).toBe(`pd-${incident.id}`);
    // The API's read model of the incident run is the same as for any incident.
    expect(await harness.store.runs.get(harness.tenant.id, 'incident', state.incidentId!)).toMatchObject({ status: 'resolved' });

    await saveHistoryFixture(harness.client, pagerDutyWorkflowId(incident.id, null), 'remediated', PAGERDUTY_REVISION);
  });

  it('unmapped: no CMDB item carries the service tag, so nothing is recorded and the run waits for the resolution', async () => {
    const incident = pdIncident('PNOMAP01');
    expect(await relayer.relay(pdEvents.triggered(incident), via('sqs'))).toMatchObject({ kind: 'started' });
    const waiting = await pdStateOnce(incident, (s) => s.status === 'unmapped', 'the unmapped status');
    expect(waiting.summary).toBe(
      'Not remediated: no CMDB item carries the tag pagerduty_service=PNOMAP01 (service Service PNOMAP01). The incident stays with on-call; this run waits for it to be resolved.',
    );
    expect(waiting.incidentId).toBeNull();

    expect(await relayer.relay(pdEvents.acknowledged(incident), via())).toMatchObject({ kind: 'signalled' });
    expect(await relayer.relay(pdEvents.resolved(incident, { by: 'Bob Oncall' }), via())).toMatchObject({ kind: 'signalled' });
    const state = (await pdHandle(incident).result()) as PagerDutyRunState;
    expect(state).toMatchObject({ status: 'unmapped', pagerDutyStatus: 'resolved', incidentId: null, remediationWorkflowId: null });
    expect(state.summary).toContain('Resolved in PagerDuty by Bob Oncall.');
    expect(state.events.map((e) => [e.eventType, e.handling])).toEqual([
      ['incident.triggered', 'recorded'],
      ['incident.acknowledged', 'recorded'],
      ['incident.resolved', 'recorded'],
    ]);
    const rows = await harness.store.incidents.list(harness.tenant.id, {}, { limit: 100 });
    expect(rows.items.filter((row) => row.external.pagerdutyIncidentId === incident.id)).toEqual([]);
    // Once ended, a later event finds no run (the relay says so; the bridge and the webhook acknowledge it).
    expect(await relayer.relay(pdEvents.acknowledged(incident), via())).toMatchObject({ kind: 'no_run' });
    await saveHistoryFixture(harness.client, pagerDutyWorkflowId(incident.id, null), 'unmapped-resolved', PAGERDUTY_REVISION);
  });

  it('annotated: a note reaches the incident run once, however often and by whichever path it arrives', async () => {
    const fake = await host('pd-note-01', 'PSVCNOTE1');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const incident = pdIncident('PSVCNOTE1', { title: PORT_IN_USE_TITLE });
    await relayer.relay(pdEvents.triggered(incident), via());
    const child = await incidentRun(incident);
    await awaitingApproval(child);

    const note = pdEvents.annotated(incident, 'Looking at it from the bastion', { eventId: 'note-once-1', by: 'Carol Oncall' });
    const outcomes = await Promise.all([relayer.relay(note, via()), relayer.relay(note, via('sqs')), relayer.relay(note, via())]);
    expect(outcomes.map((o) => o.kind)).toEqual(['signalled', 'signalled', 'signalled']);
    // A later event, forwarded after the note: once it is there, any repeat of the note would be too.
    await relayer.relay(pdEvents.acknowledged(incident, { by: 'Carol Oncall' }), via());
    const context = await waitFor(async () => {
      const state = await child.query(incidentStateQuery);
      return state.context.some((c) => c.note.startsWith('PagerDuty incident.acknowledged')) ? state.context : null;
    }, 'the acknowledgement in the incident run');
    expect(context.map((c) => [c.note, c.author])).toEqual([
      ['PagerDuty incident.annotated by Carol Oncall: Looking at it from the bastion', 'pagerduty:Carol Oncall'],
      ['PagerDuty incident.acknowledged by Carol Oncall', 'pagerduty:Carol Oncall'],
    ]);
    const state = await pdHandle(incident).query(pagerDutyStateQuery);
    expect(state.appliedEventIds.filter((id) => id === 'note-once-1')).toHaveLength(1);
    expect(state).toMatchObject({ forwardedNotes: 2, pagerDutyStatus: 'acknowledged', status: 'remediating' });
    expect(state.events.slice(1).map((e) => [e.eventType, e.handling])).toEqual([
      ['incident.annotated', 'forwarded'],
      ['incident.acknowledged', 'forwarded'],
    ]);

    // Ends the runs: the resolution stops the waiting plan (the next test asserts what that does).
    await relayer.relay(pdEvents.resolved(incident), via());
    expect(((await pdHandle(incident).result()) as PagerDutyRunState).status).toBe('resolved_elsewhere');
  });

  it('resolved while the plan awaits approval: the incident run stops without changing the host', async () => {
    const fake = await host('pd-resolve-01', 'PSVCRES1');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const incident = pdIncident('PSVCRES1', { title: PORT_IN_USE_TITLE });
    await relayer.relay(pdEvents.triggered(incident), via());
    const child = await incidentRun(incident);
    const waiting = await awaitingApproval(child);
    expect(waiting.proposedActions).toMatchObject([{ command: STOP_HOLDER_AND_START, risk: 'high' }]);

    expect(await relayer.relay(pdEvents.resolved(incident, { by: 'Bob Oncall' }), via())).toMatchObject({ kind: 'signalled' });
    const childState = (await child.result()) as IncidentWorkflowState;
    expect(childState.status).toBe('resolved');
    expect(childState.summary).toBe(
      'Resolved in PagerDuty by Bob Oncall while InfraAI was waiting for approval: the remediation stopped; nothing was changed on pd-resolve-01.fake.internal.',
    );
    expect(childState.approval).toMatchObject({ decision: 'withdrawn', by: 'Bob Oncall' });
    expect(childState.resolvedElsewhere).toMatchObject({ source: 'PagerDuty', by: 'Bob Oncall', outcome: 'stopped' });
    expect(childState.commands?.every((c) => c.phase === 'diagnostic')).toBe(true);
    expect(fake.commands(STOP_HOLDER_AND_START)).toHaveLength(0);

    const state = (await pdHandle(incident).result()) as PagerDutyRunState;
    expect(state).toMatchObject({ status: 'resolved_elsewhere', pagerDutyStatus: 'resolved' });
    const row = await harness.store.incidents.get(harness.tenant.id, state.incidentId!);
    expect(row).toMatchObject({ status: 'resolved', summary: childState.summary });
    const [result] = await harness.store.results.listForIncident(harness.tenant.id, state.incidentId!);
    expect(result).toMatchObject({ status: 'resolved', details: { resolvedElsewhere: { outcome: 'stopped' } } });
    expect((await harness.store.leases.list(harness.tenant.id)).filter((l) => l.host === fake.address)).toEqual([]);
    // The plan is no longer waiting: a late approval is refused.
    await expect(
      child.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'alice', planHash: waiting.approval!.planHash }] }),
    ).rejects.toThrow();

    await saveHistoryFixture(harness.client, child.workflowId, 'resolved-elsewhere-awaiting-approval');
    await saveHistoryFixture(harness.client, pagerDutyWorkflowId(incident.id, null), 'resolved-awaiting-approval', PAGERDUTY_REVISION);
  });

  it('resolved while the diagnostics run: the read-only step finishes, nothing after it starts', async () => {
    const fake = await host('pd-diag-01', 'PSVCDIAG1');
    // The first diagnostic takes a while: the resolution arrives while it runs.
    fake.on('supervisorctl status web', { exitCode: 3, stdout: 'web STOPPED', delayMs: 3000 }, 1);
    const incident = pdIncident('PSVCDIAG1');
    await relayer.relay(pdEvents.triggered(incident), via());
    const child = await incidentRun(incident);
    await waitFor(() => fake.commands('supervisorctl status web').length > 0, 'the first diagnostic');
    await relayer.relay(pdEvents.resolved(incident, { by: 'Dan Oncall' }), via());

    const childState = (await child.result()) as IncidentWorkflowState;
    expect(childState.status).toBe('resolved');
    expect(childState.summary).toMatch(
      /^Resolved in PagerDuty by Dan Oncall while InfraAI was (?:running read-only diagnostics|investigating)/,
    );
    expect(childState.resolvedElsewhere?.outcome).toBe('stopped');
    expect(childState.commands?.every((c) => c.phase === 'diagnostic')).toBe(true);
    expect(fake.commands('supervisorctl start web')).toHaveLength(0);
    expect(((await pdHandle(incident).result()) as PagerDutyRunState).status).toBe('resolved_elsewhere');
    await saveHistoryFixture(harness.client, child.workflowId, 'resolved-elsewhere-during-diagnostics');
  });

  it('resolved while the host is being changed: the change goes to its end and the summary says so', async () => {
    const fake = await host('pd-change-01', 'PSVCCHG1', { startDelayMs: 3000 });
    const incident = pdIncident('PSVCCHG1');
    await relayer.relay(pdEvents.triggered(incident), via());
    const child = await incidentRun(incident);
    await waitFor(() => fake.commands('supervisorctl start web').length > 0, 'the fix to start');
    await relayer.relay(pdEvents.resolved(incident, { by: 'Erin Oncall' }), via());

    const childState = (await child.result()) as IncidentWorkflowState;
    expect(childState.status).toBe('resolved');
    expect(childState.summary).toContain('Fixed (start-service: applied) and verified.');
    expect(childState.summary).toContain(
      '(PagerDuty reported the incident resolved by Erin Oncall while InfraAI was changing the host; the change was finished, not cut short.)',
    );
    expect(childState.resolvedElsewhere?.outcome).toBe('noted');
    expect(childState.verification?.passed).toBe(true);
    expect(fake.commands('supervisorctl start web')).toHaveLength(1);
    expect(((await pdHandle(incident).result()) as PagerDutyRunState).status).toBe('completed');
    await saveHistoryFixture(harness.client, child.workflowId, 'resolved-elsewhere-while-changing');
  });

  it('a repeated trigger joins the run: one incident row, one remediation', async () => {
    await host('pd-repeat-01', 'PSVCREP1');
    const incident = pdIncident('PSVCREP1', { urgency: 'low' });
    const first = pdEvents.triggered(incident);
    const again = pdEvents.triggered(incident);
    const outcomes = [await relayer.relay(first, via())];
    outcomes.push(...(await Promise.all([relayer.relay(first, via('sqs')), relayer.relay(again, via()), relayer.relay(first, via())])));
    expect(outcomes.map((o) => o.kind)).toEqual(['started', 'joined', 'joined', 'joined']);

    const state = (await pdHandle(incident).result()) as PagerDutyRunState;
    expect(state.appliedEventIds).toEqual([first.event.id]);
    const rows = await harness.store.incidents.list(harness.tenant.id, { tagId: 'pd-repeat-01' }, { limit: 10 });
    expect(rows.items).toHaveLength(1);
    expect(rows.items[0]).toMatchObject({ id: state.incidentId, severity: 'low', status: 'resolved' });
    // Even after the run ended, a late repeat of the trigger starts nothing.
    expect(await relayer.relay(first, via())).toMatchObject({ kind: 'joined' });
  });

  it('refuses an update naming another tenant, and still applies the same event id from its own tenant', async () => {
    const incident = pdIncident('PNOMAP02');
    expect(await relayer.relay(pdEvents.triggered(incident), via('sqs'))).toMatchObject({ kind: 'started' });
    await pdStateOnce(incident, (s) => s.status === 'unmapped', 'the unmapped status');

    // Sent straight to the run (the relayer would have picked another tenant's run id): a resolution of another tenant.
    const resolved = pdEvents.resolved(incident, { by: 'Dana Oncall' });
    const decision = relayPagerDutyEvent(resolved, { tenantScope: null });
    if (decision.kind !== 'signal') throw new Error(`expected a signal, got ${decision.kind}`);
    await pdHandle(incident).signal(pagerDutyEventSignal, { ...decision.update, tenantId: 'a-tenant-that-is-not-this-one' });
    // Its own tenant's later event: applied after the refused one (signals are handled in order).
    await relayer.relay(pdEvents.acknowledged(incident, { by: 'Bob Oncall' }), via());
    const waiting = await pdStateOnce(incident, (s) => s.events.length === 2, 'the acknowledgement');
    expect(waiting).toMatchObject({ status: 'unmapped', pagerDutyStatus: 'acknowledged' });
    expect(waiting.appliedEventIds).not.toContain(resolved.event.id);

    // Not remembered: the same event from the run's own tenant resolves it.
    expect(await relayer.relay(resolved, via())).toMatchObject({ kind: 'signalled' });
    const state = (await pdHandle(incident).result()) as PagerDutyRunState;
    expect(state).toMatchObject({ status: 'unmapped', pagerDutyStatus: 'resolved' });
    expect(state.events.map((e) => [e.eventType, e.by])).toEqual([
      ['incident.triggered', null],
      ['incident.acknowledged', 'Bob Oncall'],
      ['incident.resolved', 'Dana Oncall'],
    ]);
  });
});
