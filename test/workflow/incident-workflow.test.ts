import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createStore } from '../../adapters/store/create.js';
import type { Store, Tenant } from '../../adapters/store/port.js';
import { buildIncidentTimeline } from '../../api/timeline.js';
import {
  addIncidentContextSignal,
  INCIDENT_WORKFLOW_TYPE,
  incidentStateQuery,
  SEARCH_ATTRIBUTES,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import { incidentWorkflowId } from '../../core/contracts/incident.js';
import { createInfraWorker } from '../../worker.js';
import { saveHistoryFixture } from '../support/histories.js';
import { waitFor } from '../support/stack.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from '../support/temporal.js';

// Workflow tier: the real incident workflow and activities on the test run's Temporal dev server,
// with a real (PGlite) store. A gate around one store call holds a run mid-step when a test needs it.

class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  entered = 0;
  open(): void {
    this.release();
  }
}

let dataDir: string;
let store: Store;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let tenant: Tenant;
const taskQueue = uniqueTaskQueue('wf-incident');
/** Gates keyed by tagId: lookups of that CMDB item wait until the gate opens. */
const cmdbGates = new Map<string, Gate>();
/** Number of transient failures to inject into writeIncidentResult's result write, per incident. */
const failResultWrites = new Map<string, number>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-wf-'));
  const realStore = await createStore({ kind: 'pglite', dataDir });
  // The store the activities see: the real one, with a gate and a fault switch for chosen calls.
  store = {
    ...realStore,
    cmdb: {
      ...realStore.cmdb,
      get: async (tenantId, tagId) => {
        const gate = cmdbGates.get(tagId);
        if (gate) {
          gate.entered += 1;
          await gate.opened;
        }
        return realStore.cmdb.get(tenantId, tagId);
      },
    },
    results: {
      ...realStore.results,
      write: async (tenantId, input) => {
        const remaining = failResultWrites.get(input.incidentId) ?? 0;
        if (remaining > 0) {
          failResultWrites.set(input.incidentId, remaining - 1);
          throw new Error('connection reset by peer (injected)');
        }
        return realStore.results.write(tenantId, input);
      },
    },
    close: () => realStore.close(),
    ping: () => realStore.ping(),
  };
  tenant = await store.tenants.ensure('wf-tests');
  ({ client, connection: clientConnection } = await connectTestClient());
  workerConnection = await connectTestWorker();
  worker = await createInfraWorker({
    connection: workerConnection,
    namespace: testTemporal().namespace,
    taskQueue,
    store,
    workflowBundlePath: testWorkflowBundlePath(),
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await workerConnection?.close();
  await clientConnection?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function createIncident(tagId: string, opts: { withCmdbItem?: boolean } = {}) {
  if (opts.withCmdbItem !== false) {
    await store.cmdb.create(tenant.id, {
      tagId,
      instanceId: `i-${tagId}`,
      hostname: `${tagId}.lab.internal`,
      address: '127.0.0.10',
      port: 2222,
      environment: 'staging',
      owner: 'sre',
      os: 'linux',
      serviceManager: 'supervisor',
      sshUser: 'ops',
      sshCredential: 'lab-key',
      description: null,
      tags: { team: 'sre' },
    });
  }
  const { incident } = await store.incidents.create(tenant.id, {
    id: randomUUID(),
    title: `Service down on ${tagId}`,
    description: 'health check failing',
    severity: 'high',
    tagId,
    source: 'test',
    createdBy: 'workflow-test',
  });
  const input: RemediateIncidentInput = {
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
    incidentId: incident.id,
    incidentNumber: incident.number,
    severity: incident.severity,
    tagId,
  };
  const handle = await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
    workflowId: incidentWorkflowId(incident.id),
    taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.tenant, value: tenant.slug },
      { key: SEARCH_ATTRIBUTES.severity, value: incident.severity },
      { key: SEARCH_ATTRIBUTES.incidentStatus, value: 'open' },
    ],
  });
  return { incident, handle };
}

