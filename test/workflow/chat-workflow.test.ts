import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatPlanner } from '../../activities/chat/index.js';
import { MemoryRunEventBus } from '../../adapters/events/memory.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { createTemporalChatGateway } from '../../api/chat-gateway.js';
import { chatWorkflowId, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../core/contracts/chat.js';
import { toolCallHash } from '../../tools/tool.js';
import { createTestChatTools, readSse, type ToolCallRecord } from '../support/chat-tools.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';
import { CHAT_WORKFLOW_REVISION, recordingHistories, saveHistoryFixture } from '../support/histories.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The chat agent end to end: the API over the real chat workflow and activities on the test run's
// Temporal dev server, a PGlite store, the scripted model server (OpenAI protocol, streaming) and
// small test tools: knowledge first, concurrent tools, confirmations bound to a hash, a failing tool,
// the budget, async jobs, the live stream resumed with Last-Event-ID, and session ownership.

const SETTINGS: ChatSettings = {
  ...DEFAULT_CHAT_SETTINGS,
  budget: { maxModelSteps: 3, maxTokens: 50_000, maxTurnMs: 60_000 },
  confirmationTimeoutMs: 20_000,
  // Runs end soon after their last turn, so their histories are final and can be kept as fixtures.
  idleTimeoutMs: 3000,
};

/** When recording fixtures: waits for the conversation's run to end (idle) and keeps its history. */
async function keepHistory(sessionId: string, scenario: string): Promise<void> {
  if (!recordingHistories) return;
  const workflowId = chatWorkflowId(sessionId);
  await stack.client.workflow.getHandle(workflowId).result();
  await saveHistoryFixture(stack.client, workflowId, scenario, { family: 'chat', revision: CHAT_WORKFLOW_REVISION });
}

/** The conversation's task-queue activities and local activities (markers), in history order, the store's session read left out. */
async function activitiesOf(sessionId: string): Promise<{ scheduled: string[]; local: string[] }> {
  const { events } = await stack.client.workflow.getHandle(chatWorkflowId(sessionId)).fetchHistory();
  const scheduled = events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  const local = events!.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    const type = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
    return type && type !== 'openChatSession' ? [type] : [];
  });
  return { scheduled, local };
}

let model: ScriptedModelServer;
let stack: TestStack;
let calls: ToolCallRecord[];
let operatorKey: string;

interface Answer {
  sessionId: string;
  turn: number;
  status: string;
  answer: string;
  offline: boolean;
  steps: { kind: string; name: string; status: string; detail: string | null }[];
}

const chat = async (body: Record<string, unknown>, key = operatorKey) => {
  const response = await stack.call('POST', '/api/v1/chat', { key, body });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Answer;
};

beforeAll(async () => {
  model = await startScriptedModel();
  const tools = createTestChatTools();
  calls = tools.calls;
  stack = await startTestStack({
    withWorker: true,
    events: new MemoryRunEventBus(),
    sseMaxStreamMs: 3000,
    llm: new OpenAiCompatibleProvider({ apiKey: 'sk-test-000000000000000000000000', model: 'scripted-gpt', baseURL: model.openAiBaseUrl }),
    chat: { tools: tools.registry, settings: SETTINGS, tokenFlushMs: 30 },
  });
  operatorKey = await stack.keyFor('acme', 'operator');
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
});

beforeEach(() => {
  model.reset();
  calls.length = 0;
});

