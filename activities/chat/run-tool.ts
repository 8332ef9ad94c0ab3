import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChatChildRun, ChatMessageInput } from '../../core/contracts/chat.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { redact, redactText, truncateText } from '../../core/redact.js';
import { IntegrationNotConfiguredError } from '../../tools/integrations.js';
import type { PreparedCall } from '../../tools/registry.js';
import { ToolFailedError, ToolRefusedError, type ToolCaller, type ToolResult } from '../../tools/tool.js';
import type { StoredChatMessage } from '../../adapters/store/port.js';
import { storedChatMessage } from './context.js';
import type { ChatActivityDeps, ChatRef } from './deps.js';
import { appendChatEvents } from './events.js';
import { heartbeating } from './heartbeat.js';

export interface ChatToolCallInput {
  ref: ChatRef;
  caller: ToolCaller;
  turn: number;
  /** `<workflowId>/<turn>/<callId>`: stable across retries, handed to the tool for idempotent creates. */
  callKey: string;
  call: { id: string; name: string; arguments: unknown };
  /** The hash the user confirmed; only the workflow sets it, and only after a matching confirmAction. */
  confirmedHash?: string | undefined;
  /** Store an assistant message carrying this call first (the knowledge search the workflow makes itself). */
  announce?: boolean | undefined;
  /** The workflow starts the runs a tool records as its children (CHAT_CHILD_RUNS_PATCH): the tool only records them. */
  childRuns?: boolean | undefined;
}

/**
 * What became of a call. `needs_confirmation`: nothing ran, the workflow proposes it. The others are
 * stored as the call's tool message (what the model reads next) and travel here only as a preview.
 */
export type ChatToolOutcome =
  | { status: 'ok'; preview: string; childRun?: ChatChildRun }
  | { status: 'failed' | 'refused'; preview: string; reason: string }
  | { status: 'needs_confirmation'; hash: string; args: unknown };

/** How the turn's opening runs the knowledge search alongside its own writes (model-step.ts). */
export interface ToolRunOptions {
  /** Store the call's messages only once this settles (the user's message first, so the transcript keeps its order). */
  before?: Promise<unknown> | undefined;
  /** Hears the messages stored for the call, as the store keeps them. */
  stored?: ((messages: StoredChatMessage[]) => void) | undefined;
}

const PREVIEW_CHARS = 400;
/** What the model reads of a result; the structured data is stored whole. */
const CONTENT_CHARS = 12_000;
/** Attempts a retryable tool failure gets inside the activity's retry policy before the agent is told. */
const TOOL_ATTEMPTS = 3;

/**
 * Runs one tool call and stores what came of it: the chat tool activity's work, and the opening
 * knowledge search the first model step of a turn makes (model-step.ts).
 */
