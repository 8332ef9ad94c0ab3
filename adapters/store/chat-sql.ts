import type { ChatEventInput, ChatMessageInput } from '../../core/contracts/chat.js';
import { FINAL_CHAT_JOB_STATUSES, toChatEvent, toChatJob, toChatMessage, toChatSession } from './chat-rows.js';
import type { ChatEvent, ChatJob, ChatJobUpdate, ChatRepository, ChatSession, StoredChatMessage } from './port.js';
import { UUID_PATTERN, type Row } from './rows.js';

// The chat repository over SQL (PostgreSQL and PGlite). Appends go through the migration's store
// functions, so this adapter and Supabase's number messages and events the same way.

type Query = (text: string, params?: unknown[]) => Promise<Row[]>;

export function createSqlChatRepository(q: Query): ChatRepository {
  const ids = (...values: string[]) => values.every((value) => UUID_PATTERN.test(value));
  return {
    createSession: async (tenantId, input): Promise<ChatSession> => {
      const rows = await q(`INSERT INTO chat_sessions (id, tenant_id, user_id, title) VALUES ($1, $2, $3, $4) RETURNING *`, [
        input.id,
        tenantId,
        input.userId,
        input.title,
      ]);
      return toChatSession(rows[0]!);
    },
    getSession: async (tenantId, id): Promise<ChatSession | null> => {
      if (!ids(tenantId, id)) return null;
      const rows = await q(`SELECT * FROM chat_sessions WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toChatSession(rows[0]) : null;
    },
    setSummary: async (tenantId, id, summary): Promise<void> => {
      if (!ids(tenantId, id)) return;
      await q(`UPDATE chat_sessions SET summary = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, id, summary]);
    },
    appendMessages: async (tenantId, sessionId, messages: ChatMessageInput[]): Promise<number[] | null> => {
      if (!ids(tenantId, sessionId)) return null;
      const rows = await q(`SELECT infraai_append_chat_messages($1, $2, $3::jsonb) AS seqs`, [
        tenantId,
        sessionId,
        JSON.stringify(messages),
      ]);
      const seqs = rows[0]?.seqs;
      if (seqs === null || seqs === undefined) return null;
      return (typeof seqs === 'string' ? (JSON.parse(seqs) as number[]) : (seqs as number[])).map(Number);
    },
    messages: async (tenantId, sessionId, afterSeq, limit): Promise<StoredChatMessage[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = await q(`SELECT * FROM chat_messages WHERE tenant_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [
        tenantId,
        sessionId,
        afterSeq,
        limit,
      ]);
      return rows.map(toChatMessage);
    },
    lastMessages: async (tenantId, sessionId, fromSeq, limit): Promise<StoredChatMessage[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = await q(
        `SELECT * FROM (SELECT * FROM chat_messages WHERE tenant_id = $1 AND session_id = $2 AND seq >= $3 ORDER BY seq DESC LIMIT $4) m
          ORDER BY seq`,
        [tenantId, sessionId, fromSeq, limit],
      );
      return rows.map(toChatMessage);
    },
    appendEvents: async (tenantId, sessionId, events: ChatEventInput[]): Promise<number> => {
      if (!ids(tenantId, sessionId)) return 0;
      const rows = await q(`SELECT infraai_append_chat_events($1, $2, $3::jsonb) AS last`, [tenantId, sessionId, JSON.stringify(events)]);
      return Number(rows[0]?.last ?? 0);
    },
    events: async (tenantId, sessionId, afterSeq, limit): Promise<ChatEvent[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = await q(`SELECT * FROM chat_events WHERE tenant_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [
        tenantId,
        sessionId,
        afterSeq,
        limit,
      ]);
      return rows.map(toChatEvent);
    },
    lastEventsOfType: async (tenantId, sessionId, type, limit): Promise<ChatEvent[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = await q(`SELECT * FROM chat_events WHERE tenant_id = $1 AND session_id = $2 AND type = $3 ORDER BY seq DESC LIMIT $4`, [
        tenantId,
        sessionId,
        type,
        limit,
      ]);
      return rows.map(toChatEvent).reverse();
    },
    createJob: async (tenantId, job): Promise<ChatJob> => {
      const rows = await q(
        `INSERT INTO chat_jobs (id, tenant_id, session_id, user_id, message_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [job.id, tenantId, job.sessionId, job.userId, job.messageId],
      );
      return toChatJob(rows[0]!);
    },
    getJob: async (tenantId, id): Promise<ChatJob | null> => {
      if (!ids(tenantId, id)) return null;
      const rows = await q(`SELECT * FROM chat_jobs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toChatJob(rows[0]) : null;
    },
    updateJob: async (tenantId, id, update: ChatJobUpdate): Promise<ChatJob | null> => {
      if (!ids(tenantId, id)) return null;
      const sets = ['status = $3', 'updated_at = now()'];
      const params: unknown[] = [tenantId, id, update.status, FINAL_CHAT_JOB_STATUSES];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      if (update.answer !== undefined) set('answer', update.answer);
      if (update.turnStatus !== undefined) set('turn_status', update.turnStatus);
      if (update.steps !== undefined) set('steps', JSON.stringify(update.steps), '::jsonb');
      if (update.error !== undefined) set('error', update.error);
      await q(`UPDATE chat_jobs SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2 AND NOT (status = ANY($4::text[]))`, params);
      const rows = await q(`SELECT * FROM chat_jobs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toChatJob(rows[0]) : null;
    },
  };
}
