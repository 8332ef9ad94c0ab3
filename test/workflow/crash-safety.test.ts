import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { Store } from '../../adapters/store/port.js';
import { approvalUpdate, incidentStateQuery, type IncidentWorkflowState } from '../../core/contracts/incident.js';
import { scriptSupervisorService } from '../support/fake-host.js';
import { saveHistoryFixture } from '../support/histories.js';
import { ScriptedLlm, startIncidentHarness, type IncidentHarness } from '../support/incident-harness.js';
import { waitFor } from '../support/stack.js';

// Workflow tier: crash safety under slow hosts. Host leases live 3 s here, shorter than a fix, so
// only renewal keeps a second run off the host; connections drop mid-fix, and a fix without a
// guard is never run again blindly.

const LEASE_TTL_MS = 3000;

/** Every lease taken or given back, with when it returned (the store's view of who had the host). */
const leaseEvents: { kind: 'acquired' | 'released'; holder: string; host: string; at: number }[] = [];

function recordingLeases(real: Store): Store {
  return {
    ...real,
    leases: {
      ...real.leases,
      acquire: async (input) => {
        const outcome = await real.leases.acquire(input);
        if (outcome.acquired) leaseEvents.push({ kind: 'acquired', holder: input.holder, host: input.host, at: Date.now() });
        return outcome;
      },
      release: async (tenantId, host, holder) => {
        const released = await real.leases.release(tenantId, host, holder);
        leaseEvents.push({ kind: 'released', holder, host, at: Date.now() });
        return released;
      },
    },
    close: () => real.close(),
    ping: () => real.ping(),
  };
}

const llm = new ScriptedLlm({
  diagnostic_plan: { diagnostics: [] },
  remediation_analysis: {
    rootCause: 'web is wedged: it answers nothing on its port.',
    actions: [{ command: 'supervisorctl restart web', risk: 'low', reason: 'Restart the wedged process.' }],
    verification: [{ command: 'supervisorctl status web', expect: 'RUNNING' }],
  },
});

let harness: IncidentHarness;

beforeAll(async () => {
  harness = await startIncidentHarness({ llm, hostLeaseTtlMs: LEASE_TTL_MS, wrapStore: recordingLeases });
});

afterAll(async () => {
  await harness?.close();
});

const finalState = async (handle: WorkflowHandle) => (await handle.result()) as IncidentWorkflowState;

