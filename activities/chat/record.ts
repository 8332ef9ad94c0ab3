import { ApplicationFailure } from '@temporalio/activity';
import type { ChatJobUpdate } from '../../adapters/store/port.js';
import type { ChatEventInput, ChatMessageInput, ChatStep, ChatTurnResult } from '../../core/contracts/chat.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redact, redactText, truncateText } from '../../core/redact.js';
import type { ChatActivityDeps, ChatRef } from './deps.js';
import { appendChatEvents } from './events.js';

// The conversation's records: its session row, its transcript (every message, redacted), its live
// stream's events and the async job that waits for a turn.

function sessionGone(ref: ChatRef): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`Chat session ${ref.sessionId} is gone`, FAILURE.ChatSessionNotFound);
}

/** Answers a run that starts after an idle end remembers (as many as a continued run carries). */
const RECENT_ANSWERS = 20;

/** A stored `answer` event as the turn's result; events written before they carried steps and usage give none. */
export function turnResultOf(data: Record<string, unknown>): ChatTurnResult[] {
  const { messageId, turn, status, text, offline, steps, usage } = data as Partial<Record<string, unknown>>;
  if (typeof messageId !== 'string' || typeof turn !== 'number' || typeof text !== 'string' || !Array.isArray(steps)) return [];
  if (status !== 'answered' && status !== 'budget_exhausted' && status !== 'failed') return [];
  const spent = (usage ?? {}) as { modelSteps?: unknown; tokens?: unknown };
  return [
    {
      messageId,
      turn,
      status,
      answer: text,
      offline: offline === true,
      steps: steps as ChatStep[],
      usage: {
        modelSteps: typeof spent.modelSteps === 'number' ? spent.modelSteps : 0,
        tokens: typeof spent.tokens === 'number' ? spent.tokens : 0,
      },
    },
  ];
}

export function createChatRecordActivities(deps: ChatActivityDeps) {
  const { store } = deps;
  return {
    /**
     * The session's row (the API wrote it before the first message), the summary an earlier run left
     * and the last turn it stored: turn numbers key the stored messages and events, so a run that starts
     * after an idle end numbers on from there (from 1 again, its turns' records would be skipped as repeats).
     */
    async openChatSession(ref: ChatRef): Promise<{ summary: string | null; turns?: number; recentResults?: ChatTurnResult[] }> {
      const session = await store.chat.getSession(ref.tenantId, ref.sessionId);
      if (!session) throw sessionGone(ref);
      const [[last], answers] = await Promise.all([
        store.chat.lastMessages(ref.tenantId, ref.sessionId, 1, 1),
        store.chat.lastEventsOfType(ref.tenantId, ref.sessionId, 'answer', RECENT_ANSWERS),
      ]);
      return { summary: session.summary, turns: last?.turn ?? 0, recentResults: answers.flatMap((event) => turnResultOf(event.data)) };
    },

    /** Stores messages (redacted) in order; a repeated key adds nothing. Returns their seqs. */
    async persistChatMessages({ ref, messages }: { ref: ChatRef; messages: ChatMessageInput[] }): Promise<number[]> {
      const seqs = await store.chat.appendMessages(
        ref.tenantId,
        ref.sessionId,
        messages.map((message) => ({
          ...message,
          content: message.content === null ? null : redactText(message.content),
          ...(message.toolCalls ? { toolCalls: redact(message.toolCalls) } : {}),
          ...(message.data !== undefined ? { data: redact(message.data) } : {}),
        })),
      );
      if (!seqs) throw sessionGone(ref);
      return seqs;
    },

    /** Appends events to the live stream (and wakes its readers); moves the turn's async job on. */
    async recordChatEvents({
      ref,
      events,
      job,
    }: {
      ref: ChatRef;
      events: ChatEventInput[];
      job?: { jobId: string; update: ChatJobUpdate } | undefined;
    }): Promise<void> {
      // The stream first, the job last: a client that sees the job finished finds the turn's events stored.
      await appendChatEvents(
        deps,
        ref,
        events.map((event) => ({ ...event, data: redact(event.data) })),
      );
      if (job) {
        const { update } = job;
        await store.chat.updateJob(ref.tenantId, job.jobId, {
          ...update,
          ...(update.answer ? { answer: redactText(update.answer) } : {}),
          ...(update.error ? { error: truncateText(redactText(update.error), 4000) } : {}),
        });
      }
    },

    /**
     * A summary of the conversation up to now, for the run that continues it: the model's when one is
     * configured, otherwise the previous summary and the last questions and answers. Stored on the session.
     */
    async summariseChat({
      ref,
      previousSummary,
      fromSeq,
    }: {
      ref: ChatRef;
      previousSummary: string | null;
      fromSeq: number;
    }): Promise<{ summary: string; nextContextFromSeq: number }> {
      const messages = await store.chat.lastMessages(ref.tenantId, ref.sessionId, fromSeq, 200);
      const lastSeq = messages.at(-1)?.seq ?? fromSeq - 1;
      const exchanges = messages
        .filter((m) => (m.role === 'user' || (m.role === 'assistant' && !m.toolCalls?.length)) && m.content)
        .map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${truncateText(m.content!, 400)}`);
      let summary = [previousSummary, ...exchanges.slice(-12)].filter(Boolean).join('\n');
      if (deps.llm && exchanges.length > 0) {
        // The model's summary is better; without it (down, refusing) the exchanges themselves carry over.
        const response = await deps.llm
          .chat({
            messages: [
              {
                role: 'system',
                content:
                  'Summarise this SRE chat for the assistant that continues it: hosts, incidents, findings, decisions and open questions. At most 200 words.',
              },
              { role: 'user', content: redactText(summary) },
            ],
            maxTokens: 600,
          })
          .catch(() => null);
        if (response?.content) summary = response.content;
      }
      summary = truncateText(redactText(summary), 6000);
      await store.chat.setSummary(ref.tenantId, ref.sessionId, summary);
      return { summary, nextContextFromSeq: lastSeq + 1 };
    },
  };
}
