import OpenAI from 'openai';
import { classifyStatus, LlmError } from './llm.js';

/** Text embeddings for vector similarity in the knowledge base. */
export interface EmbeddingProvider {
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
}

export interface OpenAiEmbeddingsOptions {
  apiKey: string;
  model: string;
  baseURL?: string;
  timeoutMs?: number;
  /** Texts per request. */
  batchSize?: number;
}

/** The OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM, OpenRouter-compatible gateways). */
export class OpenAiEmbeddings implements EmbeddingProvider {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly batchSize: number;

  constructor(options: OpenAiEmbeddingsOptions) {
    this.model = options.model;
    this.batchSize = options.batchSize ?? 64;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      timeout: options.timeoutMs ?? 60_000,
      maxRetries: 2,
    });
  }

  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize);
      try {
        const response = await this.client.embeddings.create({ model: this.model, input: batch, encoding_format: 'float' });
        const ordered = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        if (ordered.length !== batch.length)
          throw new LlmError(`embeddings endpoint returned ${ordered.length} vectors for ${batch.length} texts`, false);
        vectors.push(...ordered);
      } catch (err) {
        if (err instanceof OpenAI.APIError) throw classifyStatus(err.status, err.message, err.headers);
        throw err;
      }
    }
    return vectors;
  }
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

/** The configured embeddings endpoint, or null (knowledge search stays lexical). */
export function createEmbeddingProvider(
  config: { baseUrl: string | null; model: string; apiKey: string } | null,
): EmbeddingProvider | null {
  if (!config) return null;
  return new OpenAiEmbeddings({ apiKey: config.apiKey, model: config.model, ...(config.baseUrl ? { baseURL: config.baseUrl } : {}) });
}
