import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbooksIntoKnowledgeBase, LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { createOfflineChatPlanner } from '../../activities/chat/offline.js';
import { chatRunStarters } from '../../api/run-starts.js';
import { createTemporalIncidentGateway } from '../../api/temporal-gateway.js';
import { OFFLINE_NOTICE } from '../../core/chat/offline-planner.js';
import { createBuiltinTools } from '../../tools/builtin/index.js';
import { createToolRegistry } from '../../tools/registry.js';
import { toolCallHash } from '../../tools/tool.js';
import { chatWorkflowId, DEFAULT_CHAT_SETTINGS } from '../../core/contracts/chat.js';
import { FakeHostAccess } from '../support/fake-host.js';
import { CHAT_CHILD_RUNS_REVISION, recordingHistories, saveHistoryFixture } from '../support/histories.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The chat agent as the worker runs it without an LLM: the offline planner (activities/chat/offline.ts)
// over the real built-in tools (tools/builtin/, starting runs through the test run's Temporal), inside
// the chat workflow, through the API. A question answered from the knowledge base; one answered from
// the CMDB; a remediation proposed, confirmed with its hash, and started exactly once, as a child
// workflow of the conversation whose start, statuses and end the chat's stream shows.

let stack: TestStack;
let operatorKey: string;
let adminKey: string;

interface Job {
  status: string;
  answer?: string;
  steps: { kind: string; name: string; status: string }[];
}

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: true,
    hostAccess: new FakeHostAccess(),
    chat: {
      planner: createOfflineChatPlanner(),
      // A conversation ends soon after its last turn (and its child run), so its history is final and can be kept.
      settings: { ...DEFAULT_CHAT_SETTINGS, idleTimeoutMs: 3000 },
      tools: ({ store, client, taskQueue }) =>
        createToolRegistry(
          createBuiltinTools({
            store,
            knowledge: new LocalKnowledgeBase(store, { embedder: null }),
            ...chatRunStarters({ store, incidents: createTemporalIncidentGateway(client, { taskQueue }) }),
          }),
        ),
    },
  });
  await loadRunbooksIntoKnowledgeBase(stack.knowledge, await loadRunbooks());
  operatorKey = await stack.keyFor('offline-chat', 'operator');
  adminKey = await stack.keyFor('offline-chat', 'admin');
  expect((await stack.call('POST', '/api/v1/cmdb', { key: adminKey, body: sampleCmdbItem('web-01') })).status).toBe(201);
});

afterAll(async () => {
  await stack?.close();
});

const ask = async (message: string) => {
  const response = await stack.call('POST', '/api/v1/chat', { key: operatorKey, body: { message } });
  expect(response.status).toBe(200);
  return (await response.json()) as { sessionId: string; answer: string; offline: boolean; steps: Job['steps'] };
};

describe('chat without an LLM: the offline planner over the built-in tools', () => {
  it('answers a how-to question from the knowledge base, saying it is offline', async () => {
    const answer = await ask('How do I restart nginx?');
    expect(answer.offline).toBe(true);
    expect(answer.answer).toContain(OFFLINE_NOTICE);
    expect(answer.answer.toLowerCase()).toContain('nginx');
    expect(answer.steps[0]).toMatchObject({ kind: 'knowledge', name: 'knowledge_search', status: 'ok' });
  });

  it('answers what a host is from the CMDB', async () => {
    const answer = await ask('What is web-01?');
    expect(answer.answer).toContain('web-01.example.internal');
    expect(answer.steps.map((s) => s.name)).toContain('cmdb_lookup');
  });

  it('proposes a remediation, starts nothing before the confirmation, and starts exactly one after it', async () => {
    const tenantId = (await stack.store.tenants.ensure('offline-chat')).id;
    const before = (await stack.store.incidents.list(tenantId, {}, { limit: 100 })).items.length;
    const accepted = await stack.call('POST', '/api/v1/chat/async', { key: operatorKey, body: { message: 'fix nginx on web-01' } });
    expect(accepted.status).toBe(202);
    const { jobId, sessionId } = (await accepted.json()) as { jobId: string; sessionId: string };
    const requested = await waitFor(async () => {
      const events = await stack.store.chat.events(tenantId, sessionId, 0, 200);
      return events.find((e) => e.type === 'confirmation.requested');
    }, 'the confirmation request');
    const { proposalId, hash, tool, args } = requested.data as { proposalId: string; hash: string; tool: string; args: unknown };
    expect(tool).toBe('incidents_start_remediation');
    expect(args).toMatchObject({ tagId: 'web-01' });
    expect(hash).toBe(toolCallHash(tool, args));
    expect((await stack.store.incidents.list(tenantId, {}, { limit: 100 })).items).toHaveLength(before);

    const confirmed = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: operatorKey,
      body: { proposalId, hash, approve: true },
    });
    expect(confirmed.status).toBe(200);
    const done = await waitFor(async () => {
      const job = (await (await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey })).json()) as Job;
      return job.status === 'completed' ? job : null;
    }, 'the job to complete');
    expect(done.answer).toContain(OFFLINE_NOTICE);
    expect(done.steps).toContainEqual(expect.objectContaining({ kind: 'tool', name: 'incidents_start_remediation', status: 'ok' }));
    const incidents = (await stack.store.incidents.list(tenantId, {}, { limit: 100 })).items;
    expect(incidents).toHaveLength(before + 1);
    expect(incidents[0]).toMatchObject({ source: 'chat' });

    // The remediation is a child of the conversation, started with the id the API would use, and
    // the chat's stream shows it start and, without the turn waiting for it, end.
    const workflowId = `incident-${incidents[0]!.id}`;
    const events = await stack.store.chat.events(tenantId, sessionId, 0, 500);
    const started = events.find((e) => e.type === 'run.started');
    expect(started?.data).toMatchObject({ kind: 'remediation', workflowId, label: `INC-${incidents[0]!.number}`, status: 'running' });
    const description = await stack.client.workflow.getHandle(workflowId).describe();
    expect(description.parentExecution?.workflowId).toBe(`chat-${sessionId}`);
    const ended = await waitFor(
      async () => (await stack.store.chat.events(tenantId, sessionId, 0, 500)).find((e) => e.type === 'run.ended'),
      'the run.ended event',
      90_000,
    );
    const final = await stack.client.workflow.getHandle<() => Promise<{ status: string }>>(workflowId).result();
    expect(ended.data).toMatchObject({ kind: 'remediation', workflowId, status: final.status });
    const turnEnded = events.find((e) => e.type === 'turn.ended')!;
    expect(turnEnded.seq).toBeLessThan(ended.seq);
    // Between them, the statuses the incident's record moved through, each once, in order.
    const statuses = (await stack.store.chat.events(tenantId, sessionId, 0, 500)).filter((e) => e.type === 'run.status');
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    for (const [i, event] of statuses.entries()) {
      expect(event.data).toMatchObject({ kind: 'remediation', workflowId, status: expect.any(String) });
      expect(event.seq).toBeGreaterThan(started!.seq);
      if (i > 0) expect(event.data.status).not.toBe(statuses[i - 1]!.data.status);
    }
    if (recordingHistories) {
      await stack.client.workflow.getHandle(chatWorkflowId(sessionId)).result();
      await saveHistoryFixture(stack.client, chatWorkflowId(sessionId), 'remediation-child', {
        family: 'chat',
        revision: CHAT_CHILD_RUNS_REVISION,
      });
    }
  });
});
