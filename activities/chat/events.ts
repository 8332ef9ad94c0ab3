import type { ChatEventInput } from '../../core/contracts/chat.js';
import type { ChatActivityDeps, ChatRef } from './deps.js';

// The conversation's live stream: events appended to the store, then a wake-up on the bus (the SSE
// reader reads the store after its last id, so a lost notice delays an event and never drops one).

/** The bus family of chat notices; chat events are not run projections, the bus accepts any family. */
export const CHAT_EVENT_FAMILY = 'chat';

export async function appendChatEvents(deps: ChatActivityDeps, ref: ChatRef, events: ChatEventInput[]): Promise<number> {
  if (events.length === 0) return 0;
  const last = await deps.store.chat.appendEvents(ref.tenantId, ref.sessionId, events);
  if (last > 0 && deps.events) {
    // Not awaited: the events are stored, and the notice only wakes readers sooner. Waiting for it
    // put a bus round-trip on every tool call and model step of a turn (bench:chat).
    void deps.events
      .publish({ tenantId: ref.tenantId, family: CHAT_EVENT_FAMILY, runId: ref.sessionId, seq: last, tenantSeq: 0 })
      .catch(() => undefined);
  }
  return last;
}

/**
 * Streamed tokens in small batches: the answer's first delta is written at once (the user sees it
 * start without waiting a flush interval: bench:chat's first token), each later delta arms a timer,
 * and everything that arrived by then is written as one `token` event. Writes are chained, so
 * batches keep their order.
 */
export function createTokenStream(deps: ChatActivityDeps, ref: ChatRef, keyPrefix: string, flushMs: number) {
  let buffer = '';
  let batches = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const flush = () => {
    timer = null;
    if (!buffer) return;
    const text = buffer;
    buffer = '';
    batches += 1;
    const key = `${keyPrefix}/${batches}`;
    chain = chain.then(() => appendChatEvents(deps, ref, [{ key, type: 'token', data: { text } }])).catch(() => undefined);
  };
  return {
    push(delta: string): void {
      buffer += delta;
      if (batches === 0 && !timer) flush();
      else timer ??= setTimeout(flush, flushMs);
    },
    /**
     * Writes what is left and waits for every batch. `after`: events to write with the last batch,
     * in the same write (the turn's end after its tokens); their write failing rejects.
     */
    async close(after: ChatEventInput[] = []): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      if (after.length === 0) {
        flush();
        await chain;
        return;
      }
      await chain;
      const events: ChatEventInput[] = buffer ? [{ key: `${keyPrefix}/${(batches += 1)}`, type: 'token', data: { text: buffer } }] : [];
      buffer = '';
      await appendChatEvents(deps, ref, [...events, ...after]);
    },
  };
}
