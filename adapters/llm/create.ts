import type { LlmConfig } from '../../config.js';
import { AnthropicProvider } from './anthropic.js';
import type { LlmProvider } from './port.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';
import { type EmbeddingProvider } from './port.js';
import { OpenAiEmbeddings } from './openai-embeddings.js';

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

/** The configured embeddings endpoint, or null (knowledge search stays lexical). */
export function createEmbeddingProvider(
  config: { baseUrl: string | null; model: string; apiKey: string } | null,
): EmbeddingProvider | null {
  if (!config) return null;
  return new OpenAiEmbeddings({ apiKey: config.apiKey, model: config.model, ...(config.baseUrl ? { baseURL: config.baseUrl } : {}) });
}
