import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import {
  classifyStatus,
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type LlmProvider,
  type ToolCall,
} from './port.js';

export interface OpenAiCompatibleOptions {
  apiKey: string;
  model: string;
  /** e.g. https://openrouter.ai/api/v1, http://127.0.0.1:11434/v1 (Ollama), a vLLM server. */
  baseURL?: string;
  timeoutMs?: number;
  /** Extra headers, e.g. OpenRouter's HTTP-Referer / X-Title. */
  headers?: Record<string, string>;
}

function toOpenAi(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: JSON.stringify(call.arguments ?? {}) },
              })),
            }
          : {}),
      };
    default:
      return { role: message.role, content: message.content };
  }
}

function parseArguments(text: string | undefined): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { _unparsed: text };
  }
}

/** OpenAI's chat completions protocol, which OpenRouter, OpenAI, Ollama and vLLM all speak. */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly provider = 'openai-compatible' as const;
  readonly model: string;
  private readonly client: OpenAI;

  constructor(options: OpenAiCompatibleOptions) {
    this.model = options.model;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      timeout: options.timeoutMs ?? 60_000,
      maxRetries: 0,
      ...(options.headers ? { defaultHeaders: options.headers } : {}),
    });
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const tools: ChatCompletionTool[] | undefined = request.tools?.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    const params = {
      model: this.model,
      messages: request.messages.map(toOpenAi),
      ...(tools?.length ? { tools } : {}),
      ...(request.responseSchema
        ? {
            response_format: {
              type: 'json_schema' as const,
              json_schema: { name: request.responseSchema.name, schema: request.responseSchema.schema },
            },
          }
        : {}),
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
    try {
      if (!request.stream) {
        const completion = await this.client.chat.completions.create(params);
        const choice = completion.choices[0];
        return {
          content: choice?.message.content ?? null,
          toolCalls: (choice?.message.tool_calls ?? []).flatMap((call) =>
            call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: parseArguments(call.function.arguments) }] : [],
          ),
          model: completion.model,
          usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 },
          finishReason: choice?.finish_reason ?? null,
        };
      }
      const stream = await this.client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      let content = '';
      let model = this.model;
      let finishReason: string | null = null;
      let usage = { inputTokens: 0, outputTokens: 0 };
      const calls = new Map<number, { id: string; name: string; args: string }>();
      for await (const chunk of stream) {
        model = chunk.model || model;
        if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.delta.content) {
          content += choice.delta.content;
          request.onText?.(choice.delta.content);
        }
        for (const delta of choice.delta.tool_calls ?? []) {
          const call = calls.get(delta.index) ?? { id: '', name: '', args: '' };
          call.id ||= delta.id ?? '';
          call.name ||= delta.function?.name ?? '';
          call.args += delta.function?.arguments ?? '';
          calls.set(delta.index, call);
        }
        finishReason = choice.finish_reason ?? finishReason;
      }
      const toolCalls: ToolCall[] = [...calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, call]) => ({ id: call.id, name: call.name, arguments: parseArguments(call.args) }));
      return { content: content || null, toolCalls, model, usage, finishReason };
    } catch (err) {
      if (err instanceof OpenAI.APIError) throw classifyStatus(err.status, err.message, err.headers);
      if (err instanceof OpenAI.APIConnectionError || err instanceof OpenAI.APIConnectionTimeoutError)
        throw new LlmError(`LLM connection failed: ${err.message}`, true);
      throw err;
    }
  }
}
