import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { chatRunStarters } from '../../api/run-starts.js';
import { createTemporalAutomationGateway, createTemporalIncidentGateway } from '../../api/temporal-gateway.js';
import { chatWorkflowId, DEFAULT_CHAT_SETTINGS } from '../../core/contracts/chat.js';
import { createBuiltinTools } from '../../tools/builtin/index.js';
import { createToolRegistry } from '../../tools/registry.js';
import { toolCallHash } from '../../tools/tool.js';
import { addAutomationHost, FakeAnsibleRunner, fakeToolkit, fakeVault } from '../support/automation-fakes.js';
import { CHAT_WORKFLOW_REVISION, recordingHistories, saveHistoryFixture } from '../support/histories.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// An Ansible run started from the chat, through a real child workflow: the model (scripted, OpenAI
// protocol) asks for automation_start_run, the user confirms the exact call, the tool records the
// run and the conversation starts `runAutomation` as its child (the same automation-<id> the API
// would start), whose statuses and end the chat's stream shows. The Ansible runner is the fake
// every automation workflow test uses (test/support/automation-fakes.ts); the real one is tested in
// the automation lab tests.

let stack: TestStack;
let model: ScriptedModelServer;
let operatorKey: string;
let tenantId: string;
const runner = new FakeAnsibleRunner();

beforeAll(async () => {
  model = await startScriptedModel();
  stack = await startTestStack({
    withWorker: true,
    llm: new OpenAiCompatibleProvider({ apiKey: 'sk-test-000000000000000000000000', model: 'scripted-gpt', baseURL: model.openAiBaseUrl }),
    automation: { toolkit: fakeToolkit(runner), vault: fakeVault(), settings: { approvalTimeoutMs: 60_000, runTimeoutMs: 60_000 } },
    chat: {
      settings: { ...DEFAULT_CHAT_SETTINGS, idleTimeoutMs: 3000 },
      tools: ({ store, client, taskQueue }) =>
        createToolRegistry(
          createBuiltinTools({
            store,
            knowledge: new LocalKnowledgeBase(store, { embedder: null }),
            ...chatRunStarters({
              store,
              incidents: createTemporalIncidentGateway(client, { taskQueue }),
              automation: createTemporalAutomationGateway(client, { taskQueue }),
              automationSettings: { approvalTimeoutMs: 60_000, runTimeoutMs: 60_000 },
            }),
          }),
        ),
    },
  });
  tenantId = (await stack.store.tenants.ensure('chat-ansible')).id;
  operatorKey = await stack.keyFor('chat-ansible', 'operator');
  await addAutomationHost(stack.store, tenantId, 'web-01', '10.98.0.1');
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
});

describe('chat → Ansible run as a child workflow', () => {
  it('proposes the run, starts nothing before the confirmation, then starts one child whose progress and end the chat shows', async () => {
    const call = { name: 'automation_start_run', arguments: { request: 'install nginx', targets: ['web-01'], checkMode: true } };
    model.script({ toolCalls: [call] }, { text: 'The check-mode run is started; its progress shows here.' });
    const accepted = await stack.call('POST', '/api/v1/chat/async', {
      key: operatorKey,
      body: { message: 'install nginx on web-01, check mode' },
    });
    expect(accepted.status).toBe(202);
    const { jobId, sessionId } = (await accepted.json()) as { jobId: string; sessionId: string };

    const requested = await waitFor(
      async () => (await stack.store.chat.events(tenantId, sessionId, 0, 200)).find((e) => e.type === 'confirmation.requested'),
      'the confirmation request',
    );
    const { proposalId, hash, tool, args } = requested.data as { proposalId: string; hash: string; tool: string; args: unknown };
    expect(tool).toBe('automation_start_run');
    expect(hash).toBe(toolCallHash(tool, args));
    expect((await stack.store.automation.list(tenantId, {}, { limit: 10 })).items).toHaveLength(0);

    const confirmed = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: operatorKey,
      body: { proposalId, hash, approve: true },
    });
    expect(confirmed.status).toBe(200);
    const job = await waitFor(async () => {
      const body = (await (await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey })).json()) as {
        status: string;
        steps: { kind: string; name: string; status: string }[];
      };
      return body.status === 'completed' ? body : null;
    }, 'the job to complete');
    expect(job.steps).toContainEqual(expect.objectContaining({ kind: 'tool', name: 'automation_start_run', status: 'ok' }));

    // One run, recorded by the tool and started by the conversation as its child.
    const runs = (await stack.store.automation.list(tenantId, {}, { limit: 10 })).items;
    expect(runs).toHaveLength(1);
    const workflowId = runs[0]!.workflowId;
    expect(workflowId).toBe(`automation-${runs[0]!.id}`);
    const description = await stack.client.workflow.getHandle(workflowId).describe();
    expect(description.parentExecution?.workflowId).toBe(chatWorkflowId(sessionId));
    const final = await stack.client.workflow.getHandle<() => Promise<{ status: string }>>(workflowId).result();
    expect(final.status).toBe('succeeded');

    // The stream shows it start, move and end, after the turn ended (the turn did not wait for it).
    const ended = await waitFor(
      async () => (await stack.store.chat.events(tenantId, sessionId, 0, 500)).find((e) => e.type === 'run.ended'),
      'the run.ended event',
      60_000,
    );
    expect(ended.data).toMatchObject({ kind: 'automation', workflowId, status: 'succeeded' });
    const events = await stack.store.chat.events(tenantId, sessionId, 0, 500);
    const started = events.find((e) => e.type === 'run.started');
    expect(started?.data).toMatchObject({ kind: 'automation', workflowId });
    const turnEnded = events.find((e) => e.type === 'turn.ended')!;
    expect(turnEnded.seq).toBeLessThan(ended.seq);
    expect(started!.seq).toBeLessThan(ended.seq);
    // The runner executed it once.
    expect([...runner.executions.values()].reduce((sum, n) => sum + n, 0)).toBe(1);
    if (recordingHistories) {
      await stack.client.workflow.getHandle(chatWorkflowId(sessionId)).result();
      await saveHistoryFixture(stack.client, chatWorkflowId(sessionId), 'automation-child', {
        family: 'chat',
        revision: CHAT_WORKFLOW_REVISION,
      });
    }
  });
});
