import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { FakeServiceNow } from '../support/fake-servicenow.js';
import { createTestDatabase } from '../support/postgres.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';
import { testTemporal, testWorkflowBundlePath } from '../support/temporal.js';
import { startWorkerProcess } from '../support/worker-process.js';

// Issue 12, crash: the worker runs as its own process (`npm run worker`: the built-in and
// integration chat tools, the LLM from INFRAAI_LLM_*, here the scripted model server) on
// PostgreSQL. A confirmed ServiceNow change is in flight (the fake instance has applied the write
// and holds its answer) when the worker is SIGKILLed; a new worker process finishes the turn. The
// answer arrives, every message is stored once, and ServiceNow saw the change once.

const TOKEN = 'sn-token-0123456789';

let database: { url: string; drop(): Promise<void> };
let store: Store;
let stack: TestStack;
let model: ScriptedModelServer;
let servicenow: FakeServiceNow;
let operatorKey: string;
let tenantId: string;
const secretsKey = randomBytes(32);
const workers: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  const child = await startWorkerProcess({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: testTemporal().address,
    TEMPORAL_NAMESPACE: testTemporal().namespace,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    INFRAAI_WORKFLOW_BUNDLE: testWorkflowBundlePath(),
    INFRAAI_SECRETS_KEY: secretsKey.toString('base64'),
    INFRAAI_LLM_PROVIDER: 'openai-compatible',
    INFRAAI_LLM_BASE_URL: model.openAiBaseUrl,
    INFRAAI_LLM_API_KEY: 'sk-test-000000000000000000000000',
    INFRAAI_LLM_MODEL: 'scripted-gpt',
  });
  workers.push(child);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  database = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: database.url });
  stack = await startTestStack({ store, secretsKey });
  model = await startScriptedModel();
  servicenow = await FakeServiceNow.start({ token: TOKEN });
  operatorKey = await stack.keyFor('acme', 'operator');
  tenantId = (await store.tenants.ensure('acme')).id;
  const configured = await stack.call('PUT', '/api/v1/integrations/servicenow/config?scope=tenant', {
    body: { instanceUrl: servicenow.url, token: TOKEN },
  });
  expect(configured.status, await configured.text()).toBe(200);
});

afterAll(async () => {
  for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await servicenow?.close();
  await model?.close();
  await stack?.close();
  await store?.close();
  await database?.drop();
});

beforeEach(() => {
  model.reset();
  servicenow.clearRequests();
});

interface Job {
  status: string;
  answer?: string;
  steps: { kind: string; name: string; status: string }[];
}

/** Sends a message as an async job and approves the change its turn proposes; returns once the change's write is in flight. */
async function proposeAndApprove(message: string, tool: string): Promise<{ jobId: string; sessionId: string }> {
  const accepted = await stack.call('POST', '/api/v1/chat/async', { key: operatorKey, body: { message } });
  expect(accepted.status, await accepted.clone().text()).toBe(202);
  const { jobId, sessionId } = (await accepted.json()) as { jobId: string; sessionId: string };
  const requested = await waitFor(async () => {
    const events = await store.chat.events(tenantId, sessionId, 0, 1000);
    return events.find((e) => e.type === 'confirmation.requested');
  }, 'the confirmation request');
  const { proposalId, hash, tool: proposed } = requested.data as { proposalId: string; hash: string; tool: string };
  expect(proposed).toBe(tool);
  const confirmed = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
    key: operatorKey,
    body: { proposalId, hash, approve: true },
  });
  expect(confirmed.status, await confirmed.clone().text()).toBe(200);
  return { jobId, sessionId };
}

async function finished(jobId: string): Promise<Job> {
  return waitFor(
    async () => {
      const body = (await (await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey })).json()) as Job;
      return body.status === 'completed' || body.status === 'failed' ? body : null;
    },
    'the job to finish on the new worker',
    4 * 60_000,
    500,
  );
}

