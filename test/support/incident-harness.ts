import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { ChatRequest, ChatResponse, LlmProvider } from '../../adapters/llm/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store, Tenant } from '../../adapters/store/port.js';
import {
  INCIDENT_WORKFLOW_TYPE,
  incidentWorkflowId,
  SEARCH_ATTRIBUTES,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import type { Incident } from '../../core/incident.js';
import type { RemediationSettings } from '../../core/remediation.js';
import { createInfraWorker } from '../../worker.js';
import { FakeHostAccess } from './fake-host.js';
import { connectTestClient, connectTestWorker, testTemporal, testWorkflowBundlePath, uniqueTaskQueue } from './temporal.js';

// The workflow tier's incident stack: the real workflow bundle and activities on the test run's dev
// server, a PGlite store, the bundled runbooks, and fake hosts in place of SSH. With an LLM, a
// second worker (own task queue) runs the incidents started with `llm: true`.

export interface IncidentHarness {
  store: Store;
  tenant: Tenant;
  client: Client;
  /** The task queue of the worker without an LLM (where startIncident starts runs by default). */
  taskQueue: string;
  hosts: FakeHostAccess;
  /** A supervisor-managed CMDB item on `address` (its tags name the service, port and config file). */
  addHost(tagId: string, address: string, tags?: Record<string, string>): Promise<void>;
  startIncident(input: {
    tagId: string;
    title: string;
    description: string;
    settings?: RemediationSettings;
    llm?: boolean;
  }): Promise<{ incident: Incident; handle: WorkflowHandle }>;
  close(): Promise<void>;
}

export async function startIncidentHarness(
  opts: { llm?: LlmProvider; hostLeaseTtlMs?: number; wrapStore?: (store: Store) => Store } = {},
): Promise<IncidentHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-wf-harness-'));
  const realStore = await createStore({ kind: 'pglite', dataDir });
  const store = opts.wrapStore ? opts.wrapStore(realStore) : realStore;
  const tenant = await store.tenants.ensure(`wf-${randomUUID().slice(0, 8)}`);
  const hosts = new FakeHostAccess();
  const { client, connection } = await connectTestClient();
  const workerConnection: NativeConnection = await connectTestWorker();
  const taskQueue = uniqueTaskQueue('wf-remediation');
  const llmTaskQueue = uniqueTaskQueue('wf-remediation-llm');
  const common = {
    connection: workerConnection,
    namespace: testTemporal().namespace,
    store,
    hostAccess: hosts,
    workflowBundlePath: testWorkflowBundlePath(),
    ...(opts.hostLeaseTtlMs ? { hostLeaseTtlMs: opts.hostLeaseTtlMs } : {}),
  };
  const workers: Worker[] = [await createInfraWorker({ ...common, taskQueue })];
  if (opts.llm) workers.push(await createInfraWorker({ ...common, taskQueue: llmTaskQueue, llm: opts.llm }));
  const runs = workers.map((w) => w.run());

  return {
    store,
    tenant,
    client,
    taskQueue,
    hosts,
    async addHost(tagId, address, tags = {}) {
      await store.cmdb.create(tenant.id, {
        tagId,
        instanceId: `i-${tagId}`,
        hostname: `${tagId}.fake.internal`,
        address,
        port: 22,
        environment: 'staging',
        owner: 'sre',
        os: 'linux',
        serviceManager: 'supervisor',
        sshUser: 'ops',
        sshCredential: 'fake-key',
        description: null,
        tags: { service: 'web', servicePort: '8080', configFile: '/etc/web/web.conf', ...tags },
      });
    },
    async startIncident({ tagId, title, description, settings, llm = false }) {
      const { incident } = await store.incidents.create(tenant.id, {
        id: randomUUID(),
        title,
        description,
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
        ...(settings ? { settings } : {}),
      };
      const handle = await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
        workflowId: incidentWorkflowId(incident.id),
        taskQueue: llm ? llmTaskQueue : taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.tenant, value: tenant.slug },
          { key: SEARCH_ATTRIBUTES.severity, value: incident.severity },
          { key: SEARCH_ATTRIBUTES.incidentStatus, value: 'open' },
        ],
      });
      return { incident, handle };
    },
    async close() {
      for (const worker of workers) worker.shutdown();
      await Promise.all(runs);
      await workerConnection.close();
      await connection.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * An LLM that answers each structured request by its schema name (`diagnostic_plan`,
 * `remediation_analysis`) with a fixed object, and keeps the requests it was sent. No network.
 */
export class ScriptedLlm implements LlmProvider {
  readonly provider = 'openai-compatible' as const;
  readonly model = 'scripted-model';
  readonly requests: ChatRequest[] = [];

  constructor(private readonly answers: Record<string, unknown>) {}

  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const name = request.responseSchema?.name ?? 'answer';
    if (!(name in this.answers)) throw new Error(`ScriptedLlm has no answer for '${name}'`);
    return {
      content: JSON.stringify(this.answers[name]),
      toolCalls: [],
      model: this.model,
      usage: { inputTokens: 120, outputTokens: 40 },
      finishReason: 'stop',
    };
  }
}
