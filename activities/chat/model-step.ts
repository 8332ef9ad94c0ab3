import { ApplicationFailure, Context } from '@temporalio/activity';
import { LlmError, redactMessages, type ToolCall } from '../../adapters/llm/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redact, redactText } from '../../core/redact.js';
import type { ToolCaller } from '../../tools/tool.js';
import { toModelMessages } from './context.js';
import type { ChatActivityDeps, ChatPlannerOutput, ChatRef } from './deps.js';
import { createTokenStream } from './events.js';
import { heartbeating } from './heartbeat.js';

export interface ChatModelStepInput {
  ref: ChatRef;
  caller: ToolCaller;
  turn: number;
  step: number;
  summary: string | null;
  /** The transcript from this seq on (older messages are in the summary)… */
  contextFromSeq: number;
  /** …its last this many messages. */
  contextMessages: number;
  /** Output tokens the model may still spend in this turn. */
  maxTokens: number;
}

export interface ChatModelStepOutput {
  content: string | null;
  toolCalls: ToolCall[];
  tokens: number;
  /** The offline planner answered (no LLM configured). */
  offline: boolean;
  model: string;
}

/** Model answers are bounded before they reach workflow history; the full text is in the transcript. */
const MAX_ANSWER_CHARS = 16_000;

export function createChatModelActivities(deps: ChatActivityDeps) {
  const flushMs = deps.chatTokenFlushMs ?? 40;
  return {
    /**
     * One model step: reads the recent transcript, asks the LLM (streaming its text to the
     * conversation's event stream in small batches) or the offline planner, and stores its message.
     */
    chatModelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
      return heartbeating(() => modelStep(input));
    },
  };

  async function modelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
    const { ref, caller, turn, step } = input;
    const stored = await deps.store.chat.lastMessages(ref.tenantId, ref.sessionId, input.contextFromSeq, input.contextMessages);
    const messages = redactMessages(toModelMessages(stored, input.summary));
    const tools = deps.chatTools?.describe(caller) ?? [];
    let answer: ChatPlannerOutput;
    let tokens = 0;
    let model = 'offline';
    if (deps.llm) {
      const attempt = Context.current().info.attempt;
      // A retried step streams again under its own keys: the `answer` event is what counts.
      const stream = createTokenStream(deps, ref, `t${turn}/s${step}/a${attempt}/token`, flushMs);
      try {
        const response = await deps.llm.chat({
          messages,
          ...(tools.length ? { tools: tools.map(({ name, description, parameters }) => ({ name, description, parameters })) } : {}),
          maxTokens: Math.max(256, Math.min(input.maxTokens, 8192)),
          stream: true,
          onText: (delta) => stream.push(delta),
        });
        answer = { content: response.content, toolCalls: response.toolCalls };
        tokens = response.usage.inputTokens + response.usage.outputTokens;
        model = response.model;
      } catch (err) {
        throw llmStepFailure(err);
      } finally {
        await stream.close();
      }
    } else if (deps.chatPlanner) {
      answer = await deps.chatPlanner.plan({ caller, messages, tools, transcript: stored });
    } else {
      throw ApplicationFailure.nonRetryable('No LLM is configured and this worker has no offline planner.', FAILURE.ChatModelUnavailable);
    }
    const toolCalls = answer.toolCalls.map((call, index) => ({ ...call, id: call.id || `call-${turn}-${step}-${index}` }));
    const content = answer.content === null ? null : redactText(answer.content).slice(0, MAX_ANSWER_CHARS);
    await deps.store.chat.appendMessages(ref.tenantId, ref.sessionId, [
      {
        key: `t${turn}/s${step}/assistant`,
        role: 'assistant',
        turn,
        content,
        ...(toolCalls.length ? { toolCalls: redact(toolCalls) } : {}),
      },
    ]);
    return { content, toolCalls, tokens, offline: !deps.llm, model };
  }
}

/** Rate limits and outages are retried by Temporal (honouring Retry-After); a refusal is final. */
function llmStepFailure(err: unknown): unknown {
  if (!(err instanceof LlmError)) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: FAILURE.LlmUnavailable,
    nonRetryable: !err.retryable,
    ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
  });
}
