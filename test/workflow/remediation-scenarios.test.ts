import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { approvalUpdate, incidentStateQuery, type IncidentWorkflowState } from '../../core/contracts/incident.js';
import { scriptSupervisorService, type FakeHost } from '../support/fake-host.js';
import { saveHistoryFixture } from '../support/histories.js';
import { ScriptedLlm, startIncidentHarness, type IncidentHarness } from '../support/incident-harness.js';
import { waitFor } from '../support/stack.js';

// Workflow tier: every path of the remediation stages — approval gate, host lease, fixes,
// verification — run for real on the dev server against fake hosts, with the bundled runbooks (and
// a scripted LLM for the LLM plan). Each asserts what a user sees; with INFRAAI_RECORD_HISTORIES=1
// each run's history becomes a replay fixture of the current workflow revision (never overwritten).

const SERVICE_DOWN = { title: 'web is down', description: 'health check failing since 10:00' };
const PORT_IN_USE = { title: 'web cannot start', description: 'bind() to 0.0.0.0:8080 failed: address already in use' };
const PORT_HOLDER = 'LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:(("python3",pid=4242,fd=3))';
const STOP_HOLDER_AND_START = 'kill -TERM 4242 ; sleep 2 ; supervisorctl start web';

const llm = new ScriptedLlm({
  diagnostic_plan: {
    diagnostics: [{ id: 'web-config-age', command: 'stat -c %y /etc/web/web.conf', description: 'When the config last changed.' }],
  },
  remediation_analysis: {
    rootCause: 'web still serves the previous build: it was not restarted after the deploy.',
    actions: [{ command: 'supervisorctl restart web', risk: 'low', reason: 'Load the deployed build.' }],
    verification: [{ command: 'supervisorctl status web', expect: 'RUNNING' }],
  },
});

let harness: IncidentHarness;
let hostCount = 0;

beforeAll(async () => {
  harness = await startIncidentHarness({ llm });
});

afterAll(async () => {
  await harness?.close();
});

/** A fresh CMDB item on its own fake host, web scripted as a supervisor program. */
async function host(tagId: string, service: Parameters<typeof scriptSupervisorService>[2] = {}): Promise<FakeHost> {
  hostCount += 1;
  const address = `10.99.0.${hostCount}`;
  await harness.addHost(tagId, address);
  const fake = harness.hosts.host(address);
  scriptSupervisorService(fake, 'web', service);
  return fake;
}

async function finalState(handle: WorkflowHandle): Promise<IncidentWorkflowState> {
  return (await handle.result()) as IncidentWorkflowState;
}

async function awaitingApproval(handle: WorkflowHandle): Promise<IncidentWorkflowState> {
  return waitFor(async () => {
    const state = await handle.query(incidentStateQuery);
    return state.status === 'awaiting_approval' ? state : null;
  }, 'the plan to wait for approval');
}

const commandsOf = (state: IncidentWorkflowState) => (state.commands ?? []).map((c) => [c.phase, c.command, c.allowedBy, c.exitCode]);

