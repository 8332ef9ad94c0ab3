import { ApplicationFailure, Context } from '@temporalio/activity';
import { LlmError, redactMessages, type ToolCall } from '../../adapters/llm/port.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redact, redactText } from '../../core/redact.js';
import type { ToolCaller } from '../../tools/tool.js';
import { toModelMessages } from './context.js';
import type { ChatMessageInput, ChatStep, ChatTurnResult } from '../../core/contracts/chat.js';
import { answeredText, knowledgeStep, modelStepRecord, turnEndEvents, turnEndJobUpdate } from '../../core/chat/turn-end.js';
import type { StoredChatMessage } from '../../adapters/store/port.js';
import type { ChatActivityDeps, ChatPlannerOutput, ChatRef } from './deps.js';
import { appendChatEvents, createTokenStream } from './events.js';
import { heartbeating } from './heartbeat.js';
import { createChatRecordActivities, turnResultOf } from './record.js';
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
  /** Past CHAT_ANSWER_IN_STEP_PATCH: what the step needs to record the turn's end if the model answers. */
  ending?: ChatTurnEnding | undefined;
}

/**
 * A turn as it stands before this model step. When the model answers (no tool calls), the step
 * records the turn's end (answer and turn.ended events, the async job) itself, so the workflow has
 * nothing left to store: one store step fewer per turn. A retried step whose earlier attempt
 * recorded the end returns that answer and asks the model nothing.
 */
export interface ChatTurnEnding {
  messageId: string;
  jobId?: string | undefined;
  /** The turn's steps so far (this step adds its knowledge search, if it opens the turn, and itself). */
  steps: ChatStep[];
  /** Model steps including this one; tokens spent before it. */
  usage: { modelSteps: number; tokens: number };
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
  /** The turn's result, recorded by this step (`ending`): the model answered. `content` is then null (the answer is here). */
  answered?: ChatTurnResult;
}

/** Model answers are bounded before they reach workflow history; the full text is in the transcript. */
const MAX_ANSWER_CHARS = 16_000;

