import { describe, expect, it } from 'vitest';
import type { ChatActivityDeps } from '../../activities/chat/deps.js';
import { toModelMessages } from '../../activities/chat/context.js';
import { appendChatEvents, createTokenStream } from '../../activities/chat/events.js';
import type { RunEventNotice } from '../../adapters/events/port.js';
import type { Store, StoredChatMessage } from '../../adapters/store/port.js';
import type { ChatEventInput } from '../../core/contracts/chat.js';
import { budgetOverrun } from '../../workflows/chat/budget.js';

// The chat agent's pure parts: the turn budget, the model's context window, and the token batches
// that reach the live stream.

describe('turn budget', () => {
  const budget = { maxModelSteps: 3, maxTokens: 1000, maxTurnMs: 60_000 };
  it('lets a turn go on within every bound and names the bound it reached', () => {
    expect(budgetOverrun(budget, { modelSteps: 2, tokens: 999, elapsedMs: 59_999 })).toBeNull();
    expect(budgetOverrun(budget, { modelSteps: 3, tokens: 0, elapsedMs: 0 })).toBe('used all 3 model steps it may take');
    expect(budgetOverrun(budget, { modelSteps: 1, tokens: 1200, elapsedMs: 0 })).toBe('used 1200 tokens of its 1000');
    expect(budgetOverrun(budget, { modelSteps: 1, tokens: 10, elapsedMs: 61_000 })).toBe('ran for 61 s of its 60 s');
  });
});

describe('model context', () => {
  const message = (seq: number, extra: Partial<StoredChatMessage>): StoredChatMessage => ({
    seq,
    role: 'user',
    turn: 1,
    content: null,
    createdAt: '2026-12-07T00:00:00.000Z',
    ...extra,
  });

  it('puts the system prompt and the summary first and drops tool results whose call is outside the window', () => {
    const messages = toModelMessages(
      [
        message(4, { role: 'tool', toolCallId: 'c-old', toolName: 'cmdb_lookup', content: 'orphan' }),
        message(5, { role: 'user', content: 'and web-02?' }),
        message(6, { role: 'assistant', toolCalls: [{ id: 'c1', name: 'cmdb_lookup', arguments: { tagId: 'web-02' } }] }),
        message(7, { role: 'tool', toolCallId: 'c1', toolName: 'cmdb_lookup', content: 'web-02: debian' }),
        message(8, { role: 'assistant', content: 'web-02 runs debian.' }),
      ],
      'Earlier: web-01 disk was full.',
    );
    expect(messages.map((m) => m.role)).toEqual(['system', 'system', 'user', 'assistant', 'tool', 'assistant']);
    expect(messages[1]).toEqual({ role: 'system', content: 'Summary of the conversation so far:\nEarlier: web-01 disk was full.' });
    expect(messages.some((m) => m.content === 'orphan')).toBe(false);
    expect(messages[4]).toEqual({ role: 'tool', toolCallId: 'c1', content: 'web-02: debian' });
  });
});

describe('token stream', () => {
  it('writes deltas in small ordered batches within the flush interval, each announced on the bus', async () => {
    const writes: { at: number; events: ChatEventInput[] }[] = [];
    const notices: RunEventNotice[] = [];
    let last = 0;
    const deps = {
      store: {
        chat: {
          appendEvents: (_tenant: string, _session: string, events: ChatEventInput[]) => {
            writes.push({ at: Date.now(), events });
            last += events.length;
            return Promise.resolve(last);
          },
        },
      } as unknown as Store,
      events: {
        kind: 'memory',
        publish: (notice: RunEventNotice) => {
          notices.push(notice);
          return Promise.resolve();
        },
        subscribe: () => Promise.resolve(() => Promise.resolve()),
        close: () => Promise.resolve(),
      },
    } satisfies ChatActivityDeps;
    const stream = createTokenStream(deps, { tenantId: 't', sessionId: 's' }, 't1/s1/a1/token', 30);
    const started = Date.now();
    const words = 'Rotate the logs on web-01 and then clear the old archives under /var/log today'.split(' ');
    for (const word of words) {
      stream.push(`${word} `);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await stream.close();
    const events = writes.flatMap((w) => w.events);
    expect(events.map((e) => (e.data as { text: string }).text).join('')).toBe(`${words.join(' ')} `);
    // Batched: fewer writes than deltas, but more than one (a client sees text while it streams).
    expect(writes.length).toBeGreaterThan(2);
    expect(writes.length).toBeLessThan(words.length);
    expect(writes[0]!.at - started).toBeLessThan(150);
    expect(new Set(events.map((e) => e.key)).size).toBe(events.length);
    expect(events[0]!.key).toBe('t1/s1/a1/token/1');
    // The first delta is written on its own, at once: the answer starts without a flush interval.
    expect(writes[0]!.events.map((e) => (e.data as { text: string }).text)).toEqual([`${words[0]} `]);
    expect(notices.map((n) => n.seq)).toEqual(writes.map((_, i) => writes.slice(0, i + 1).flatMap((w) => w.events).length));
    expect(notices.every((n) => n.family === 'chat' && n.runId === 's')).toBe(true);
  });

  it('returns once the events are stored, without waiting for the bus to announce them', async () => {
    const notices: RunEventNotice[] = [];
    const deps = {
      store: { chat: { appendEvents: () => Promise.resolve(7) } } as unknown as Store,
      events: {
        kind: 'memory',
        // A bus that never answers (a stalled connection): the step must not wait on it.
        publish: (notice: RunEventNotice) => {
          notices.push(notice);
          return new Promise<void>(() => undefined);
        },
        subscribe: () => Promise.resolve(() => Promise.resolve()),
        close: () => Promise.resolve(),
      },
    } satisfies ChatActivityDeps;
    const last = await appendChatEvents(deps, { tenantId: 't', sessionId: 's' }, [{ key: 'k', type: 'answer', data: {} }]);
    expect(last).toBe(7);
    expect(notices).toEqual([{ tenantId: 't', family: 'chat', runId: 's', seq: 7, tenantSeq: 0 }]);
  });
});