describe('chat agent (OpenAI protocol, streaming)', () => {
  it('searches the knowledge base first and answers from it', async () => {
    model.script({ text: 'Per the disk-full runbook: run logrotate -f, then clear old /var/log/*.gz.', chunkDelayMs: 5 });
    const answer = await chat({ message: 'The disk on web-01 is full, what should I do?' });
    expect(answer).toMatchObject({ status: 'answered', offline: false, answer: expect.stringContaining('logrotate') });
    expect(calls.map((c) => c.tool)).toEqual(['knowledge_search']);
    expect(calls[0]!.args).toEqual({ query: 'The disk on web-01 is full, what should I do?' });
    // The model saw the search result before its first step, and was offered the tools.
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]!.transcript.join('\n')).toContain('Runbook disk-full: run logrotate');
    expect((model.requests[0]!.body.tools as unknown[]).length).toBeGreaterThan(0);
    expect(answer.steps.map((s) => `${s.kind}:${s.status}`)).toEqual(['knowledge:ok', 'model:ok']);

    const history = await stack.call('GET', `/api/v1/chat/${answer.sessionId}/history`, { key: operatorKey });
    const body = (await history.json()) as { items: { role: string; content: string | null; toolName?: string }[] };
    expect(body.items.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(body.items[2]!.toolName).toBe('knowledge_search');
    expect(body.items[3]!.content).toContain('logrotate');
    // The search ran inside the turn's first model step (its opening), and that step, answering,
    // recorded the turn's end: one activity for the whole turn, no store step after it.
    expect(await activitiesOf(answer.sessionId)).toEqual({ scheduled: ['chatModelStep'], local: [] });
    await keepHistory(answer.sessionId, 'knowledge-first');
  });

  it('runs two independent tool calls at once, then answers with both results', async () => {
    model.script(
      {
        toolCalls: [
          { name: 'cmdb_lookup', arguments: { tagId: 'web-01' } },
          { name: 'metrics_query', arguments: { query: 'disk_used_percent{host="web-01"}' } },
        ],
      },
      (request) => ({
        text:
          request.transcript.some((t) => t.includes('97.5')) && request.transcript.some((t) => t.includes('ubuntu 22.04'))
            ? 'web-01 (ubuntu 22.04) is at 97.5% disk.'
            : 'I did not get the tool results.',
      }),
    );
    const answer = await chat({ message: 'How full is the disk of web-01 and what is it?' });
    expect(answer.answer).toBe('web-01 (ubuntu 22.04) is at 97.5% disk.');
    const lookup = calls.find((c) => c.tool === 'cmdb_lookup')!;
    const metrics = calls.find((c) => c.tool === 'metrics_query')!;
    // Each takes 700 ms: they overlapped, neither waited for the other.
    expect(lookup.startedAt).toBeLessThan(metrics.endedAt);
    expect(metrics.startedAt).toBeLessThan(lookup.endedAt);
    expect(lookup.callKey).toMatch(new RegExp(`^chat-${answer.sessionId}/\\d+/`));
    // cmdb_lookup reads the store only, but beside metrics_query it runs as a task-queue activity too:
    // a local one would hold the workflow task, and metrics_query would wait for it.
    const activities = await activitiesOf(answer.sessionId);
    expect(activities.scheduled).toEqual(['chatModelStep', 'runChatTool', 'runChatTool', 'chatModelStep']);
    expect(activities.local).not.toContain('runChatTool');
    await keepHistory(answer.sessionId, 'concurrent-tools');
  });

  it('runs a call that only reads the store as a local activity: no task-queue round trip, the same records', async () => {
    model.script({ toolCalls: [{ name: 'cmdb_lookup', arguments: { tagId: 'db-02' } }] }, (request) => ({
      text: request.transcript.some((t) => t.includes('db-02: ubuntu 22.04')) ? 'db-02 is an ubuntu 22.04 VM.' : 'No result.',
    }));
    const answer = await chat({ message: 'What is db-02?' });
    expect(answer.answer).toBe('db-02 is an ubuntu 22.04 VM.');
    expect(answer.steps.map((s) => `${s.kind}:${s.name}:${s.status}`)).toEqual([
      'knowledge:knowledge_search:ok',
      'model:scripted-gpt:ok',
      'tool:cmdb_lookup:ok',
      'model:scripted-gpt:ok',
    ]);
    expect(calls.filter((c) => c.tool === 'cmdb_lookup')).toHaveLength(1);
    expect(await activitiesOf(answer.sessionId)).toEqual({
      scheduled: ['chatModelStep', 'chatModelStep'],
      local: ['runChatTool'],
    });
    const history = await stack.call('GET', `/api/v1/chat/${answer.sessionId}/history`, { key: operatorKey });
    const body = (await history.json()) as { items: { role: string; toolName?: string }[] };
    expect(body.items.map((m) => `${m.role}${m.toolName ? `:${m.toolName}` : ''}`)).toEqual([
      'user',
      'assistant',
      'tool:knowledge_search',
      'assistant',
      'tool:cmdb_lookup',
      'assistant',
    ]);
    await keepHistory(answer.sessionId, 'local-read-tool');
  });

  it('proposes a change, runs nothing before the confirmation, refuses a wrong hash, runs it once after', async () => {
    model.script({ toolCalls: [{ name: 'incident_create', arguments: { title: 'web-01 disk full' } }] }, (request) => ({
      text: request.transcript.some((t) => t.includes('Created incident INC-1')) ? 'Opened INC-1 for the disk.' : 'It did not run.',
    }));
    const accepted = await stack.call('POST', '/api/v1/chat/async', {
      key: operatorKey,
      body: { message: 'Open an incident for web-01 disk' },
    });
    expect(accepted.status).toBe(202);
    const { jobId, sessionId } = (await accepted.json()) as { jobId: string; sessionId: string };
    const tenantId = (await stack.store.tenants.ensure('acme')).id;
    const requested = await waitFor(async () => {
      const events = await stack.store.chat.events(tenantId, sessionId, 0, 100);
      return events.find((e) => e.type === 'confirmation.requested');
    }, 'the confirmation request');
    const { proposalId, hash, args } = requested.data as { proposalId: string; hash: string; args: unknown };
    expect(hash).toBe(toolCallHash('incident_create', args));
    expect(args).toEqual({ title: 'web-01 disk full', severity: 'high' });
    const job = await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey });
    expect(((await job.json()) as { status: string }).status).toBe('running');
    expect(calls.filter((c) => c.tool === 'incident_create')).toHaveLength(0);

    const wrong = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: operatorKey,
      body: { proposalId, hash: toolCallHash('incident_create', { title: 'something else', severity: 'high' }), approve: true },
    });
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as { detail: string }).detail).toContain('changed');
    const viewer = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: await stack.keyFor('acme', 'viewer'),
      body: { proposalId, hash, approve: true },
    });
    expect(viewer.status).toBe(403);
    expect(calls.filter((c) => c.tool === 'incident_create')).toHaveLength(0);

    const confirmed = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: operatorKey,
      body: { proposalId, hash, approve: true },
    });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ proposalId, decision: 'approved' });
    const done = await waitFor(async () => {
      const body = (await (await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey })).json()) as {
        status: string;
        answer?: string;
        steps: { kind: string; status: string }[];
      };
      return body.status === 'completed' ? body : null;
    }, 'the job to complete');
    expect(done.answer).toBe('Opened INC-1 for the disk.');
    expect(done.steps.map((s) => `${s.kind}:${s.status}`)).toEqual([
      'knowledge:ok',
      'model:ok',
      'confirmation:approved',
      'tool:ok',
      'model:ok',
    ]);
    expect(calls.filter((c) => c.tool === 'incident_create')).toHaveLength(1);
    const again = await stack.call('POST', `/api/v1/chat/${sessionId}/confirm`, {
      key: operatorKey,
      body: { proposalId, hash, approve: true },
    });
    expect(again.status).toBe(409);
    expect(calls.filter((c) => c.tool === 'incident_create')).toHaveLength(1);
    await keepHistory(sessionId, 'change-confirmed');
  });

  it('tells the model a tool failed, and the answer says so; a forbidden tool never runs', async () => {
    model.script(
      {
        toolCalls: [
          { name: 'ticket_search', arguments: { what: 'web-01' } },
          { name: 'reboot_host', arguments: { tagId: 'web-01' } },
        ],
      },
      (request) => {
        const seen = request.transcript.join('\n');
        return {
          text:
            seen.includes('401 Unauthorized') && seen.includes('forbids')
              ? 'The ticket search failed (401) and rebooting is forbidden.'
              : 'ok',
        };
      },
    );
    const answer = await chat({ message: 'Find tickets for web-01 and reboot it' });
    expect(answer.answer).toBe('The ticket search failed (401) and rebooting is forbidden.');
    expect(answer.steps.filter((s) => s.kind === 'tool').map((s) => `${s.name}:${s.status}`)).toEqual([
      'ticket_search:failed',
      'reboot_host:refused',
    ]);
    expect(calls.filter((c) => c.tool === 'reboot_host')).toHaveLength(0);
    await keepHistory(answer.sessionId, 'tool-failed-and-forbidden');
  });

  it('ends a turn that spends its model steps with a clear message', async () => {
    for (let i = 0; i < 3; i += 1) model.script({ toolCalls: [{ name: 'cmdb_lookup', arguments: { tagId: `web-0${i}` } }] });
    const answer = await chat({ message: 'Look up every web host one by one' });
    expect(answer.status).toBe('budget_exhausted');
    expect(answer.answer).toContain('used all 3 model steps');
    expect(model.requests).toHaveLength(3);
    await keepHistory(answer.sessionId, 'budget-exhausted');
  });

  it('answers a repeated messageId once, with the same answer', async () => {
    model.script({ text: 'Reload nginx after checking the upstream pool.' });
    const first = await chat({ message: 'nginx 502 on web-02?', messageId: 'm-repeat-1' });
    const second = await chat({ sessionId: first.sessionId, message: 'nginx 502 on web-02?', messageId: 'm-repeat-1' });
    expect(second.answer).toBe(first.answer);
    // The same message again as an async job: the job completes with the first answer.
    const accepted = await stack.call('POST', '/api/v1/chat/async', {
      key: operatorKey,
      body: { sessionId: first.sessionId, message: 'nginx 502 on web-02?', messageId: 'm-repeat-1' },
    });
    expect(accepted.status).toBe(202);
    const { jobId } = (await accepted.json()) as { jobId: string };
    const job = await waitFor(async () => {
      const body = (await (await stack.call('GET', `/api/v1/chat/async/${jobId}`, { key: operatorKey })).json()) as {
        status: string;
        answer?: string;
      };
      return body.status === 'completed' ? body : null;
    }, 'the repeated job to complete');
    expect(job.answer).toBe(first.answer);
    expect(model.requests).toHaveLength(1);

    // The run ends idle; the same message again starts a new run, which reads the answers given back
    // from the stream: the first answer, with its steps, and no second turn.
    await stack.client.workflow.getHandle(chatWorkflowId(first.sessionId)).result();
    const afterIdle = await chat({ sessionId: first.sessionId, message: 'nginx 502 on web-02?', messageId: 'm-repeat-1' });
    expect(afterIdle).toMatchObject({ answer: first.answer, status: first.status, steps: first.steps });
    expect(model.requests).toHaveLength(1);
    // A new message in that run is the session's next turn.
    model.script({ text: 'Same on web-03: check its upstream pool first.' });
    const next = await chat({ sessionId: first.sessionId, message: 'and on web-03?', messageId: 'm-repeat-2' });
    expect(next).toMatchObject({ answer: 'Same on web-03: check its upstream pool first.', turn: first.turn + 1 });
    expect(model.requests).toHaveLength(2);
    const history = await stack.call('GET', `/api/v1/chat/${first.sessionId}/history`, { key: operatorKey });
    const body = (await history.json()) as { items: { role: string; content: string | null }[] };
    expect(body.items.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['nginx 502 on web-02?', 'and on web-03?']);
  });

  it('streams tokens, tools and the answer; a client resuming with Last-Event-ID sees every event once', async () => {
    model.script(
      { toolCalls: [{ name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }] },
      { text: 'web-01 is an ubuntu 22.04 VM owned by platform-team; its disk is the problem.', chunkDelayMs: 15 },
    );
    const first = await chat({ message: 'What is web-01?' });
    const url = `/api/v1/chat/${first.sessionId}/events`;
    const head = await readSse(await stack.call('GET', url, { key: operatorKey }), 4);
    expect(head).toHaveLength(4);
    const rest = await readSse(await stack.call('GET', url, { key: operatorKey, headers: { 'last-event-id': String(head.at(-1)!.id) } }));
    const seen = [...head, ...rest];
    const tenantId = (await stack.store.tenants.ensure('acme')).id;
    const stored = await stack.store.chat.events(tenantId, first.sessionId, 0, 1000);
    expect(seen.map((e) => e.id)).toEqual(stored.map((e) => e.seq));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    const types = seen.map((e) => e.event);
    expect(types).toEqual(expect.arrayContaining(['tool.started', 'tool.ended', 'token', 'answer', 'turn.ended']));
    expect(types.indexOf('token')).toBeLessThan(types.indexOf('answer'));
    const streamed = seen.filter((e) => e.event === 'token').map((e) => String(e.data.data && (e.data.data as { text: string }).text));
    expect(streamed.join('')).toBe('web-01 is an ubuntu 22.04 VM owned by platform-team; its disk is the problem.');
  });

  it('hides a session from every other user (404), and refuses empty and oversized messages', async () => {
    model.script({ text: 'Yes.' });
    const mine = await chat({ message: 'Is logrotate installed on web hosts?' });
    const otherKey = await stack.keyFor('acme', 'operator');
    for (const [method, path, body] of [
      ['GET', `/api/v1/chat/${mine.sessionId}/history`, undefined],
      ['GET', `/api/v1/chat/${mine.sessionId}/events`, undefined],
      ['POST', '/api/v1/chat', { sessionId: mine.sessionId, message: 'hello' }],
      ['POST', `/api/v1/chat/${mine.sessionId}/confirm`, { proposalId: 'p', hash: 'a'.repeat(64), approve: false }],
    ] as const) {
      const response = await stack.call(method, path, { key: otherKey, ...(body ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect((await stack.call('POST', '/api/v1/chat', { key: operatorKey, body: { message: '   ' } })).status).toBe(422);
    expect((await stack.call('POST', '/api/v1/chat', { key: operatorKey, body: { message: 'x'.repeat(8001) } })).status).toBe(422);
  });
});

describe('chat agent offline (no LLM: the planner answers)', () => {
  let offline: TestStack;
  const seenByPlanner: string[][] = [];
  const planner: ChatPlanner = {
    plan: ({ messages, tools }) => {
      seenByPlanner.push(messages.map((m) => ('content' in m && m.content) || ''));
      const kb = messages.find((m) => m.role === 'tool');
      return Promise.resolve({
        content: kb ? `From the knowledge base: ${kb.content} (${tools.length} tools available)` : 'No knowledge found.',
        toolCalls: [],
      });
    },
  };

  beforeAll(async () => {
    offline = await startTestStack({ withWorker: true, chat: { tools: createTestChatTools().registry, planner, settings: SETTINGS } });
  });
  afterAll(async () => {
    await offline?.close();
  });

  it('answers from the knowledge base and says it is offline', async () => {
    const response = await offline.call('POST', '/api/v1/chat', {
      key: await offline.keyFor('acme', 'viewer'),
      body: { message: 'nginx returns 502, what now?' },
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Answer;
    expect(answer.offline).toBe(true);
    expect(answer.answer).toContain('Runbook nginx-502');
    expect(answer.answer).toContain('Offline mode');
    expect(answer.steps.map((s) => `${s.kind}:${s.name}`)).toEqual(['knowledge:knowledge_search', 'model:offline']);
    expect(seenByPlanner).toHaveLength(1);
  });
});

describe('chat conversation lifecycle (the workflow with its own settings)', () => {
  const conversation = async (settings: ChatSettings) => {
    const tenant = await stack.store.tenants.ensure('acme');
    const session = await stack.store.chat.createSession(tenant.id, { id: randomUUID(), userId: 'api-key:lifecycle', title: 'lifecycle' });
    return { tenantId: tenant.id, userId: 'api-key:lifecycle', role: 'operator' as const, sessionId: session.id, settings };
  };
  const gateway = () => createTemporalChatGateway(stack.client, { taskQueue: stack.taskQueue });

  it('expires an unconfirmed change on its durable timer: it never runs and the answer says so', async () => {
    const input = await conversation({ ...SETTINGS, confirmationTimeoutMs: 1500 });
    model.script({ toolCalls: [{ name: 'incident_create', arguments: { title: 'db-01 down' } }] }, (request) => ({
      text: request.transcript.some((t) => t.includes('expired and did not run'))
        ? 'Nobody confirmed, so no incident was opened.'
        : 'Opened.',
    }));
    const result = await gateway().send(input, { messageId: 'm-expire', text: 'Open an incident for db-01' });
    expect(result.answer).toBe('Nobody confirmed, so no incident was opened.');
    expect(result.steps.map((s) => `${s.kind}:${s.status}`)).toContain('confirmation:expired');
    await keepHistory(input.sessionId, 'change-expired');
    expect(calls.filter((c) => c.tool === 'incident_create')).toHaveLength(0);
    const events = await stack.store.chat.events(input.tenantId, input.sessionId, 0, 100);
    expect(events.find((e) => e.type === 'confirmation.decided')?.data).toMatchObject({ decision: 'expired' });
  });

  it('continues as new after its history threshold, carrying the summary and the last answers', async () => {
    // One turn's history is about 20 events (its store steps are local activities: markers, no task round trips).
    const input = await conversation({ ...SETTINGS, continueAsNewAfterEvents: 10 });
    model.script(
      { text: 'web-01 disk: run logrotate.' },
      { text: 'The user reported that the web-01 disk is full; logrotate was advised.' },
    );
    const first = await gateway().send(input, { messageId: 'm-can-1', text: 'web-01 disk is full' });
    const handle = stack.client.workflow.getHandle(chatWorkflowId(input.sessionId));
    const firstRun = (await handle.describe()).runId;
    await waitFor(async () => (await handle.describe()).runId !== firstRun, 'the conversation to continue as new', 20_000);
    const session = await stack.store.chat.getSession(input.tenantId, input.sessionId);
    expect(session?.summary).toBe('The user reported that the web-01 disk is full; logrotate was advised.');
    expect(model.requests[1]!.transcript.join('\n')).toContain('User: web-01 disk is full');

    model.script((request) => ({
      text: request.transcript.some((t) => t.includes('Summary of the conversation so far')) ? 'Still web-01.' : 'No memory.',
    }));
    const second = await gateway().send(input, { messageId: 'm-can-2', text: 'which host were we talking about?' });
    expect(second).toMatchObject({ answer: 'Still web-01.', turn: 2 });
    // A repeat of the first message, sent to the new run, gets the carried answer without a model call.
    const repeat = await gateway().send(input, { messageId: 'm-can-1', text: 'web-01 disk is full' });
    expect(repeat.answer).toBe(first.answer);
    // Turns offer tools, summaries do not: two turns reached the model (the run summarises again after the second).
    const turns = model.requests.filter((request) => Array.isArray(request.body.tools));
    expect(turns).toHaveLength(2);
    expect(turns[1]!.transcript.join('\n')).toContain('logrotate was advised');
    await keepHistory(input.sessionId, 'continued-as-new');
  });
});
