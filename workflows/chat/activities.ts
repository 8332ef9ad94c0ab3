import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ChatActivities } from '../../activities/chat/index.js';
import { CHAT_LOCAL_STORE_STEPS_PATCH } from '../../core/contracts/chat.js';
import {
  CHAT_MODEL_STEP,
  CHAT_STORE_STEP,
  CHAT_TOOL_STEP,
  CHAT_WATCH_STEP,
  LOCAL_CHAT_READ_TOOL_STEP,
  LOCAL_CHAT_STORE_STEP,
} from '../activity-options.js';

// The chat conversation's activities, each with the preset that fits what it touches. Only types of
// the activities are imported: the workflow bundle never loads activity code.

/** Session, transcript, stream events, jobs, summary. */
export const chatStore = proxyActivities<ChatActivities>(CHAT_STORE_STEP);
/**
 * The short store steps as local activities: run by the worker that runs the conversation, with no
 * task-queue round trip. Runs recorded before CHAT_LOCAL_STORE_STEPS_PATCH use `chatStore`
 * (`chatStoreSteps` picks).
 */
export const chatLocalStore = proxyLocalActivities<ChatActivities>(LOCAL_CHAT_STORE_STEP);
/** LLM (streaming) or offline planner steps. */
export const chatModel = proxyActivities<ChatActivities>(CHAT_MODEL_STEP);
/** Tool calls, one activity each. */
export const chatTools = proxyActivities<ChatActivities>(CHAT_TOOL_STEP);
/** Tool calls that only read the store (CMDB, incidents), as local activities (CHAT_LOCAL_READ_TOOLS_PATCH). */
export const chatLocalTools = proxyLocalActivities<ChatActivities>(LOCAL_CHAT_READ_TOOL_STEP);
/** A child run's next status (workflows/chat/child-runs.ts). */
export const chatWatch = proxyActivities<ChatActivities>(CHAT_WATCH_STEP);

/**
 * The store steps a conversation makes on every turn (quick, idempotent writes, and the session
 * read), and the tool calls that only read the store.
 */
export type ChatStoreSteps = Pick<ChatActivities, 'openChatSession' | 'persistChatMessages' | 'recordChatEvents'> & {
  /** A read-only store tool as a local activity (used by runs past CHAT_LOCAL_READ_TOOLS_PATCH). */
  runReadTool: ChatActivities['runChatTool'];
};

/**
 * The conversation's store steps, picked once per run: local activities for runs started after
 * CHAT_LOCAL_STORE_STEPS_PATCH, task-queue activities for runs recorded before it. The local ones
 * (the read-only tools too) run one at a time: two local activities in flight at once could finish inside one workflow task in an
 * order replay cannot reproduce (a turn's step and a child run's event, say).
 */
export function chatStoreSteps(): ChatStoreSteps {
  let last: Promise<unknown> = Promise.resolve();
  const serially =
    <A extends unknown[], R>(step: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const run = last.then(() => step(...args));
      last = run.catch(() => undefined);
      return run;
    };
  const runReadTool = serially(chatLocalTools.runChatTool);
  if (!patched(CHAT_LOCAL_STORE_STEPS_PATCH)) {
    return {
      openChatSession: chatStore.openChatSession,
      persistChatMessages: chatStore.persistChatMessages,
      recordChatEvents: chatStore.recordChatEvents,
      runReadTool,
    };
  }
  return {
    runReadTool,
    openChatSession: serially(chatLocalStore.openChatSession),
    persistChatMessages: serially(chatLocalStore.persistChatMessages),
    recordChatEvents: serially(chatLocalStore.recordChatEvents),
  };
}
