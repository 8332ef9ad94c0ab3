import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Store } from '../../adapters/store/port.js';

// The chat part of the store contract (migration 0012): sessions, the transcript and the live
// stream's events numbered per session with idempotent keys, and asynchronous jobs that never
// move back once finished.

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}`;

export function describeChatContract(store: () => Store): void {
  const newSession = async (userId = 'api-key:alice') => {
    const tenant = await store().tenants.ensure(unique('chat'));
    const session = await store().chat.createSession(tenant.id, { id: randomUUID(), userId, title: 'disk on web-01' });
    return { tenantId: tenant.id, session };
  };

  it('creates a session and reads it back in its tenant only', async () => {
    const { tenantId, session } = await newSession();
    expect(session).toMatchObject({ tenantId, userId: 'api-key:alice', title: 'disk on web-01', summary: null });
    expect(await store().chat.getSession(tenantId, session.id)).toEqual(session);
    const other = await store().tenants.ensure(unique('chat-other'));
    expect(await store().chat.getSession(other.id, session.id)).toBeNull();
    expect(await store().chat.getSession(tenantId, 'not-a-uuid')).toBeNull();
    await store().chat.setSummary(tenantId, session.id, 'The user asked about disks.');
    expect((await store().chat.getSession(tenantId, session.id))?.summary).toBe('The user asked about disks.');
  });

  it('numbers messages per session and skips a repeated key', async () => {
    const { tenantId, session } = await newSession();
    const first = await store().chat.appendMessages(tenantId, session.id, [
      { key: 't1/user', role: 'user', turn: 1, content: 'why is web-01 slow?' },
      {
        key: 't1/s1/assistant',
        role: 'assistant',
        turn: 1,
        content: null,
        toolCalls: [{ id: 'c1', name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }],
      },
    ]);
    expect(first).toEqual([1, 2]);
    const again = await store().chat.appendMessages(tenantId, session.id, [
      { key: 't1/s1/assistant', role: 'assistant', turn: 1, content: 'changed' },
      {
        key: 't1/s1/c1',
        role: 'tool',
        turn: 1,
        content: 'web-01 is a VM',
        toolCallId: 'c1',
        toolName: 'cmdb_lookup',
        data: { os: 'linux' },
      },
    ]);
    expect(again).toEqual([2, 3]);
    const messages = await store().chat.messages(tenantId, session.id, 0, 10);
    expect(messages.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, 'user', 'why is web-01 slow?'],
      [2, 'assistant', null],
      [3, 'tool', 'web-01 is a VM'],
    ]);
    expect(messages[1]!.toolCalls).toEqual([{ id: 'c1', name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }]);
    expect(messages[2]).toMatchObject({ toolCallId: 'c1', toolName: 'cmdb_lookup', data: { os: 'linux' } });
    expect((await store().chat.messages(tenantId, session.id, 1, 1)).map((m) => m.seq)).toEqual([2]);
    expect((await store().chat.lastMessages(tenantId, session.id, 1, 2)).map((m) => m.seq)).toEqual([2, 3]);
    expect((await store().chat.lastMessages(tenantId, session.id, 3, 10)).map((m) => m.seq)).toEqual([3]);
    expect(await store().chat.appendMessages(tenantId, randomUUID(), [{ key: 'x', role: 'user', turn: 1, content: 'x' }])).toBeNull();
  });

  it('numbers stream events per session, skips repeated keys, and reads after a seq', async () => {
    const { tenantId, session } = await newSession();
    const other = await newSession();
    expect(
      await store().chat.appendEvents(tenantId, session.id, [
        { key: 't1/tok/1', type: 'token', data: { text: 'Hel' } },
        { key: 't1/tok/2', type: 'token', data: { text: 'lo' } },
      ]),
    ).toBe(2);
    expect(await store().chat.appendEvents(other.tenantId, other.session.id, [{ key: 't1/answer', type: 'answer', data: {} }])).toBe(1);
    expect(
      await store().chat.appendEvents(tenantId, session.id, [
        { key: 't1/tok/2', type: 'token', data: { text: 'lo' } },
        { key: 't1/answer', type: 'answer', data: { text: 'Hello' } },
      ]),
    ).toBe(3);
    const events = await store().chat.events(tenantId, session.id, 0, 10);
    expect(events.map((e) => [e.seq, e.type, e.data])).toEqual([
      [1, 'token', { text: 'Hel' }],
      [2, 'token', { text: 'lo' }],
      [3, 'answer', { text: 'Hello' }],
    ]);
    expect((await store().chat.events(tenantId, session.id, 2, 10)).map((e) => e.seq)).toEqual([3]);
    expect(await store().chat.appendEvents(tenantId, randomUUID(), [{ key: 'x', type: 'answer', data: {} }])).toBe(0);
  });

  it('reads the last events of one type, oldest first, in its session and tenant only', async () => {
    const { tenantId, session } = await newSession();
    const other = await newSession();
    for (let turn = 1; turn <= 4; turn += 1) {
      await store().chat.appendEvents(tenantId, session.id, [
        { key: `t${turn}/tok/1`, type: 'token', data: { text: 'x' } },
        { key: `t${turn}/answer`, type: 'answer', data: { turn } },
        { key: `t${turn}/ended`, type: 'turn.ended', data: { turn } },
      ]);
    }
    await store().chat.appendEvents(other.tenantId, other.session.id, [{ key: 't9/answer', type: 'answer', data: { turn: 9 } }]);
    const last = await store().chat.lastEventsOfType(tenantId, session.id, 'answer', 3);
    expect(last.map((e) => [e.type, e.data])).toEqual([
      ['answer', { turn: 2 }],
      ['answer', { turn: 3 }],
      ['answer', { turn: 4 }],
    ]);
    expect(await store().chat.lastEventsOfType(other.tenantId, session.id, 'answer', 3)).toEqual([]);
    expect(await store().chat.lastEventsOfType(tenantId, randomUUID(), 'answer', 3)).toEqual([]);
  });

  it('moves a job from queued to finished and never back', async () => {
    const { tenantId, session } = await newSession();
    const id = randomUUID();
    const job = await store().chat.createJob(tenantId, { id, sessionId: session.id, userId: 'api-key:alice', messageId: 'm-1' });
    expect(job).toMatchObject({ id, status: 'queued', answer: null, steps: [], messageId: 'm-1' });
    await store().chat.updateJob(tenantId, id, { status: 'running' });
    const done = await store().chat.updateJob(tenantId, id, {
      status: 'completed',
      answer: 'Disk is fine.',
      turnStatus: 'answered',
      steps: [{ kind: 'knowledge', name: 'knowledge_search', status: 'ok', detail: null }],
    });
    expect(done).toMatchObject({ status: 'completed', answer: 'Disk is fine.', turnStatus: 'answered' });
    const late = await store().chat.updateJob(tenantId, id, { status: 'running' });
    expect(late?.status).toBe('completed');
    expect(await store().chat.getJob(tenantId, randomUUID())).toBeNull();
  });
}