export function createToolRunner(deps: ChatActivityDeps): (input: ChatToolCallInput, options?: ToolRunOptions) => Promise<ChatToolOutcome> {
  const { store } = deps;

  async function persist(input: ChatToolCallInput, content: string, data: unknown, options: ToolRunOptions): Promise<void> {
    const { ref, turn, call } = input;
    const messages: ChatMessageInput[] = [];
    if (input.announce) {
      messages.push({ key: `t${turn}/${call.id}/call`, role: 'assistant', turn, content: null, toolCalls: [redact(call)] });
    }
    messages.push({
      key: `t${turn}/${call.id}/result`,
      role: 'tool',
      turn,
      content: truncateText(redactText(content), CONTENT_CHARS),
      toolCallId: call.id,
      toolName: call.name,
      ...(data !== undefined ? { data: redact(data) } : {}),
    });
    await options.before;
    const seqs = await store.chat.appendMessages(ref.tenantId, ref.sessionId, messages);
    if (!seqs) throw ApplicationFailure.nonRetryable(`Chat session ${ref.sessionId} is gone`, FAILURE.ChatSessionNotFound);
    options.stored?.(messages.map((message, index) => storedChatMessage(message, seqs[index] ?? 0)));
  }

  async function ended(input: ChatToolCallInput, status: string, preview: string): Promise<void> {
    const { ref, turn, call } = input;
    await appendChatEvents(deps, ref, [
      { key: `t${turn}/${call.id}/ended`, type: 'tool.ended', data: { turn, callId: call.id, tool: call.name, status, preview } },
    ]);
  }

  async function refuse(input: ChatToolCallInput, message: string, reason: string, options: ToolRunOptions): Promise<ChatToolOutcome> {
    await persist(input, `Refused: ${message}`, { error: true, reason }, options);
    await ended(input, 'refused', message);
    return { status: 'refused', preview: truncateText(message, PREVIEW_CHARS), reason };
  }

  return runTool;

  async function runTool(input: ChatToolCallInput, options: ToolRunOptions = {}): Promise<ChatToolOutcome> {
    const { ref, caller, turn, call } = input;
    const registry = deps.chatTools;
    if (!registry) {
      if (input.announce) return { status: 'refused', preview: 'No chat tools are configured', reason: 'unknown_tool' };
      return refuse(input, `There is no tool named ${call.name}`, 'unknown_tool', options);
    }
    let prepared: PreparedCall;
    try {
      prepared = await registry.prepare(call.name, call.arguments, caller);
    } catch (err) {
      if (!(err instanceof ToolRefusedError)) throw err;
      // A search the workflow makes on its own is left out of the transcript when there is no such tool.
      if (input.announce && err.reason === 'unknown_tool') return { status: 'refused', preview: err.message, reason: err.reason };
      return refuse(input, err.message, err.reason, options);
    }
    if (prepared.risk === 'forbidden')
      return refuse(input, `Policy forbids this call to ${call.name}; it did not run.`, 'forbidden', options);
    if (prepared.risk === 'change' && input.confirmedHash !== prepared.hash) {
      return { status: 'needs_confirmation', hash: prepared.hash, args: prepared.args };
    }
    const announced = appendChatEvents(deps, ref, [
      {
        key: `t${turn}/${call.id}/started`,
        type: 'tool.started',
        data: { turn, callId: call.id, tool: call.name, args: redact(prepared.args) },
      },
    ]);
    // A change runs only once its start is on record; a read starts while its start is written (the
    // start is awaited before anything else of the call is stored, so the stream keeps its order).
    // Handled here as well: a write that fails while the tool runs must not count as an unhandled rejection.
    announced.catch(() => undefined);
    if (prepared.risk !== 'read') await announced;
    const context = Context.current();
    let result: ToolResult;
    try {
      result = await registry.run(
        prepared,
        {
          caller,
          signal: context.cancellationSignal,
          callKey: input.callKey,
          ...(input.childRuns ? { childRuns: true } : {}),
          integration: (name) => {
            if (!deps.resolveIntegration) return Promise.reject(new IntegrationNotConfiguredError(name));
            return deps.resolveIntegration(caller, name);
          },
        },
        input.confirmedHash,
      );
    } catch (err) {
      await announced;
      if (err instanceof ToolRefusedError) return refuse(input, err.message, err.reason, options);
      if (err instanceof IntegrationNotConfiguredError) return refuse(input, err.message, 'not_configured', options);
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof ToolFailedError && err.retryable && context.info.attempt < TOOL_ATTEMPTS) {
        throw ApplicationFailure.retryable(`${call.name} failed: ${message}`, FAILURE.ChatToolUnavailable);
      }
      const text = `${call.name} failed: ${message}`;
      await persist(input, `The tool failed and did nothing more: ${message}`, { error: true, reason: FAILURE.ChatToolFailed }, options);
      await ended(input, 'failed', text);
      return { status: 'failed', preview: truncateText(redactText(text), PREVIEW_CHARS), reason: FAILURE.ChatToolFailed };
    }
    await announced;
    const links = result.links?.length ? `\nLinks: ${result.links.map((link) => `${link.title} <${link.url}>`).join(', ')}` : '';
    await persist(input, `${result.content}${links}`, result.data, options);
    const preview = truncateText(redactText(result.content), PREVIEW_CHARS);
    await ended(input, 'ok', preview);
    return { status: 'ok', preview, ...(result.childRun ? { childRun: result.childRun } : {}) };
  }
}

export function createChatToolActivities(deps: ChatActivityDeps, runTool = createToolRunner(deps)) {
  return {
    /**
     * One tool call through the registry: validated and rated; a `change` without the matching
     * confirmed hash comes back `needs_confirmation` (nothing runs), `forbidden` never runs. The
     * result (or the failure the agent is told about) is stored as the call's tool message. The
     * workflow runs it as a local activity when the tool only reads the store (`readsStoreOnly`).
     */
    runChatTool(input: ChatToolCallInput): Promise<ChatToolOutcome> {
      return heartbeating(() => runTool(input));
    },
  };
}
