import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import {
  classifyStatus,
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type LlmProvider,
  type ToolCall,
} from './port.js';

export interface AnthropicOptions {
  apiKey: string;
  model: string;
  baseURL?: string;
  timeoutMs?: number;
}

/** Anthropic's Messages API. Structured output is asked for as a forced call of a `respond` tool. */
export class AnthropicProvider implements LlmProvider {
  readonly provider = 'anthropic' as const;
  readonly model: string;
  private readonly client: Anthropic;

  constructor(options: AnthropicOptions) {
    this.model = options.model;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      timeout: options.timeoutMs ?? 60_000,
      maxRetries: 0,
    });
  }

  private toMessages(messages: ChatMessage[]): { system: string | undefined; messages: MessageParam[] } {
    const system =
      messages
        .filter((m) => m.role === 'system')
        .map((m) => m.content as string)
        .join('\n\n') || undefined;
    const converted: MessageParam[] = [];
    for (const message of messages) {
      if (message.role === 'system') continue;
      if (message.role === 'tool') {
        converted.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }] });
      } else if (message.role === 'assistant') {
        converted.push({
          role: 'assistant',
          content: [
            ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
            ...(message.toolCalls ?? []).map((call) => ({
              type: 'tool_use' as const,
              id: call.id,
              name: call.name,
              input: call.arguments as Record<string, unknown>,
            })),
          ],
        });
      } else {
        converted.push({ role: 'user', content: message.content });
      }
    }
    return { system, messages: converted };
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const { system, messages } = this.toMessages(request.messages);
    const tools: Tool[] = (request.tools ?? []).map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.parameters as Tool['input_schema'],
    }));
    if (request.responseSchema) {
      tools.push({
        name: 'respond',
        description: `Reply with the ${request.responseSchema.name} object.`,
        input_schema: request.responseSchema.schema as Tool['input_schema'],
      });
    }
    const params = {
      model: this.model,
      max_tokens: request.maxTokens ?? 2048,
      messages,
      ...(system ? { system } : {}),
      ...(tools.length ? { tools } : {}),
      ...(request.responseSchema ? { tool_choice: { type: 'tool' as const, name: 'respond' } } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
    try {
      let message: Anthropic.Message;
      if (request.stream) {
        const stream = this.client.messages.stream(params);
        if (request.onText) stream.on('text', request.onText);
        message = await stream.finalMessage();
      } else {
        message = await this.client.messages.create(params);
      }
      const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      const toolCalls: ToolCall[] = message.content.flatMap((block) =>
        block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: block.input }] : [],
      );
      return {
        content: text || null,
        // The forced `respond` call carries the structured answer; it is not a tool the caller offered.
        toolCalls: request.responseSchema ? toolCalls.filter((c) => c.name === 'respond') : toolCalls,
        model: message.model,
        usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
        finishReason: message.stop_reason,
      };
    } catch (err) {
      if (err instanceof Anthropic.APIError) throw classifyStatus(err.status, err.message, err.headers);
      if (err instanceof Anthropic.APIConnectionError) throw new LlmError(`LLM connection failed: ${err.message}`, true);
      throw err;
    }
  }
}
