import type { ChatEventType, ChatMessageRole, ChatStep, ChatTurnStatus } from '../../core/contracts/chat.js';
import type { ChatEvent, ChatJob, ChatJobStatus, ChatSession, StoredChatMessage } from './port.js';
import { iso, str, type Row } from './rows.js';

// Rows of the chat tables (migration 0012) as the port's types, shared by the SQL and Supabase stores.

function parsed<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export const toChatSession = (r: Row): ChatSession => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  userId: String(r.user_id),
  title: String(r.title),
  summary: str(r.summary),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toChatMessage = (r: Row): StoredChatMessage => ({
  seq: Number(r.seq),
  role: r.role as ChatMessageRole,
  turn: Number(r.turn),
  content: str(r.content),
  ...(r.tool_calls ? { toolCalls: parsed(r.tool_calls, []) } : {}),
  ...(r.tool_call_id ? { toolCallId: String(r.tool_call_id) } : {}),
  ...(r.tool_name ? { toolName: String(r.tool_name) } : {}),
  ...(r.data !== null && r.data !== undefined ? { data: parsed<unknown>(r.data, null) } : {}),
  createdAt: iso(r.created_at),
});

export const toChatEvent = (r: Row): ChatEvent => ({
  seq: Number(r.seq),
  sessionId: String(r.session_id),
  type: r.type as ChatEventType,
  data: parsed<Record<string, unknown>>(r.data, {}),
  at: iso(r.at),
});

export const toChatJob = (r: Row): ChatJob => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  sessionId: String(r.session_id),
  userId: String(r.user_id),
  messageId: String(r.message_id),
  status: r.status as ChatJobStatus,
  answer: str(r.answer),
  turnStatus: (str(r.turn_status) as ChatTurnStatus | null) ?? null,
  steps: parsed<ChatStep[]>(r.steps, []),
  error: str(r.error),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** A job that has finished stays finished: a late "running" from a retried activity changes nothing. */
export const FINAL_CHAT_JOB_STATUSES: readonly ChatJobStatus[] = ['completed', 'failed'];
