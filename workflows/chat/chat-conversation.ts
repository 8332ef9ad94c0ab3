import { allHandlersFinished, condition, continueAsNew, ContinueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ChatConversationInput, ChatConversationState } from '../../core/contracts/chat.js';
import { chatModel } from './activities.js';
import { runTurn } from './agent-turn.js';
import { ChatConversation } from './conversation.js';
import { completeRepeatedJob, installChatHandlers } from './handlers.js';

/**
 * One conversation (`chat-<sessionId>`): messages arrive as sendMessage updates and are answered
 * one turn at a time, in arrival order. A run idle for `idleTimeoutMs` ends (the next message starts
 * a new run, which reads the stored summary); a long one continues as new at an idle moment, well
 * before Temporal's history limits, carrying a summary and the last answers.
 */
export async function chatConversation(input: ChatConversationInput): Promise<ChatConversationState> {
  const conv = new ChatConversation(input);
  installChatHandlers(conv);
  if (input.opened) {
    conv.summary = input.opened.summary;
    conv.turns = input.opened.turns;
  } else if (!input.carried) {
    const opened = await conv.store.openChatSession(conv.ref);
    conv.summary = opened.summary;
    // A run after an idle end numbers its turns on from the stored ones (turn numbers key the stored
    // messages and events). Only the activity's result is read, so no command changes: histories
    // recorded before (no `turns` in the result) replay as they ran, from 0.
    conv.turns = opened.turns ?? 0;
    // The answers the run before this one gave: a message repeated after its idle end gets its first answer.
    conv.remember(opened.recentResults ?? []);
  }
  for (;;) {
    const woken = await condition(() => conv.queue.length > 0, conv.settings.idleTimeoutMs);
    if (!woken) {
      await condition(allHandlersFinished);
      // A child run it tracks keeps the conversation open until its end is recorded (a message still wakes it).
      if (conv.children.size > 0) await condition(() => conv.queue.length > 0 || conv.children.size === 0);
      if (conv.queue.length === 0) return conv.state();
    }
    while (conv.queue.length > 0) {
      const message = conv.queue.shift()!;
      // Answered before this run (read back after an idle end, once the message was queued): no second turn.
      const answered = conv.results.get(message.messageId);
      if (answered) {
        if (message.jobId) await completeRepeatedJob(conv, message.jobId, answered);
        continue;
      }
      await runTurn(conv, message);
    }
    if (historyIsLong(conv) && conv.children.size === 0) {
      // A summary that cannot be written now (the store down) is tried again after the next turn.
      await continueWhenIdle(conv).catch((err: unknown) => {
        if (isCancellation(err) || isContinueAsNew(err)) throw err;
      });
    }
  }
}

function isContinueAsNew(err: unknown): boolean {
  return err instanceof ContinueAsNew;
}

function historyIsLong(conv: ChatConversation): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > conv.settings.continueAsNewAfterEvents;
}

/**
 * Summarises and continues as new once every update has its answer. A message that arrives while
 * the summary is written is answered first (the next idle moment tries again).
 */
async function continueWhenIdle(conv: ChatConversation): Promise<void> {
  const { summary, nextContextFromSeq } = await chatModel.summariseChat({
    ref: conv.ref,
    previousSummary: conv.summary,
    fromSeq: conv.contextFromSeq,
  });
  conv.summary = summary;
  conv.contextFromSeq = nextContextFromSeq;
  await condition(() => allHandlersFinished() || conv.queue.length > 0);
  if (conv.queue.length > 0) return;
  await continueAsNew<typeof chatConversation>({
    ...conv.input,
    carried: { summary, turns: conv.turns, contextFromSeq: nextContextFromSeq, recentResults: conv.recentResults() },
  });
}