describe.concurrent('crash safety on fake hosts', () => {
  it('renews the host lease through a fix longer than its TTL: a second run gets the host only after the first lets go', async () => {
    const address = '10.98.0.1';
    // Two services down on one host, each its own CMDB item and incident: one lease between them.
    await harness.addHost('shared-web', address, { service: 'web' });
    await harness.addHost('shared-api', address, { service: 'api' });
    const fake = harness.hosts.host(address);
    scriptSupervisorService(fake, 'web', { startDelayMs: 8000 });
    scriptSupervisorService(fake, 'api', { startDelayMs: 8000 });

    const [web, api] = await Promise.all([
      harness.startIncident({ tagId: 'shared-web', title: 'web is down', description: 'health check failing' }),
      harness.startIncident({ tagId: 'shared-api', title: 'api is down', description: 'health check failing' }),
    ]);
    const [webState, apiState] = await Promise.all([finalState(web.handle), finalState(api.handle)]);
    expect(webState).toMatchObject({
      status: 'resolved',
      summary: expect.stringContaining('Fixed (start-service: applied) and verified.'),
    });
    expect(apiState).toMatchObject({
      status: 'resolved',
      summary: expect.stringContaining('Fixed (start-service: applied) and verified.'),
    });

    // Who changed the host first, by the fake host's command log.
    const fixOf = (tagId: string) => fake.log.find((e) => e.tagId === tagId && /^supervisorctl start /.test(e.command))!;
    const [first, second] = [web, api].sort((a, b) => fixOf(a.incident.tagId).startedAt - fixOf(b.incident.tagId).startedAt);
    const firstId = first!.handle.workflowId;
    const secondId = second!.handle.workflowId;
    const released = leaseEvents.find((e) => e.kind === 'released' && e.holder === firstId && e.host === address)!;
    expect(released).toBeDefined();

    // The second run's lease, and every command of its change (guard, fix), came after the release.
    const secondAcquired = leaseEvents.find((e) => e.kind === 'acquired' && e.holder === secondId)!;
    expect(secondAcquired.at).toBeGreaterThanOrEqual(released.at);
    const secondChange = fake.log.filter(
      (e) => e.tagId === second!.incident.tagId && /grep -q RUNNING$|^supervisorctl start /.test(e.command),
    );
    expect(secondChange).toHaveLength(2);
    for (const entry of secondChange) expect(entry.startedAt).toBeGreaterThanOrEqual(released.at);
    // And the first run's fix had finished before it let go.
    expect(fixOf(first!.incident.tagId).finishedAt).toBeLessThanOrEqual(released.at);
    // Which took renewals: one acquire, then renewals by the same holder while its fix ran.
    expect(leaseEvents.filter((e) => e.kind === 'acquired' && e.holder === firstId).length).toBeGreaterThan(1);

    await saveHistoryFixture(harness.client, firstId, 'lease-renewed-during-fix');
    await saveHistoryFixture(harness.client, secondId, 'lease-waited-for');
  }, 120_000);

  it('escalates a fix without a guard whose outcome is unknown after a dropped connection, and runs it once', async () => {
    const address = '10.98.0.2';
    await harness.addHost('llm-crash-01', address);
    const fake = harness.hosts.host(address);
    scriptSupervisorService(fake, 'web', { running: true });
    // The restart runs on the host, then the connection drops before the exit status arrives.
    fake.on('supervisorctl restart web', { stdout: 'web: stopped\nweb: started', dropConnection: true }, 1);

    const { incident, handle } = await harness.startIncident({
      tagId: 'llm-crash-01',
      title: 'web hangs on every request',
      description: 'requests time out since 09:40',
      llm: true,
    });
    const waiting = await waitFor(async () => {
      const state = await handle.query(incidentStateQuery);
      return state.status === 'awaiting_approval' ? state : null;
    }, 'the LLM plan to wait for approval');
    expect(waiting.proposedActions).toMatchObject([{ id: 'llm-1', source: 'llm', guard: null }]);
    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'dave', planHash: waiting.approval!.planHash }] });
    const state = await finalState(handle);

    expect(state.status).toBe('escalated');
    expect(state.summary).toBe(
      "LLM plan: the outcome of fix llm-1 ('supervisorctl restart web') is unknown: an attempt started it and was lost, and it has no guard to tell whether it took effect. Nothing was re-run; escalated to check the host.",
    );
    expect(state.findings.join('\n')).toContain("Fix llm-1 ('supervisorctl restart web'): attempt 1 started it");
    expect(fake.commands('supervisorctl restart web')).toHaveLength(1);
    expect(state.steps.map((s) => s.name)).not.toContain('verifyRemediation');
    const markers = (await harness.store.jobLogs.listForIncident(harness.tenant.id, incident.id)).filter(
      (l) => l.action === 'incident.fix-started',
    );
    expect(markers).toMatchObject([{ idempotencyKey: `${handle.workflowId}/fix/llm-1`, detail: { attempt: 1 } }]);
    expect((await harness.store.leases.list(harness.tenant.id)).filter((l) => l.host === address)).toEqual([]);
    expect(await harness.store.incidents.get(harness.tenant.id, incident.id)).toMatchObject({ status: 'escalated' });
    await saveHistoryFixture(harness.client, handle.workflowId, 'fix-outcome-unknown');
  }, 120_000);

  it('retries a guarded fix after a dropped connection: the guard sees it in place and nothing runs twice', async () => {
    const address = '10.98.0.3';
    await harness.addHost('guarded-crash-01', address);
    const fake = harness.hosts.host(address);
    scriptSupervisorService(fake, 'web');
    fake.on(
      'supervisorctl start web',
      { stdout: 'web: started', effect: (h) => h.flags.set('web:running', true), dropConnection: true },
      1,
    );

    const { handle } = await harness.startIncident({
      tagId: 'guarded-crash-01',
      title: 'web is down',
      description: 'health check failing',
    });
    const state = await finalState(handle);

    expect(state.status).toBe('resolved');
    expect(state.summary).toContain('Fixed (start-service: already-in-place) and verified.');
    expect(fake.commands('supervisorctl start web')).toHaveLength(1);
    expect(fake.commands('supervisorctl status web | grep -q RUNNING').map((e) => e.exitCode)).toEqual([1, 0]);
    await saveHistoryFixture(harness.client, handle.workflowId, 'guarded-fix-retried');
  }, 120_000);
});
