import { proxyActivities } from '@temporalio/workflow';
import type { ChatActivities } from '../../activities/chat/index.js';
import { CHAT_MODEL_STEP, CHAT_STORE_STEP, CHAT_TOOL_STEP, CHAT_WATCH_STEP } from '../activity-options.js';

// The chat conversation's activities, each with the preset that fits what it touches. Only types of
// the activities are imported: the workflow bundle never loads activity code.

/** Session, transcript, stream events, jobs, summary. */
export const chatStore = proxyActivities<ChatActivities>(CHAT_STORE_STEP);
/** LLM (streaming) or offline planner steps. */
export const chatModel = proxyActivities<ChatActivities>(CHAT_MODEL_STEP);
/** Tool calls, one activity each. */
export const chatTools = proxyActivities<ChatActivities>(CHAT_TOOL_STEP);
/** A child run's next status (workflows/chat/child-runs.ts). */
export const chatWatch = proxyActivities<ChatActivities>(CHAT_WATCH_STEP);
