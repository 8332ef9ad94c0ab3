import { ApplicationFailure, Context } from '@temporalio/activity';
import { LlmError, redactMessages, type ToolCall } from '../../adapters/llm/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redact, redactText } from '../../core/redact.js';
import type { ToolCaller } from '../../tools/tool.js';
import { toModelMessages } from './context.js';
import type { ChatMessageInput } from '../../core/contracts/chat.js';
import type { ChatActivityDeps, ChatPlannerOutput, ChatRef } from './deps.js';
import { createTokenStream } from './events.js';
import { heartbeating } from './heartbeat.js';
import { createChatRecordActivities } from './record.js';
import { createToolRunner, type ChatToolOutcome } from './run-tool.js';

/**
 * What a turn's first model step does before it asks the model (CHAT_TURN_OPENING_PATCH): store the
 * user's message, move the async job to running, and search the knowledge base with the question,
 * stored as the turn's first tool exchange. One step instead of a store step and a tool activity, so
 * the sendMessage update is accepted as soon as the step is scheduled and a turn makes one task-queue
 * round trip fewer. Each part is keyed, so a retried step repeats none of them.
 */
export interface ChatTurnOpening {
  userMessage: ChatMessageInput;
  jobId?: string | undefined;
  knowledgeSearch?: { callId: string; toolName: string; query: string; callKey: string } | undefined;
}

/** A tool call the model asked for; `local`: the tool only reads the store, the workflow runs it as a local activity. */
export type ChatToolCallRequest = ToolCall & { local?: boolean };

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
  /** The turn's opening (its first step only). */
  opening?: ChatTurnOpening | undefined;
}

export interface ChatModelStepOutput {
  content: string | null;
  toolCalls: ChatToolCallRequest[];
  tokens: number;
  /** The offline planner answered (no LLM configured). */
  offline: boolean;
  model: string;
  /** What the opening's knowledge search came to (null: no search tool is configured). */
  opening?: { knowledge: ChatToolOutcome | null };
}

/** Model answers are bounded before they reach workflow history; the full text is in the transcript. */
const MAX_ANSWER_CHARS = 16_000;

export function createChatModelActivities(deps: ChatActivityDeps, runTool = createToolRunner(deps)) {
  const flushMs = deps.chatTokenFlushMs ?? 40;
  const records = createChatRecordActivities(deps);
  return {
    /**
     * One model step: reads the recent transcript, asks the LLM (streaming its text to the
     * conversation's event stream in small batches) or the offline planner, and stores its message.
     */
    chatModelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
      return heartbeating(() => modelStep(input));
    },
  };

  async function openTurn(input: ChatModelStepInput, opening: ChatTurnOpening): Promise<ChatToolOutcome | null> {
    const { ref, caller, turn } = input;
    await Promise.all([
      records.persistChatMessages({ ref, messages: [opening.userMessage] }),
      opening.jobId ? records.recordChatEvents({ ref, events: [], job: { jobId: opening.jobId, update: { status: 'running' } } }) : null,
    ]);
    const search = opening.knowledgeSearch;
    if (!search) return null;
    const outcome = await runTool({
      ref,
      caller,
      turn,
      callKey: search.callKey,
      call: { id: search.callId, name: search.toolName, arguments: { query: search.query } },
      announce: true,
    });
    return outcome.status === 'refused' && outcome.reason === 'unknown_tool' ? null : outcome;
  }

  async function modelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
    const { ref, caller, turn, step } = input;
    const knowledge = input.opening ? await openTurn(input, input.opening) : undefined;
    const stored = await deps.store.chat.lastMessages(ref.tenantId, ref.sessionId, input.contextFromSeq, input.contextMessages);
    const messages = redactMessages(toModelMessages(stored, input.summary));
    const tools = deps.chatTools?.describe(caller) ?? [];
    let answer: ChatPlannerOutput;
    let tokens = 0;
    let model = 'offline';
    // The last token batches are written while the step's message is stored (two tables, no order between them).
    let streamClosed: Promise<void> = Promise.resolve();
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
        await stream.close();
        throw llmStepFailure(err);
      }
      streamClosed = stream.close();
    } else if (deps.chatPlanner) {
      answer = await deps.chatPlanner.plan({ caller, messages, tools, transcript: stored });
    } else {
      throw ApplicationFailure.nonRetryable('No LLM is configured and this worker has no offline planner.', FAILURE.ChatModelUnavailable);
    }
    const toolCalls: ChatToolCallRequest[] = answer.toolCalls.map((call, index) => ({
      ...call,
      id: call.id || `call-${turn}-${step}-${index}`,
      ...(deps.chatTools?.readsStoreOnly(call.name) ? { local: true } : {}),
    }));
    const content = answer.content === null ? null : redactText(answer.content).slice(0, MAX_ANSWER_CHARS);
    await Promise.all([
      streamClosed,
      deps.store.chat.appendMessages(ref.tenantId, ref.sessionId, [
        {
          key: `t${turn}/s${step}/assistant`,
          role: 'assistant',
          turn,
          content,
          ...(toolCalls.length ? { toolCalls: redact(toolCalls.map(({ local: _local, ...call }) => call)) } : {}),
        },
      ]),
    ]);
    return { content, toolCalls, tokens, offline: !deps.llm, model, ...(knowledge !== undefined ? { opening: { knowledge } } : {}) };
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