describe('remediateIncident workflow', () => {
  it('records the incident, resolves its CMDB target, writes one result and mirrors status to search attributes', async () => {
    const { incident, handle } = await createIncident('web-01');
    const state = (await handle.result()) as IncidentWorkflowState;

    expect(state.status).toBe('escalated');
    expect(state.target).toMatchObject({ tagId: 'web-01', hostname: 'web-01.lab.internal', port: 2222, sshCredential: 'lab-key' });
    // "Service down" matches a runbook, but this worker has no host access: the run escalates.
    expect(state.steps.map((s) => [s.name, s.status])).toEqual([
      ['recordIncident', 'completed'],
      ['lookupCmdbItem', 'completed'],
      ['planRemediation', 'completed'],
      ['queryMetrics', 'completed'],
      ['runDiagnostics', 'failed'],
      ['writeIncidentResult', 'completed'],
    ]);

    const row = await store.incidents.get(tenant.id, incident.id);
    expect(row).toMatchObject({ status: 'escalated', targetHost: 'web-01.lab.internal' });
    expect(row?.resolvedAt).not.toBeNull();
    const results = await store.results.listForIncident(tenant.id, incident.id);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'escalated', incidentNumber: incident.number });
    const logs = await store.jobLogs.listForIncident(tenant.id, incident.id);
    expect(logs.map((l) => l.action)).toEqual(['incident.investigate', 'incident.result']);

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.incidentStatus)).toBe('escalated');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.targetHost)).toBe('web-01.lab.internal');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant)).toBe('wf-tests');

    // An SRE filtering in the Web UI by host finds this run (visibility is eventually consistent).
    await waitFor(async () => {
      const query = `TargetHost = 'web-01.lab.internal' AND IncidentStatus = 'escalated'`;
      for await (const run of client.workflow.list({ query })) if (run.workflowId === handle.workflowId) return true;
      return false;
    }, 'visibility listing by TargetHost');

    await saveHistoryFixture(client, handle.workflowId, 'no-host-access');
  });

  it('escalates with a finding when the CMDB item is gone, without failing the run', async () => {
    const { incident, handle } = await createIncident('ghost-01', { withCmdbItem: false });
    const state = (await handle.result()) as IncidentWorkflowState;
    expect(state.status).toBe('escalated');
    expect(state.target).toBeNull();
    expect(state.findings.join(' ')).toContain("'ghost-01'");
    expect((await store.incidents.get(tenant.id, incident.id))?.status).toBe('escalated');
    await saveHistoryFixture(client, handle.workflowId, 'cmdb-missing');
  });

  it('answers the state query mid-run, takes operator context, and a cancellation writes a cancelled result', async () => {
    const gate = new Gate();
    cmdbGates.set('db-01', gate);
    const { incident, handle } = await createIncident('db-01');
    await waitFor(() => gate.entered > 0, 'the CMDB lookup to start');

    const midRun = await handle.query(incidentStateQuery);
    expect(midRun.status).toBe('investigating');
    expect(midRun.currentStep).toBe('lookupCmdbItem');
    expect((await store.incidents.get(tenant.id, incident.id))?.status).toBe('investigating');

    await handle.signal(addIncidentContextSignal, { note: 'deploy 4812 rolled out at 10:02', author: 'alice' });
    await waitFor(async () => (await handle.query(incidentStateQuery)).context.length === 1, 'the context signal');

    await handle.cancel();
    gate.open();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const row = await store.incidents.get(tenant.id, incident.id);
    expect(row?.status).toBe('cancelled');
    const results = await store.results.listForIncident(tenant.id, incident.id);
    expect(results.map((r) => r.status)).toEqual(['cancelled']);
    expect(results[0]?.details).toMatchObject({ context: [{ note: 'deploy 4812 rolled out at 10:02', author: 'alice' }] });
    cmdbGates.delete('db-01');
    await saveHistoryFixture(client, handle.workflowId, 'cancelled-during-lookup');
  });

  it('retries a transient store failure and the timeline shows the attempt count, with no duplicate result', async () => {
    const { incident, handle } = await createIncident('cache-01');
    failResultWrites.set(incident.id, 2);
    await handle.result();

    expect(await store.results.listForIncident(tenant.id, incident.id)).toHaveLength(1);
    const timeline = await buildIncidentTimeline(await handle.fetchHistory());
    const steps = timeline.filter((entry) => entry.kind === 'activity');
    expect(steps.map((s) => [s.step, s.outcome])).toEqual([
      ['recordIncident', 'completed'],
      ['lookupCmdbItem', 'completed'],
      ['planRemediation', 'completed'],
      ['queryMetrics', 'completed'],
      ['runDiagnostics', 'failed'],
      ['writeIncidentResult', 'completed'],
      ['listNotifiers', 'completed'],
    ]);
    const write = steps[5]!;
    expect(write.attempt).toBe(3);
    expect(write.failure).toContain('connection reset by peer');
    expect(write.input).toMatchObject({ status: 'escalated', incidentId: incident.id });
    expect(steps[1]!.output).toMatchObject({ hostname: 'cache-01.lab.internal' });
    expect(timeline[0]).toMatchObject({ step: 'workflowStarted', kind: 'workflow' });
    expect(timeline.at(-1)).toMatchObject({ step: 'workflowCompleted', outcome: 'completed' });
    await saveHistoryFixture(client, handle.workflowId, 'retried-result-write');
  });

  it('fails the run without retrying forever when the incident row does not exist', async () => {
    const workflowId = incidentWorkflowId(randomUUID());
    const handle = await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [
        {
          tenantId: tenant.id,
          tenantSlug: tenant.slug,
          incidentId: workflowId.slice('incident-'.length),
          incidentNumber: 0,
          severity: 'low',
          tagId: 'web-01',
        } satisfies RemediateIncidentInput,
      ],
    });
    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('does not exist');
    const timeline = await buildIncidentTimeline(await handle.fetchHistory());
    expect(timeline.find((e) => e.step === 'recordIncident')).toMatchObject({ outcome: 'failed', attempt: 1 });
  });
});
