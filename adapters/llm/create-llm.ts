import type { LlmConfig } from '../../config.js';
import { AnthropicProvider } from './anthropic.js';
import type { LlmProvider } from './llm.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';

/** The configured LLM adapter, or null when none is configured (the runbook planner reasons alone). */
export function createLlmProvider(config: LlmConfig | null): LlmProvider | null {
  if (!config) return null;
  if (config.provider === 'anthropic') {
    return new AnthropicProvider({
      apiKey: config.apiKey,
      model: config.model,
      timeoutMs: config.timeoutMs,
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
    });
  }
  return new OpenAiCompatibleProvider({
    apiKey: config.apiKey,
    model: config.model,
    timeoutMs: config.timeoutMs,
    ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
  });
}
