import { Context } from '@temporalio/activity';
import type { ChatChildRun } from '../../core/contracts/chat.js';
import type { ChatActivityDeps, ChatRef } from './deps.js';

// What a conversation shows of a child run between its start and its end (workflows/chat/child-runs.ts):
// the status its own record (the incident or automation row) moves through, watched here so the
// conversation's history grows by one activity per change (or per quiet interval), not per poll.

export interface WatchChildRunInput {
  ref: ChatRef;
  kind: ChatChildRun['kind'];
  recordId: string;
  /** The status the conversation last showed (null: none yet). */
  lastStatus: string | null;
  /** Answer with the current status after this long even if it did not change. */
  maxWaitMs: number;
}

const POLL_MS = 2000;

export function createChatChildRunActivities(deps: ChatActivityDeps) {
  const { store } = deps;
  const statusOf = async ({ ref, kind, recordId }: WatchChildRunInput): Promise<string | null> => {
    const row =
      kind === 'remediation' ? await store.incidents.get(ref.tenantId, recordId) : await store.automation.get(ref.tenantId, recordId);
    return row?.status ?? null;
  };
  return {
    /** The record's status once it differs from `lastStatus`, or after `maxWaitMs` (null when the record is gone). */
    async watchChatChildRun(input: WatchChildRunInput): Promise<{ status: string | null }> {
      const context = Context.current();
      const deadline = Date.now() + input.maxWaitMs;
      for (;;) {
        const status = await statusOf(input);
        context.heartbeat();
        if (status !== input.lastStatus || Date.now() >= deadline) return { status };
        await context.sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      }
    },
  };
}
