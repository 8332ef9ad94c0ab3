import type { PostgrestError, SupabaseClient } from '@supabase/supabase-js';
import type { ChatEventInput, ChatMessageInput } from '../../core/contracts/chat.js';
import { FINAL_CHAT_JOB_STATUSES, toChatEvent, toChatJob, toChatMessage, toChatSession } from './chat-rows.js';
import type { ChatEvent, ChatJob, ChatJobUpdate, ChatRepository, ChatSession, StoredChatMessage } from './port.js';
import { UUID_PATTERN, type Row } from './rows.js';

// The chat repository over Supabase (PostgREST): reads through the query builder, appends through
// the migration's store functions (one transaction per call, like the SQL adapter's).

type Checked = (result: { data: unknown; error: PostgrestError | null }, entity?: string, key?: string) => Row[];
type Rpc = (fn: string, args: Record<string, unknown>) => Promise<unknown>;

export function createSupabaseChatRepository(db: SupabaseClient, check: Checked, rpc: Rpc): ChatRepository {
  const ids = (...values: string[]) => values.every((value) => UUID_PATTERN.test(value));
  return {
    createSession: async (tenantId, input): Promise<ChatSession> => {
      const rows = check(
        await db.from('chat_sessions').insert({ id: input.id, tenant_id: tenantId, user_id: input.userId, title: input.title }).select('*'),
        'chat session',
        input.id,
      );
      return toChatSession(rows[0]!);
    },
    getSession: async (tenantId, id): Promise<ChatSession | null> => {
      if (!ids(tenantId, id)) return null;
      const rows = check(await db.from('chat_sessions').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toChatSession(rows[0]) : null;
    },
    setSummary: async (tenantId, id, summary): Promise<void> => {
      if (!ids(tenantId, id)) return;
      check(
        await db.from('chat_sessions').update({ summary, updated_at: new Date().toISOString() }).eq('tenant_id', tenantId).eq('id', id),
      );
    },
    appendMessages: async (tenantId, sessionId, messages: ChatMessageInput[]): Promise<number[] | null> => {
      if (!ids(tenantId, sessionId)) return null;
      const seqs = await rpc('infraai_append_chat_messages', { p_tenant: tenantId, p_session: sessionId, p_messages: messages });
      return Array.isArray(seqs) ? seqs.map(Number) : null;
    },
    messages: async (tenantId, sessionId, afterSeq, limit): Promise<StoredChatMessage[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = check(
        await db
          .from('chat_messages')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('session_id', sessionId)
          .gt('seq', afterSeq)
          .order('seq')
          .limit(limit),
      );
      return rows.map(toChatMessage);
    },
    lastMessages: async (tenantId, sessionId, fromSeq, limit): Promise<StoredChatMessage[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = check(
        await db
          .from('chat_messages')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('session_id', sessionId)
          .gte('seq', fromSeq)
          .order('seq', { ascending: false })
          .limit(limit),
      );
      return rows.map(toChatMessage).reverse();
    },
    appendEvents: async (tenantId, sessionId, events: ChatEventInput[]): Promise<number> => {
      if (!ids(tenantId, sessionId)) return 0;
      return Number((await rpc('infraai_append_chat_events', { p_tenant: tenantId, p_session: sessionId, p_events: events })) ?? 0);
    },
    events: async (tenantId, sessionId, afterSeq, limit): Promise<ChatEvent[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = check(
        await db
          .from('chat_events')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('session_id', sessionId)
          .gt('seq', afterSeq)
          .order('seq')
          .limit(limit),
      );
      return rows.map(toChatEvent);
    },
    lastEventsOfType: async (tenantId, sessionId, type, limit): Promise<ChatEvent[]> => {
      if (!ids(tenantId, sessionId)) return [];
      const rows = check(
        await db
          .from('chat_events')
          .select('*')
          .eq('tenant_id', tenantId)
          .eq('session_id', sessionId)
          .eq('type', type)
          .order('seq', { ascending: false })
          .limit(limit),
      );
      return rows.map(toChatEvent).reverse();
    },
    createJob: async (tenantId, job): Promise<ChatJob> => {
      const rows = check(
        await db
          .from('chat_jobs')
          .insert({ id: job.id, tenant_id: tenantId, session_id: job.sessionId, user_id: job.userId, message_id: job.messageId })
          .select('*'),
        'chat job',
        job.id,
      );
      return toChatJob(rows[0]!);
    },
    getJob: async (tenantId, id): Promise<ChatJob | null> => {
      if (!ids(tenantId, id)) return null;
      const rows = check(await db.from('chat_jobs').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toChatJob(rows[0]) : null;
    },
    updateJob: async (tenantId, id, update: ChatJobUpdate): Promise<ChatJob | null> => {
      if (!ids(tenantId, id)) return null;
      const row: Row = { status: update.status, updated_at: new Date().toISOString() };
      if (update.answer !== undefined) row.answer = update.answer;
      if (update.turnStatus !== undefined) row.turn_status = update.turnStatus;
      if (update.steps !== undefined) row.steps = update.steps;
      if (update.error !== undefined) row.error = update.error;
      check(
        await db
          .from('chat_jobs')
          .update(row)
          .eq('tenant_id', tenantId)
          .eq('id', id)
          .not('status', 'in', `(${FINAL_CHAT_JOB_STATUSES.join(',')})`),
      );
      const rows = check(await db.from('chat_jobs').select('*').eq('tenant_id', tenantId).eq('id', id).limit(1));
      return rows[0] ? toChatJob(rows[0]) : null;
    },
  };
}
