import type { RunEventBus } from '../../adapters/events/port.js';
import type { ChatMessage, LlmProvider, ToolCall } from '../../adapters/llm/port.js';
import type { Store, StoredChatMessage } from '../../adapters/store/port.js';
import type { IntegrationName, IntegrationSettings } from '../../tools/integrations.js';
import type { ToolDescription, ToolRegistry } from '../../tools/registry.js';
import type { ToolCaller } from '../../tools/tool.js';

// What the chat activities need, injected: the store (transcript, stream events, jobs), the bus that
// wakes SSE readers, the model (or the offline planner), the tool registry and where a caller's
// integration settings come from. Tests pass their own of each.

/** What a model step sees, whether an LLM or the offline planner takes it. */
export interface ChatPlannerInput {
  caller: ToolCaller;
  /** System prompt, summary, and the transcript's recent messages, oldest first. */
  messages: ChatMessage[];
  /** The tools this caller may use. */
  tools: ToolDescription[];
  /** The same window of the transcript as stored: tool results with their structured data (`{ error: true }` when a call failed or did not run). */
  transcript: StoredChatMessage[];
}

/** What a model step answers: text, or tool calls to make before it answers. */
export interface ChatPlannerOutput {
  content: string | null;
  toolCalls: ToolCall[];
}

/**
 * Answers without an LLM (knowledge base, CMDB, read-only tools), proposing the same changes an
 * LLM would. Built elsewhere (the offline planner); the model step calls it when `llm` is null.
 */
export interface ChatPlanner {
  plan(input: ChatPlannerInput): Promise<ChatPlannerOutput>;
}

export type ResolveIntegration = <N extends IntegrationName>(caller: ToolCaller, name: N) => Promise<IntegrationSettings<N>>;

export interface ChatActivityDeps {
  store: Store;
  events?: RunEventBus | null;
  llm?: LlmProvider | null;
  /** The chat tools; null or absent: the agent has none (and no knowledge search). */
  chatTools?: ToolRegistry | null;
  /** Used when `llm` is null; null or absent too: a model step fails with ChatModelUnavailable. */
  chatPlanner?: ChatPlanner | null;
  /** A caller's settings for an integration (integration settings API); absent: every integration is unconfigured. */
  resolveIntegration?: ResolveIntegration | null;
  /** How often streamed tokens are written to the conversation's event stream (ms; default 40). */
  chatTokenFlushMs?: number;
}

/** Which conversation a step works on. */
export interface ChatRef {
  tenantId: string;
  sessionId: string;
}
