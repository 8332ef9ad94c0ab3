import OpenAI from 'openai';
import { classifyStatus, LlmError } from './port.js';
import { type EmbeddingProvider } from './port.js';

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