/** The stored transcript: each message once, in turn order (user, knowledge search, the call, its result, the answer). */
async function expectTranscriptOnce(sessionId: string, tool: string): Promise<void> {
  const history = await stack.call('GET', `/api/v1/chat/${sessionId}/history`, { key: operatorKey });
  const { items } = (await history.json()) as {
    items: { role: string; content: string | null; toolName?: string; toolCallId?: string }[];
  };
  expect(items.map((m) => `${m.role}${m.toolName ? `:${m.toolName}` : ''}`)).toEqual([
    'user',
    'assistant',
    'tool:knowledge_search',
    'assistant',
    `tool:${tool}`,
    'assistant',
  ]);
  const events = await store.chat.events(tenantId, sessionId, 0, 1000);
  expect(events.filter((e) => e.type === 'answer')).toHaveLength(1);
  // The kill landed mid-call: that call (and only it) completed on its second attempt, on the new worker.
  const runHistory = await stack.client.workflow.getHandle(`chat-${sessionId}`).fetchHistory();
  const attempts = runHistory.events!.flatMap((e) =>
    e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [],
  );
  expect(attempts.filter((attempt) => attempt > 1)).toEqual([2]);
  expect(events.filter((e) => e.type === 'turn.ended')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'tool.started' && e.data.tool === tool)).toHaveLength(1);
}

describe('chat: worker SIGKILLed mid-turn', () => {
  it(
    'finishes the turn on a new worker; the confirmed ServiceNow incident is created once',
    async () => {
      model.script(
        { toolCalls: [{ name: 'servicenow_create_incident', arguments: { shortDescription: 'web-01 disk full' } }] },
        (request) => {
          const number = /INC\d+/.exec(request.transcript.join('\n'))?.[0];
          return { text: number ? `Opened ${number} for the disk.` : 'The incident was not created.' };
        },
      );
      const first = await startWorker();
      let release!: () => void;
      servicenow.holdWriteAnswers(new Promise<void>((resolve) => (release = resolve)));
      const { jobId, sessionId } = await proposeAndApprove('Open a ServiceNow incident: web-01 disk full', 'servicenow_create_incident');
      // ServiceNow has created the record; its answer never reaches the worker.
      await waitFor(() => servicenow.requestsTo('POST', '/api/now/table/incident').length > 0, 'the create to reach ServiceNow');
      await kill(first);
      servicenow.holdWriteAnswers(null);
      release();

      await startWorker();
      const job = await finished(jobId);
      expect(job).toMatchObject({ status: 'completed', answer: expect.stringMatching(/^Opened INC\d+ for the disk\.$/) });
      expect(servicenow.incidents()).toHaveLength(1);
      expect(job.answer).toContain(servicenow.incidents()[0]!.number);
      expect(servicenow.requestsTo('POST', '/api/now/table/incident')).toHaveLength(1);
      await expectTranscriptOnce(sessionId, 'servicenow_create_incident');
      await kill(workers.at(-1)!);
    },
    6 * 60_000,
  );

  it(
    'finishes the turn on a new worker; the confirmed work note is added once',
    async () => {
      const sysId = servicenow.addIncident({ short_description: 'db-01 slow queries' });
      const number = servicenow.incident(sysId)!.number;
      model.script(
        {
          toolCalls: [
            { name: 'servicenow_update_incident', arguments: { incident: number, workNote: 'Vacuumed the orders table on db-01.' } },
          ],
        },
        (request) => ({ text: request.transcript.some((t) => t.includes(`Updated ${number}`)) ? `Noted on ${number}.` : 'No note.' }),
      );
      const first = await startWorker();
      let release!: () => void;
      servicenow.holdWriteAnswers(new Promise<void>((resolve) => (release = resolve)));
      const { jobId, sessionId } = await proposeAndApprove(
        `Add a work note to ${number}: vacuumed the orders table`,
        'servicenow_update_incident',
      );
      await waitFor(() => servicenow.requestsTo('PATCH', `/api/now/table/incident/${sysId}`).length > 0, 'the update to reach ServiceNow');
      await kill(first);
      servicenow.holdWriteAnswers(null);
      release();

      await startWorker();
      const job = await finished(jobId);
      expect(job).toMatchObject({ status: 'completed', answer: `Noted on ${number}.` });
      // The retried call found its note (it carries the call's key) and did not add it again.
      expect(servicenow.incident(sysId)!.workNotes).toEqual([
        expect.stringMatching(/^Vacuumed the orders table on db-01\.\n\n\[infraai:chat:chat-/),
      ]);
      expect(servicenow.requestsTo('PATCH', `/api/now/table/incident/${sysId}`)).toHaveLength(1);
      await expectTranscriptOnce(sessionId, 'servicenow_update_incident');
      await kill(workers.at(-1)!);
    },
    6 * 60_000,
  );
});
