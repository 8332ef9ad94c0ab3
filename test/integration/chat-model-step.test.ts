import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toModelMessages } from '../../activities/chat/context.js';
import { createChatModelActivities, type ChatModelStepInput, type ChatModelStepOutput } from '../../activities/chat/model-step.js';
import { LocalKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { createBuiltinTools } from '../../tools/builtin/index.js';
import { createToolRegistry } from '../../tools/registry.js';
import type { ToolCaller } from '../../tools/tool.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';

// The chat model step on its own, in Temporal's mock activity context, over a real store (PGlite),
// knowledge base and tool registry, with the OpenAI adapter talking to the scripted model: the
// turn's opening (the transcript the model reads is the one a read after the step gives), and the
// turn's end recorded by the step that answers (CHAT_ANSWER_IN_STEP_PATCH), once across retries.

let dataDir: string;
let store: Store;
let model: ScriptedModelServer;
let caller: ToolCaller;
let sessionId: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-model-step-'));
  store = await createStore({ kind: 'pglite', dataDir });
  model = await startScriptedModel();
  const tenant = await store.tenants.ensure(`model-step-${randomUUID().slice(0, 8)}`);
  caller = { tenantId: tenant.id, userId: 'api-key:model-step', role: 'operator' };
  const knowledge = new LocalKnowledgeBase(store, { embedder: null });
  await knowledge.ingest({
    tenantId: tenant.id,
    title: 'Runbook disk-full',
    kind: 'runbook',
    source: 'test',
    contentType: 'text/markdown',
    text: 'Runbook disk-full: run logrotate -f, then remove old /var/log/*.gz files.',
  });
});