export function createChatModelActivities(deps: ChatActivityDeps, runTool = createToolRunner(deps)) {
  const flushMs = deps.chatTokenFlushMs ?? 40;
  const records = createChatRecordActivities(deps);
  return {
    /**
     * One model step: reads the recent transcript, asks the LLM (streaming its text to the
     * conversation's event stream in small batches) or the offline planner, and stores its message;
     * when the model answers and the workflow sent an `ending`, it records the turn's end too.
     */
    chatModelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
      return heartbeating(() => modelStep(input));
    },
  };

  /**
   * The turn's opening. The user's message and the job's move to running are stored while the
   * knowledge base is searched (the search's messages are stored after the user's, so the transcript
   * keeps its order). On a first attempt nothing of this step is stored yet, so the transcript window
   * is read as the search runs, once the user's message is in, and completed with the search's
   * messages as stored: the step reads the store once fewer on the turn's path. A retry reads after
   * everything instead (an earlier attempt may have stored the search already).
   */
  async function openTurn(
    input: ChatModelStepInput,
    opening: ChatTurnOpening,
  ): Promise<{ knowledge: ChatToolOutcome | null; transcript: StoredChatMessage[] | null }> {
    const { ref, caller, turn } = input;
    const opened = Promise.all([
      records.persistChatMessages({ ref, messages: [opening.userMessage] }),
      opening.jobId ? records.recordChatEvents({ ref, events: [], job: { jobId: opening.jobId, update: { status: 'running' } } }) : null,
    ]);
    const window =
      Context.current().info.attempt === 1
        ? opened.then(() => deps.store.chat.lastMessages(ref.tenantId, ref.sessionId, input.contextFromSeq, input.contextMessages))
        : null;
    // Awaited below; handled here too, so a failure while the search runs is not an unhandled rejection.
    opened.catch(() => undefined);
    window?.catch(() => undefined);
    const search = opening.knowledgeSearch;
    let searched: StoredChatMessage[] = [];
    const outcome = search
      ? await runTool(
          {
            ref,
            caller,
            turn,
            callKey: search.callKey,
            call: { id: search.callId, name: search.toolName, arguments: { query: search.query } },
            announce: true,
          },
          { before: window ?? opened, stored: (messages) => (searched = messages) },
        )
      : null;
    await opened;
    const transcript = window ? [...(await window), ...searched].slice(-input.contextMessages) : null;
    const knowledge = outcome && !(outcome.status === 'refused' && outcome.reason === 'unknown_tool') ? outcome : null;
    return { knowledge, transcript };
  }

  async function modelStep(input: ChatModelStepInput): Promise<ChatModelStepOutput> {
    const { ref, caller, turn, step } = input;
    if (input.ending && Context.current().info.attempt > 1) {
      const recorded = await recordedEnd(input, input.ending);
      if (recorded) return recorded;
    }
    const opened = input.opening ? await openTurn(input, input.opening) : undefined;
    const knowledge = opened?.knowledge;
    const stored =
      opened?.transcript ?? (await deps.store.chat.lastMessages(ref.tenantId, ref.sessionId, input.contextFromSeq, input.contextMessages));
    const messages = redactMessages(toModelMessages(stored, input.summary));
    const tools = deps.chatTools?.describe(caller) ?? [];
    let answer: ChatPlannerOutput;
    let tokens = 0;
    let model = 'offline';
    // A retried step streams again under its own keys: the `answer` event is what counts.
    const stream = deps.llm ? createTokenStream(deps, ref, `t${turn}/s${step}/a${Context.current().info.attempt}/token`, flushMs) : null;
    if (deps.llm && stream) {
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
    const output: ChatModelStepOutput = {
      content,
      toolCalls,
      tokens,
      offline: !deps.llm,
      model,
      ...(knowledge !== undefined ? { opening: { knowledge } } : {}),
    };
    const ending = toolCalls.length === 0 ? input.ending : undefined;
    const result: ChatTurnResult | null = ending
      ? {
          messageId: ending.messageId,
          turn,
          status: 'answered',
          answer: answeredText(content, output.offline),
          offline: output.offline,
          steps: [
            ...ending.steps,
            ...(input.opening?.knowledgeSearch && knowledge ? [knowledgeStep(input.opening.knowledgeSearch.toolName, knowledge)] : []),
            modelStepRecord(model, 0),
          ],
          usage: { modelSteps: ending.usage.modelSteps, tokens: ending.usage.tokens + tokens },
        }
      : null;
    const endEvents = result ? turnEndEvents(result).map((event) => ({ ...event, data: redact(event.data) })) : [];
    // The last token batch and the turn's end go in one write (tokens first), while the step's
    // message is stored (another table, no order between them).
    const [endRecorded] = await Promise.all([
      (stream ? stream.close(endEvents) : appendChatEvents(deps, ref, endEvents)).then(
        () => true,
        () => false,
      ),
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
    // Not recorded (the store refused the write): not worth asking the model again, the workflow's store step records it.
    if (!result || !endRecorded) return output;
    if (ending?.jobId) {
      // The job last: a client that sees it finished finds the turn's events stored.
      const recorded = await records
        .recordChatEvents({ ref, events: [], job: { jobId: ending.jobId, update: turnEndJobUpdate(result) } })
        .then(
          () => true,
          () => false,
        );
      if (!recorded) return output;
    }
    return { ...output, content: null, answered: result };
  }

  /** The end an earlier attempt of this step recorded (its answer event), as this attempt's output. */
  async function recordedEnd(input: ChatModelStepInput, ending: ChatTurnEnding): Promise<ChatModelStepOutput | null> {
    const [event] = await deps.store.chat.lastEventsOfType(input.ref.tenantId, input.ref.sessionId, 'answer', 1);
    const [result] = event ? turnResultOf(event.data) : [];
    if (!result || result.turn !== input.turn || result.messageId !== ending.messageId) return null;
    // The recorded result's steps say what the opening found; the workflow keeps them as they are.
    return {
      content: null,
      toolCalls: [],
      tokens: result.usage.tokens - ending.usage.tokens,
      offline: result.offline,
      model: result.steps.findLast((s) => s.kind === 'model')?.name ?? 'unknown',
      answered: result,
    };
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
