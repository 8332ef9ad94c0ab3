import type { StoredChatMessage } from '../../adapters/store/port.js';
import { planOfflineStep, type PlannerMessage } from '../../core/chat/offline-planner.js';
import type { ChatPlanner } from './deps.js';

// The offline planner (core/chat/offline-planner.ts) as the chat model step's planner when no LLM
// is configured: it reads the stored transcript, whose tool messages keep the tools' structured
// results, and answers with tool calls or a final answer, like a model would.

/** The stored transcript as the planner reads it: tool results with their data and whether they failed. */
export function toPlannerMessages(transcript: readonly StoredChatMessage[]): PlannerMessage[] {
  const messages: PlannerMessage[] = [];
  for (const message of transcript) {
    if (message.role === 'user') messages.push({ role: 'user', content: message.content ?? '' });
    else if (message.role === 'assistant') {
      messages.push({
        role: 'assistant',
        content: message.content ?? '',
        ...(message.toolCalls?.length
          ? { toolCalls: message.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: asArguments(call.arguments) })) }
          : {}),
      });
    } else if (message.role === 'tool' && message.toolCallId) {
      const failed = isErrorData(message.data);
      messages.push({
        role: 'tool',
        toolCallId: message.toolCallId,
        name: message.toolName ?? '',
        content: message.content ?? '',
        ...(failed ? { isError: true } : message.data !== undefined && message.data !== null ? { data: message.data } : {}),
      });
    }
  }
  return messages;
}

export function createOfflineChatPlanner(): ChatPlanner {
  return {
    plan: ({ transcript, tools }) => {
      const step = planOfflineStep(toPlannerMessages(transcript), tools);
      return Promise.resolve('answer' in step ? { content: step.answer, toolCalls: [] } : { content: null, toolCalls: step.toolCalls });
    },
  };
}

function isErrorData(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { error?: unknown }).error === true;
}

function asArguments(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