afterAll(async () => {
  await model?.close();
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

let steps: ReturnType<typeof createChatModelActivities>;
let knowledgeBase: LocalKnowledgeBase;
/** No run is started here: the remediation tool is never called. */
const startRemediation = () => Promise.reject(new Error('not in this test'));

beforeEach(async () => {
  sessionId = randomUUID();
  await store.chat.createSession(caller.tenantId, { id: sessionId, userId: caller.userId, title: 'model step' });
  knowledgeBase = new LocalKnowledgeBase(store, { embedder: null });
  steps = createChatModelActivities({
    store,
    llm: new OpenAiCompatibleProvider({ apiKey: 'sk-test-000000000000000000000000', baseURL: model.openAiBaseUrl, model: 'scripted-gpt' }),
    chatTools: createToolRegistry(createBuiltinTools({ store, knowledge: knowledgeBase, startRemediation })),
  });
});

const inActivity = (attempt = 1) =>
  new MockActivityEnvironment(
    { workflowExecution: { workflowId: `chat-${sessionId}`, runId: 'r1' }, attempt },
    { logger: new DefaultLogger('ERROR') },
  );

function firstStep(turn: number, text: string, extra: Partial<ChatModelStepInput> = {}): ChatModelStepInput {
  return {
    ref: { tenantId: caller.tenantId, sessionId },
    caller,
    turn,
    step: 1,
    summary: null,
    contextFromSeq: 1,
    contextMessages: 40,
    maxTokens: 4000,
    opening: {
      userMessage: { key: `t${turn}/user`, role: 'user', turn, content: text },
      knowledgeSearch: { callId: `kb-${turn}`, toolName: 'knowledge_search', query: text, callKey: `chat-${sessionId}/${turn}/kb-${turn}` },
    },
    ...extra,
  };
}

const ending = (messageId: string) => ({ messageId, steps: [], usage: { modelSteps: 1, tokens: 0 } });

describe('chat model step', () => {
  it('opens a turn: the model reads the same transcript a read after the step gives, in stored order', async () => {
    model.script({ text: 'Earlier answer.' }, { text: 'Run logrotate -f.' });
    await inActivity().run(steps.chatModelStep, firstStep(1, 'Hello there'));
    const out: ChatModelStepOutput = await inActivity().run(steps.chatModelStep, firstStep(2, 'The disk is full, what now?'));
    expect(out.content).toBe('Run logrotate -f.');
    expect(out.opening?.knowledge).toMatchObject({ status: 'ok', preview: expect.stringContaining('logrotate') });

    const stored = await store.chat.lastMessages(caller.tenantId, sessionId, 1, 40);
    expect(stored.map((m) => `${m.turn}:${m.role}`)).toEqual([
      '1:user',
      '1:assistant',
      '1:tool',
      '1:assistant',
      '2:user',
      '2:assistant',
      '2:tool',
      '2:assistant',
    ]);
    // What the model was sent in turn 2 is the window as stored before its answer (the last message).
    type Sent = { role: string; content: string | null; tool_calls?: { id: string }[]; tool_call_id?: string };
    const sent = (model.requests.at(-1)!.body.messages as Sent[]).map(
      (m) => `${m.role}|${m.content ?? ''}|${(m.tool_calls ?? []).map((c) => c.id).join(',')}|${m.tool_call_id ?? ''}`,
    );
    const expected = toModelMessages(stored.slice(0, -1), null).map((m) => {
      const calls = 'toolCalls' in m ? (m.toolCalls ?? []).map((c) => c.id).join(',') : '';
      return `${m.role}|${m.content ?? ''}|${calls}|${'toolCallId' in m ? m.toolCallId : ''}`;
    });
    expect(sent).toEqual(expected);
    expect(sent.at(-1)).toContain('Runbook disk-full');
  });

  it('records the turn’s end when the model answers, and a retry returns that answer without asking the model again', async () => {
    model.script({ text: 'Run logrotate -f.' });
    const messageId = randomUUID();
    const job = await store.chat.createJob(caller.tenantId, { id: randomUUID(), sessionId, userId: caller.userId, messageId });
    const input = firstStep(1, 'The disk is full, what now?', { ending: { ...ending(messageId), jobId: job.id } });
    const out: ChatModelStepOutput = await inActivity().run(steps.chatModelStep, input);
    expect(out.content).toBeNull();
    expect(out.answered).toEqual({
      messageId,
      turn: 1,
      status: 'answered',
      answer: 'Run logrotate -f.',
      offline: false,
      steps: [
        { kind: 'knowledge', name: 'knowledge_search', status: 'ok', detail: expect.stringContaining('logrotate') },
        { kind: 'model', name: 'scripted-gpt', status: 'ok', detail: null },
      ],
      usage: { modelSteps: 1, tokens: out.tokens },
    });
    const events = await store.chat.events(caller.tenantId, sessionId, 0, 100);
    expect(events.filter((e) => e.type === 'answer' || e.type === 'turn.ended').map((e) => e.type)).toEqual(['answer', 'turn.ended']);
    expect(await store.chat.getJob(caller.tenantId, job.id)).toMatchObject({ status: 'completed', answer: 'Run logrotate -f.' });

    // The worker lost before the completion reached Temporal: the retry finds the recorded end.
    const asked = model.requests.length;
    const again: ChatModelStepOutput = await inActivity(2).run(steps.chatModelStep, input);
    expect(model.requests).toHaveLength(asked);
    expect(again.answered).toEqual(out.answered);
    expect(again.tokens).toBe(out.tokens);
    expect((await store.chat.events(caller.tenantId, sessionId, 0, 100)).length).toBe(events.length);
  });

  it('leaves the end to the workflow when the model asks for tools, or when there is no ending to record', async () => {
    model.script({ toolCalls: [{ name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }] }, { text: 'Plain answer.' });
    const withTools: ChatModelStepOutput = await inActivity().run(
      steps.chatModelStep,
      firstStep(1, 'What is web-01?', { ending: ending(randomUUID()) }),
    );
    expect(withTools.answered).toBeUndefined();
    expect(withTools.toolCalls).toMatchObject([{ name: 'cmdb_lookup', local: true }]);
    // A run recorded before the patch sends no ending: the step answers and records nothing of the end.
    const old: ChatModelStepOutput = await inActivity().run(steps.chatModelStep, { ...firstStep(2, 'And now?'), opening: undefined });
    expect(old).toMatchObject({ content: 'Plain answer.', toolCalls: [] });
    expect(old.answered).toBeUndefined();
    const events = await store.chat.events(caller.tenantId, sessionId, 0, 100);
    expect(events.some((e) => e.type === 'answer')).toBe(false);
  });

  it('answers without recording the end when the store refuses the end’s write (the workflow records it then)', async () => {
    model.script({ text: 'Fine answer.' });
    const failing: Store = {
      ...store,
      chat: {
        ...store.chat,
        appendEvents: (tenantId, id, events) =>
          events.some((e) => e.type === 'answer') ? Promise.reject(new Error('store down')) : store.chat.appendEvents(tenantId, id, events),
      },
    };
    const flaky = createChatModelActivities({
      store: failing,
      llm: new OpenAiCompatibleProvider({
        apiKey: 'sk-test-000000000000000000000000',
        baseURL: model.openAiBaseUrl,
        model: 'scripted-gpt',
      }),
      chatTools: createToolRegistry(createBuiltinTools({ store: failing, knowledge: knowledgeBase, startRemediation })),
    });
    const out: ChatModelStepOutput = await inActivity().run(
      flaky.chatModelStep,
      firstStep(1, 'Anything?', { ending: ending(randomUUID()) }),
    );
    expect(out).toMatchObject({ content: 'Fine answer.', toolCalls: [] });
    expect(out.answered).toBeUndefined();
  });
});
