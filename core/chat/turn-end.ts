import type { ChatEventInput, ChatStep, ChatTurnResult } from '../contracts/chat.js';

// How a turn ends, written once for both places that record it: the workflow (its endTurn store
// step) and, past CHAT_ANSWER_IN_STEP_PATCH, the model step that produced the answer. Pure, so the
// workflow may import it.

/** A step's detail as the sender sees it: a short preview. */
export const stepDetail = (text: string | null) => (text === null ? null : text.slice(0, 300));

/** The model's step as the turn's steps list it. */
export function modelStepRecord(model: string, toolCalls: number): ChatStep {
  return { kind: 'model', name: model, status: 'ok', detail: toolCalls ? `${toolCalls} tool call(s)` : null };
}

/** The knowledge search a turn opens with, as its steps list it. */
export function knowledgeStep(
  toolName: string,
  outcome: { status: 'ok' | 'failed' | 'refused' | 'needs_confirmation'; preview?: string },
): ChatStep {
  return {
    kind: 'knowledge',
    name: toolName,
    status: outcome.status === 'needs_confirmation' ? 'refused' : outcome.status,
    detail: stepDetail(outcome.status === 'needs_confirmation' ? null : (outcome.preview ?? null)),
  };
}

/** The answer the user reads when the model answered with `content`. */
export function answeredText(content: string | null, offline: boolean): string {
  const answer = content?.trim() || 'I have no answer to that.';
  return offline ? `${answer}\n\n(Offline mode: no language model is configured.)` : answer;
}

/**
 * The turn's last stream events. The answer carries steps and usage too: a run that starts after an
 * idle end reads its answers back from here (openChatSession), so a repeated message gets the first
 * answer, not a second turn.
 */
export function turnEndEvents(result: ChatTurnResult): ChatEventInput[] {
  const { turn, messageId, status, steps } = result;
  return [
    {
      key: `t${turn}/answer`,
      type: 'answer',
      data: { turn, messageId, status, text: result.answer, offline: result.offline, steps, usage: result.usage },
    },
    { key: `t${turn}/ended`, type: 'turn.ended', data: { turn, messageId, status, steps: steps.length } },
  ];
}

/** The async job's final state for a turn's result. */
export function turnEndJobUpdate(result: ChatTurnResult) {
  return {
    status: result.status === 'failed' ? ('failed' as const) : ('completed' as const),
    answer: result.answer,
    turnStatus: result.status,
    steps: result.steps,
    ...(result.status === 'failed' ? { error: result.answer } : {}),
  };
}
