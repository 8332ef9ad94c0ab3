import { z } from 'zod';
import { redact, redactText } from '../../core/redact.js';

// The LLM port: chat completion with tool calling and structured output. Adapters: OpenAI-compatible
// (OpenRouter, OpenAI, Ollama, vLLM) and Anthropic. Retries belong to Temporal activities, so
// adapters make one attempt and classify failures as retryable or not.

export interface ToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** Ask for a JSON object matching this schema. */
  responseSchema?: { name: string; schema: Record<string, unknown> };
  maxTokens?: number;
  temperature?: number;
  /** Stream the answer; `onText` sees text as it arrives. The result is the same either way. */
  stream?: boolean;
  onText?: (delta: string) => void;
}

export interface ChatResponse {
  content: string | null;
  toolCalls: ToolCall[];
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  finishReason: string | null;
}

export interface LlmProvider {
  readonly provider: 'openai-compatible' | 'anthropic';
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
}

/** A provider failure, classified for Temporal: retryable (429, 5xx, timeouts) or not (401/403, bad request). */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From Retry-After, when the provider sent it. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after-ms') ?? headers?.get('retry-after');
  if (!value) return undefined;
  if (headers?.get('retry-after-ms')) return Number(value);
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function classifyStatus(status: number | undefined, message: string, headers?: Headers): LlmError {
  if (status === undefined) return new LlmError(`LLM request failed: ${message}`, true);
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  return new LlmError(`LLM provider answered ${status}: ${message}`, retryable, status, retryAfterMs(headers));
}

/** Redacts keys, tokens, passwords and private keys from every message before it leaves. */
export function redactMessages(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (message.role === 'assistant') {
      return {
        ...message,
        content: message.content === null ? null : redactText(message.content),
        ...(message.toolCalls ? { toolCalls: redact(message.toolCalls) } : {}),
      };
    }
    return { ...message, content: redactText(message.content) };
  });
}

/** The structured answer did not validate, even after one retry with the validation error. */
export class StructuredOutputError extends Error {
  override readonly name = 'StructuredOutputError';
}

/**
 * Asks for a JSON answer matching a zod schema (converted to JSON Schema), validates it, and on a
 * bad answer retries once with the validation error. The caller falls back to the runbook planner.
 */
export async function completeStructured<T extends z.ZodType>(
  provider: LlmProvider,
  messages: ChatMessage[],
  schema: T,
  name = 'answer',
): Promise<{ value: z.infer<T>; responses: ChatResponse[] }> {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
  const responses: ChatResponse[] = [];
  let conversation = redactMessages(messages);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const response = await provider.chat({ messages: conversation, responseSchema: { name, schema: jsonSchema } });
    responses.push(response);
    const raw = response.toolCalls[0]?.arguments ?? parseJson(response.content);
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { value: parsed.data, responses };
    const problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    conversation = [
      ...conversation,
      { role: 'assistant', content: response.content ?? JSON.stringify(raw ?? null) },
      {
        role: 'user',
        content: `That answer does not match the required JSON schema (${problem}). Reply again with only a JSON object that matches it.`,
      },
    ];
  }
  throw new StructuredOutputError(`The model's answer did not match the ${name} schema twice`);
}

function parseJson(text: string | null): unknown {
  if (!text) return undefined;
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  try {
    return JSON.parse((fenced?.[1] ?? text).trim());
  } catch {
    return undefined;
  }
}

/** Text embeddings for vector similarity in the knowledge base. */
export interface EmbeddingProvider {
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
