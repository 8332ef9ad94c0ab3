import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { approvalUpdate, type IncidentRunProjectionState, type IncidentWorkflowState } from '../../core/contracts/incident.js';
import type { RunEvent, RunProjection } from '../../core/contracts/run-events.js';
import { scriptSupervisorService } from '../support/fake-host.js';
import { startIncidentHarness, type IncidentHarness } from '../support/incident-harness.js';
import { waitFor } from '../support/stack.js';

// Workflow tier: the incident run writes its projection (the API's read model) as it goes, through
// a local activity, on the real dev server and a PGlite store: the final projection is the run's
// final state, events are numbered without gaps, and where a user acts the projection is current.

const SERVICE_DOWN = { title: 'web is down', description: 'health check failing since 10:00' };
const PORT_IN_USE = { title: 'web cannot start', description: 'bind() to 0.0.0.0:8080 failed: address already in use' };
const PORT_HOLDER = 'LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("python3",pid=4242,fd=3))';

let harness: IncidentHarness;
let hostCount = 0;

beforeAll(async () => {
  harness = await startIncidentHarness();
});

afterAll(async () => {
  await harness?.close();
});

async function host(tagId: string) {
  hostCount += 1;
  const address = `10.98.0.${hostCount}`;
  await harness.addHost(tagId, address);
  const fake = harness.hosts.host(address);
  scriptSupervisorService(fake, 'web');
  return fake;
}

const projectionOf = (incidentId: string) =>
  harness.store.runs.get(harness.tenant.id, 'incident', incidentId) as Promise<RunProjection<IncidentRunProjectionState> | null>;
const eventsOf = (incidentId: string): Promise<RunEvent[]> =>
  harness.store.runs.eventsOfRun(harness.tenant.id, 'incident', incidentId, 0, 1000);

function expectWellFormed(events: RunEvent[], final: IncidentWorkflowState): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const tenantSeqs = events.map((e) => e.tenantSeq);
  expect([...tenantSeqs].sort((a, b) => a - b)).toEqual(tenantSeqs);
  expect(events.at(-1)).toMatchObject({ type: 'run.ended', data: { status: final.status, summary: final.summary } });
  expect(events.filter((e) => e.type === 'run.ended')).toHaveLength(1);
  // Every step is announced when it starts and when it ends, in the order the run took them.
  expect(events.filter((e) => e.type === 'step.started').map((e) => e.data.name)).toEqual(final.steps.map((s) => s.name));
  expect(events.filter((e) => e.type === 'step.ended').map((e) => [e.data.name, e.data.status])).toEqual(
    final.steps.map((s) => [s.name, s.status]),
  );
  expect(events.filter((e) => e.type === 'command.ran').map((e) => e.data.command)).toEqual((final.commands ?? []).map((c) => c.command));
  expect(events.filter((e) => e.type === 'result.written')).toEqual([
    expect.objectContaining({ data: { status: final.status, summary: final.summary } }),
  ]);
}

describe.concurrent('run projection of incident runs', () => {
  it('ends equal to the run’s final state, with every step, command and status change as an event', async () => {
    await host('proj-auto-01');
    const { incident, handle } = await harness.startIncident({ tagId: 'proj-auto-01', ...SERVICE_DOWN });
    const final = (await handle.result()) as IncidentWorkflowState;
    expect(final.status).toBe('resolved');

    const projection = await projectionOf(incident.id);
    expect(projection).toMatchObject({ workflowId: handle.workflowId, status: 'resolved', ended: true });
    expect(projection!.state.run).toEqual(final);
    const description = await handle.describe();
    expect(projection!.state.workflow).toMatchObject({
      runId: description.runId,
      status: 'COMPLETED',
      startedAt: description.startTime.toISOString(),
    });
    expect(Date.parse(projection!.state.workflow.closedAt!)).toBeGreaterThanOrEqual(description.startTime.getTime());

    const events = await eventsOf(incident.id);
    expect(projection!.version).toBe(events.length);
    expectWellFormed(events, final);
    expect(events.filter((e) => e.type === 'status.changed').map((e) => e.data.status)).toEqual([
      'investigating',
      'remediating',
      'verifying',
      'resolved',
    ]);
    expect(events.find((e) => e.type === 'approval.decided')).toMatchObject({ data: { decision: 'auto', by: 'policy:auto-low-risk' } });
  });

  it('shows the plan hash the run accepts before it waits, and the decision as soon as the approver is answered', async () => {
    const fake = await host('proj-approve-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { incident, handle } = await harness.startIncident({ tagId: 'proj-approve-01', ...PORT_IN_USE });

    // A frontend reads the projection only: the hash it shows is the one the run accepts.
    const waiting = await waitFor(async () => {
      const p = await projectionOf(incident.id);
      return p?.status === 'awaiting_approval' ? p : null;
    }, 'the projection to show the approval');
    expect(waiting.state.run.approval).toMatchObject({ decision: 'pending' });
    const requested = (await eventsOf(incident.id)).find((e) => e.type === 'approval.requested');
    expect(requested?.data.planHash).toBe(waiting.state.run.approval!.planHash);

    await handle.executeUpdate(approvalUpdate, {
      args: [{ decision: 'approve', by: 'alice', planHash: waiting.state.run.approval!.planHash }],
    });
    // Read-your-writes: no waiting between the approver's answer and the projection showing it.
    const decided = await projectionOf(incident.id);
    expect(decided!.state.run.approval).toMatchObject({ decision: 'approved', by: 'alice' });
    expect((await eventsOf(incident.id)).find((e) => e.type === 'approval.decided')).toMatchObject({
      data: { decision: 'approved', by: 'alice' },
    });

    const final = (await handle.result()) as IncidentWorkflowState;
    expect(final.status).toBe('resolved');
    expect((await projectionOf(incident.id))!.state.run).toEqual(final);
    expectWellFormed(await eventsOf(incident.id), final);
  });

  it('records a cancelled run as cancelled, with its result and final event', async () => {
    const fake = await host('proj-cancel-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { incident, handle } = await harness.startIncident({ tagId: 'proj-cancel-01', ...PORT_IN_USE });
    await waitFor(async () => ((await projectionOf(incident.id))?.status === 'awaiting_approval' ? true : null), 'the approval wait');
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const projection = await projectionOf(incident.id);
    expect(projection).toMatchObject({ status: 'cancelled', ended: true, state: { workflow: { status: 'CANCELLED' } } });
    const events = await eventsOf(incident.id);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', data: { status: 'cancelled' } });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });
});
