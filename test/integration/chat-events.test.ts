import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunEventBus } from '../../adapters/events/create.js';
import type { RunEventBus } from '../../adapters/events/port.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { DEFAULT_CHAT_SETTINGS } from '../../core/contracts/chat.js';
import { createTestChatTools, readSse } from '../support/chat-tools.js';
import { createTestDatabase } from '../support/postgres.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';
import { startTestStack, waitFor, type TestStack } from '../support/stack.js';

// The chat's live stream across connections on PostgreSQL: the worker writes events and notifies on
// its own bus connection (LISTEN/NOTIFY), the API's stream is woken on another and reads the store
// after Last-Event-ID. A stream opened before the turn starts sees every event of it, once, in order.

let database: { url: string; drop(): Promise<void> };
let store: Store;
let apiBus: RunEventBus;
let workerBus: RunEventBus;
let model: ScriptedModelServer;
let stack: TestStack;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await createStore({ kind: 'postgres', url: database.url });
  apiBus = createRunEventBus({ kind: 'postgres', url: database.url });
  workerBus = createRunEventBus({ kind: 'postgres', url: database.url });
  model = await startScriptedModel();
  stack = await startTestStack({
    store,
    events: apiBus,
    workerEvents: workerBus,
    withWorker: true,
    sseMaxStreamMs: 30_000,
    llm: new OpenAiCompatibleProvider({ apiKey: 'sk-test-000000000000000000000000', model: 'scripted-gpt', baseURL: model.openAiBaseUrl }),
    chat: { tools: createTestChatTools({ slowMs: 50 }).registry, settings: DEFAULT_CHAT_SETTINGS, tokenFlushMs: 30 },
  });
});

afterAll(async () => {
  await stack?.close();
  await model?.close();
  await apiBus?.close();
  await workerBus?.close();
  await store?.close();
  await database?.drop();
});

describe('chat events on PostgreSQL across bus connections', () => {
  it('streams a whole turn to a client that was waiting, every event once', async () => {
    const key = await stack.keyFor('acme', 'operator');
    model.script({ text: 'Hello.' });
    const first = await stack.call('POST', '/api/v1/chat', { key, body: { message: 'hello' } });
    const { sessionId } = (await first.json()) as { sessionId: string };
    const tenantId = (await store.tenants.ensure('acme')).id;
    const before = await store.chat.events(tenantId, sessionId, 0, 1000);
    const lastId = before.at(-1)!.seq;

    const stream = await stack.call('GET', `/api/v1/chat/${sessionId}/events`, { key, headers: { 'last-event-id': String(lastId) } });
    expect(stream.status).toBe(200);
    const reading = readSse(stream, Number.POSITIVE_INFINITY, (event) => event.event === 'turn.ended');
    model.script(
      { toolCalls: [{ name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }] },
      { text: 'web-01 is an ubuntu 22.04 VM owned by platform-team.', chunkDelayMs: 20 },
    );
    const accepted = await stack.call('POST', '/api/v1/chat/async', { key, body: { sessionId, message: 'what is web-01?' } });
    expect(accepted.status).toBe(202);
    const stored = await waitFor(async () => {
      const events = await store.chat.events(tenantId, sessionId, lastId, 1000);
      return events.some((e) => e.type === 'turn.ended') ? events : null;
    }, 'the second turn to end');
    const received = await reading;
    expect(received.map((e) => e.id)).toEqual(stored.map((e) => e.seq));
    expect(received.map((e) => e.event)).toEqual(stored.map((e) => e.type));
  });
});