describe.concurrent('remediation scenarios on fake hosts', () => {
  it('resolved-auto: a stopped service is started without approval and verified', async () => {
    const fake = await host('auto-01');
    const { incident, handle } = await harness.startIncident({ tagId: 'auto-01', ...SERVICE_DOWN });
    const state = await finalState(handle);

    expect(state.status).toBe('resolved');
    expect(state.summary).toBe(
      'Service down (process crashed or stopped): The service process is not running (crashed or stopped) and was not restarted. Fixed (start-service: applied) and verified.',
    );
    expect(state.approval).toMatchObject({ decision: 'auto', by: 'policy:auto-low-risk' });
    expect(commandsOf(state)).toEqual([
      ['diagnostic', 'supervisorctl status web', 'policy:read-only', 3],
      ['diagnostic', 'supervisorctl tail web stderr', 'policy:read-only', 0],
      ['guard', 'supervisorctl status web | grep -q RUNNING', 'policy:read-only', 1],
      ['fix', 'supervisorctl start web', 'policy:auto-low-risk', 0],
      ['verification', 'supervisorctl status web', 'policy:read-only', 0],
    ]);
    expect(fake.commands('supervisorctl start web')).toHaveLength(1);
    expect(await harness.store.incidents.get(harness.tenant.id, incident.id)).toMatchObject({ status: 'resolved' });
    expect((await harness.store.leases.list(harness.tenant.id)).filter((l) => l.host === fake.address)).toEqual([]);
    await saveHistoryFixture(harness.client, handle.workflowId, 'resolved-auto');
  });

  it('resolved-after-approval: a high-risk fix waits for a human, then runs once approved', async () => {
    const fake = await host('approve-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { handle } = await harness.startIncident({ tagId: 'approve-01', ...PORT_IN_USE });
    const waiting = await awaitingApproval(handle);
    expect(waiting.proposedActions).toMatchObject([{ id: 'stop-port-holder-and-start', risk: 'high', command: STOP_HOLDER_AND_START }]);
    expect(fake.commands(STOP_HOLDER_AND_START)).toHaveLength(0);

    const approval = await handle.executeUpdate(approvalUpdate, {
      args: [{ decision: 'approve', by: 'alice', planHash: waiting.approval!.planHash, comment: 'go' }],
    });
    expect(approval).toMatchObject({ decision: 'approved', by: 'alice' });
    const state = await finalState(handle);

    expect(state.status).toBe('resolved');
    expect(state.summary).toContain('Port already in use by a stray process: Another process holds port 8080');
    expect(state.summary).toContain('Fixed (stop-port-holder-and-start: applied) and verified.');
    expect(state.approval).toMatchObject({ decision: 'approved', by: 'alice', comment: 'go' });
    expect(state.commands?.find((c) => c.phase === 'fix')).toMatchObject({ command: STOP_HOLDER_AND_START, allowedBy: 'approval:alice' });
    expect(fake.commands(STOP_HOLDER_AND_START)).toHaveLength(1);
    await saveHistoryFixture(harness.client, handle.workflowId, 'resolved-after-approval');
  });

  it('rejected: the run escalates and nothing is changed', async () => {
    const fake = await host('reject-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { incident, handle } = await harness.startIncident({ tagId: 'reject-01', ...PORT_IN_USE });
    const waiting = await awaitingApproval(handle);
    await handle.executeUpdate(approvalUpdate, {
      args: [{ decision: 'reject', by: 'bob', planHash: waiting.approval!.planHash, comment: 'that pid is the backup job' }],
    });
    const state = await finalState(handle);

    expect(state.status).toBe('escalated');
    expect(state.summary).toBe('Plan rejected by bob: that pid is the backup job; escalated, nothing was changed.');
    expect(state.approval).toMatchObject({ decision: 'rejected', by: 'bob' });
    expect(fake.commands().map((c) => c.command)).not.toContain(STOP_HOLDER_AND_START);
    expect(state.commands?.every((c) => c.phase === 'diagnostic')).toBe(true);
    expect(await harness.store.incidents.get(harness.tenant.id, incident.id)).toMatchObject({ status: 'escalated' });
    await saveHistoryFixture(harness.client, handle.workflowId, 'rejected');
  });

  it('approval-timed-out: no decision within the timeout escalates and nothing is changed', async () => {
    const fake = await host('timeout-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { handle } = await harness.startIncident({
      tagId: 'timeout-01',
      ...PORT_IN_USE,
      settings: { approvalTimeoutMs: 2000, autoApproveLowRisk: true },
    });
    const state = await finalState(handle);

    expect(state.status).toBe('escalated');
    expect(state.summary).toBe('No approval within 2 s: escalated to on-call; nothing was changed.');
    expect(state.approval).toMatchObject({ decision: 'timed_out', by: null });
    expect(fake.commands().map((c) => c.command)).not.toContain(STOP_HOLDER_AND_START);
    await saveHistoryFixture(harness.client, handle.workflowId, 'approval-timed-out');
  });

  it('verification-failed: the fix runs but the service stays down, so the run escalates with rollback guidance', async () => {
    const fake = await host('verify-01', { startFixes: false });
    const { handle } = await harness.startIncident({ tagId: 'verify-01', ...SERVICE_DOWN });
    const state = await finalState(handle);

    expect(state.status).toBe('escalated');
    expect(state.summary).toContain('fix applied (start-service: applied) but verification failed (verify-1: expected');
    expect(state.summary).toContain('Rollback guidance: Nothing to roll back');
    expect(state.verification).toMatchObject({ passed: false });
    expect(fake.commands('supervisorctl start web')).toHaveLength(1);
    await saveHistoryFixture(harness.client, handle.workflowId, 'verification-failed');
  });

  it('host-unreachable: diagnostics cannot connect, so the run escalates without a change', async () => {
    const fake = await host('unreachable-01');
    fake.unreachable = true;
    const { incident, handle } = await harness.startIncident({ tagId: 'unreachable-01', ...SERVICE_DOWN });
    const state = await finalState(handle);

    expect(state.status).toBe('escalated');
    expect(state.summary).toBe(
      'Cannot run diagnostics on unreachable-01.fake.internal (HostUnreachable): escalated to on-call; nothing was changed.',
    );
    expect(state.findings.join('\n')).toContain('ECONNREFUSED');
    // The read preset's attempts, each a connection attempt; nothing ran.
    expect(fake.connects).toBe(5);
    expect(fake.commands()).toEqual([]);
    expect(await harness.store.incidents.get(harness.tenant.id, incident.id)).toMatchObject({ status: 'escalated' });
    await saveHistoryFixture(harness.client, handle.workflowId, 'host-unreachable');
  }, 120_000);

  it('cancelled-awaiting-approval: a cancellation while the plan waits writes a cancelled result and changes nothing', async () => {
    const fake = await host('cancel-01');
    fake.on('ss -ltnpH sport = :8080', { stdout: PORT_HOLDER });
    const { incident, handle } = await harness.startIncident({ tagId: 'cancel-01', ...PORT_IN_USE });
    await awaitingApproval(handle);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await harness.store.incidents.get(harness.tenant.id, incident.id)).toMatchObject({
      status: 'cancelled',
      summary: 'Cancelled by request before the run finished.',
    });
    const results = await harness.store.results.listForIncident(harness.tenant.id, incident.id);
    expect(results.map((r) => r.status)).toEqual(['cancelled']);
    expect(fake.commands().map((c) => c.command)).not.toContain(STOP_HOLDER_AND_START);
    await saveHistoryFixture(harness.client, handle.workflowId, 'cancelled-awaiting-approval');
  });

  it('llm-plan: no runbook covers the incident; the LLM proposes a fix, a human approves it, it runs and is verified', async () => {
    const fake = await host('llm-01', { running: true });
    fake.on('uptime', { stdout: ' 10:00:00 up 3 days,  2 users,  load average: 0.10, 0.05, 0.01' });
    fake.on('stat -c %y /etc/web/web.conf', { stdout: '2026-12-02 09:58:11.000000000 +0000' });
    const { handle } = await harness.startIncident({
      tagId: 'llm-01',
      title: 'web serves stale pages since this morning',
      description: 'users report old content on the home page',
      llm: true,
    });
    const waiting = await awaitingApproval(handle);
    expect(waiting.plan).toMatchObject({ source: 'llm', runbookId: null });
    expect(waiting.plan?.diagnostics.map((d) => d.id)).toContain('llm-web-config-age');
    expect(waiting.proposedActions).toMatchObject([{ id: 'llm-1', source: 'llm', command: 'supervisorctl restart web', guard: null }]);

    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'carol', planHash: waiting.approval!.planHash }] });
    const state = await finalState(handle);

    expect(state.status).toBe('resolved');
    expect(state.summary).toBe(
      'LLM plan: web still serves the previous build: it was not restarted after the deploy. Fixed (llm-1: applied) and verified.',
    );
    expect(state.commands?.filter((c) => c.phase === 'fix')).toMatchObject([
      { command: 'supervisorctl restart web', allowedBy: 'approval:carol' },
    ]);
    expect(fake.commands('supervisorctl restart web')).toHaveLength(1);
    expect(llm.requests.map((r) => r.responseSchema?.name)).toEqual(['diagnostic_plan', 'remediation_analysis']);
    await saveHistoryFixture(harness.client, handle.workflowId, 'llm-plan');
  });
  it('cause-chain: a full log filesystem leads from disk-full into log-growth, whose fix resolves it without approval', async () => {
    hostCount += 1;
    const address = `10.99.0.${hostCount}`;
    await harness.addHost('chain-01', address, { dataPath: '/var/lib/web', logDir: '/var/log/web' });
    const fake = harness.hosts.host(address);
    const df = (path: string, percent: number) => ({
      stdout: `Filesystem 1024-blocks Used Available Capacity Mounted on\ntmpfs 163840 ${percent * 1638} ${(100 - percent) * 1638} ${percent}% ${path}\n`,
    });
    const bigLog = '/var/log/web/debug.log';
    const truncate = `find /var/log/web -xdev -type f -size +100M -exec sh -c 'tail -n 10000 "$1" | gzip > "$1.$(date +%s).tail.gz" && truncate -s 0 "$1"' _ {} \\;`;
    fake
      .on('df -P /var/lib/web', df('/var/lib/web', 41))
      .on('df -Pi /var/lib/web', df('/var/lib/web', 1))
      .on('du -xah --max-depth=2 /var/lib/web', { stdout: '4.0K\t/var/lib/web/state.json\n8.0K\t/var/lib/web\n' })
      .on('df -P /var/log/web', (h) => df('/var/log/web', h.flag('truncated') ? 3 : 97))
      .on(/^find \/var\/log\/web -xdev -type f -size \+100M -printf '%s %p\\n'$/, (h) => ({
        stdout: h.flag('truncated') ? '' : `161487269 ${bigLog}\n`,
      }))
      .on(/^find \/var\/log\/web -xdev -type f -size \+100M -printf '%p\\n' \| wc -l$/, (h) => ({
        stdout: h.flag('truncated') ? '0\n' : '1\n',
      }))
      .on('grep -rl /var/log/web /etc/logrotate.conf /etc/logrotate.d', { exitCode: 1 })
      .on(truncate, { effect: (h) => h.flags.set('truncated', true) });
    const { handle } = await harness.startIncident({
      tagId: 'chain-01',
      title: 'web01 disk full',
      description: 'filesystem at 97%, writes failing',
    });
    const state = await finalState(handle);

    expect(state.status).toBe('resolved');
    expect(state.analysis?.chain).toEqual([
      { runbookId: 'disk-full', title: 'Filesystem or directory full', depth: 0, because: null },
      {
        runbookId: 'log-growth',
        title: 'Log file growing without bound',
        depth: 1,
        because: expect.stringContaining('log-filesystem-full'),
      },
    ]);
    expect(state.approval).toMatchObject({ decision: 'auto', by: 'policy:auto-low-risk' });
    expect(state.proposedActions?.map((a) => [a.id, a.risk])).toEqual([['log-growth:truncate-oversized-logs', 'low']]);
    expect(state.rootCause).toContain('Because: [Log file growing without bound] A log file under /var/log/web has grown past 100 MB.');
    expect(fake.commands(truncate)).toHaveLength(1);
    expect(state.verification).toEqual({ passed: true, failures: [] });
    expect(state.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['analyseDiagnostics', 'planFollowUp', 'combineCauseChain', 'applyRemediationAction', 'verifyRemediation']),
    );
    await saveHistoryFixture(harness.client, handle.workflowId, 'resolved-cause-chain');
  });
});
