import { isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ChatTurnOpening } from '../../activities/chat/index.js';
import { type ChatMessageInput, type ChatTurnResult, type ChatTurnStatus, type SendMessageInput } from '../../core/contracts/chat.js';
import { budgetOverrun, type TurnSpend } from './budget.js';
import { failureMessage } from '../runs/failures.js';
import { chatModel } from './activities.js';
import type { ChatConversation } from './conversation.js';
import { runToolRound, searchKnowledgeFirst, type TurnContext } from './tool-round.js';
import { answeredText, knowledgeStep, modelStepRecord, turnEndEvents, turnEndJobUpdate } from '../../core/chat/turn-end.js';

/** The tool the workflow calls with the user's question before the turn's first model step. */
export const KNOWLEDGE_SEARCH_TOOL = 'knowledge_search';

/**
 * One turn: the user's message stored, the knowledge base searched, then model step → tool calls
 * (concurrent, changes confirmed first) → model step… until the model answers or the budget is
 * spent. Every ending stores its answer, streams it, and moves the async job on. Past
 * CHAT_TURN_OPENING_PATCH the first model step stores the message and searches (`ChatTurnOpening`):
 * the workflow task that accepts the message only schedules that step, so the sender hears back at
 * once, and the turn saves a round trip.
 */
export async function runTurn(conv: ChatConversation, message: SendMessageInput): Promise<ChatTurnResult> {
  conv.turns += 1;
  const turn = conv.turns;
  conv.current = { messageId: message.messageId, turn, step: 'recording the message' };
  const ctx: TurnContext = { conv, turn, caller: conv.callerFor(message), steps: [] };
  const spend: TurnSpend = { modelSteps: 0, tokens: 0, elapsedMs: 0 };
  let offline = false;
  const finish = (status: ChatTurnStatus, answer: string) =>
    endTurn(conv, message, {
      messageId: message.messageId,
      turn,
      status,
      answer,
      offline,
      steps: ctx.steps,
      usage: { modelSteps: spend.modelSteps, tokens: spend.tokens },
    });
  const userMessage: ChatMessageInput = { key: `t${turn}/user`, role: 'user', turn, content: message.text };
  // Until the first model step has run, its opening (the user's message stored) is still to do.
  let opening: ChatTurnOpening | null = conv.turnOpening
    ? {
        userMessage,
        ...(message.jobId ? { jobId: message.jobId } : {}),
        knowledgeSearch: {
          callId: `kb-${turn}`,
          toolName: KNOWLEDGE_SEARCH_TOOL,
          query: message.text,
          callKey: `${workflowInfo().workflowId}/${turn}/kb-${turn}`,
        },
      }
    : null;
  try {
    if (!opening) {
      await Promise.all([
        conv.store.persistChatMessages({ ref: conv.ref, messages: [userMessage] }),
        message.jobId
          ? conv.store.recordChatEvents({ ref: conv.ref, events: [], job: { jobId: message.jobId, update: { status: 'running' } } })
          : null,
      ]);
    }
    const started = Date.now();
    let waitedMs = 0;
    if (!opening) {
      conv.setStep('searching the knowledge base');
      await searchKnowledgeFirst(ctx, KNOWLEDGE_SEARCH_TOOL, message.text);
    }
    for (;;) {
      spend.elapsedMs = Date.now() - started - waitedMs;
      const overrun = budgetOverrun(conv.settings.budget, spend);
      if (overrun) {
        const answer = `I stopped before finishing: this turn ${overrun}. Ask again, more narrowly, or split the question.`;
        await conv.store.persistChatMessages({
          ref: conv.ref,
          messages: [...(opening ? [userMessage] : []), { key: `t${turn}/budget`, role: 'assistant', turn, content: answer }],
        });
        opening = null;
        return await finish('budget_exhausted', answer);
      }
      spend.modelSteps += 1;
      conv.setStep(opening ? 'searching the knowledge base, then model step 1' : `model step ${spend.modelSteps}`);
      const step = await chatModel.chatModelStep({
        ref: conv.ref,
        caller: ctx.caller,
        turn,
        step: spend.modelSteps,
        summary: conv.summary,
        contextFromSeq: conv.contextFromSeq,
        contextMessages: conv.settings.contextMessages,
        maxTokens: conv.settings.budget.maxTokens - spend.tokens,
        ...(opening ? { opening } : {}),
        ...(conv.answerInStep
          ? {
              ending: {
                messageId: message.messageId,
                ...(message.jobId ? { jobId: message.jobId } : {}),
                steps: [...ctx.steps],
                usage: { modelSteps: spend.modelSteps, tokens: spend.tokens },
              },
            }
          : {}),
      });
      opening = null;
      if (step.opening?.knowledge) ctx.steps.push(knowledgeStep(KNOWLEDGE_SEARCH_TOOL, step.opening.knowledge));
      spend.tokens += step.tokens;
      offline = step.offline;
      ctx.steps.push(modelStepRecord(step.model, step.toolCalls.length));
      // The step recorded the turn's end itself: nothing is left to store.
      if (step.answered) return concludeTurn(conv, step.answered);
      if (step.toolCalls.length === 0) return await finish('answered', answeredText(step.content, offline));
      conv.setStep(`tools: ${step.toolCalls.map((call) => call.name).join(', ')}`);
      waitedMs += await runToolRound(ctx, step.toolCalls);
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The first model step failed for good before it stored the user's message: store it now, so the
    // transcript keeps every message (a store that is down as well leaves the answer to say so).
    if (opening) await conv.store.persistChatMessages({ ref: conv.ref, messages: [userMessage] }).catch(() => undefined);
    return finish('failed', `I could not answer: ${failureMessage(err)}`);
  }
}

/** Streams the answer and the turn's end, completes the async job, and records the result for repeats. */
async function endTurn(conv: ChatConversation, message: SendMessageInput, result: ChatTurnResult): Promise<ChatTurnResult> {
  conv.setStep('answering');
  try {
    await conv.store.recordChatEvents({
      ref: conv.ref,
      events: turnEndEvents(result),
      ...(message.jobId ? { job: { jobId: message.jobId, update: turnEndJobUpdate(result) } } : {}),
    });
  } catch (err) {
    // The answer still reaches the sender through the update; the stream and the job lag behind.
    if (isCancellation(err)) throw err;
  }
  return concludeTurn(conv, result);
}

/** The turn's end as the conversation keeps it: the answer for repeats, no turn at work, decided proposals gone. */
function concludeTurn(conv: ChatConversation, result: ChatTurnResult): ChatTurnResult {
  conv.results.set(result.messageId, result);
  conv.current = null;
  for (const [id, proposal] of conv.proposals) if (proposal.status !== 'pending') conv.proposals.delete(id);
  return result;
}
