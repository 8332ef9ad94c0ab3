import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../adapters/llm/anthropic.js';
import { LlmError, type LlmProvider } from '../../adapters/llm/port.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';

// The scripted model server the chat tests drive turns with, checked through both real adapters:
// streamed and plain text, tool calls, errors with Retry-After, and what it records of each request.

let model: ScriptedModelServer;
beforeAll(async () => {
  model = await startScriptedModel();
});
afterAll(async () => {
  await model?.close();
});
beforeEach(() => model.reset());

const providers: [string, () => LlmProvider][] = [
  [
    'OpenAI',
    () => new OpenAiCompatibleProvider({ apiKey: 'sk-test-0000000000000000', model: 'gpt-scripted', baseURL: model.openAiBaseUrl }),
  ],
  [
    'Anthropic',
    () => new AnthropicProvider({ apiKey: 'sk-ant-test-00000000000000', model: 'claude-scripted', baseURL: model.anthropicBaseUrl }),
  ],
];

describe.each(providers)('scripted model server through the %s adapter', (protocol, provider) => {
  it('streams text in chunks and reports usage', async () => {
    model.script({ text: 'Rotate the logs on web-01 now.', usage: { input: 30, output: 7 } });
    const seen: string[] = [];
    const answer = await provider().chat({
      messages: [
        { role: 'system', content: 'You are an SRE.' },
        { role: 'user', content: 'disk?' },
      ],
      stream: true,
      onText: (delta) => seen.push(delta),
    });
    expect(answer).toMatchObject({ content: 'Rotate the logs on web-01 now.', toolCalls: [], usage: { inputTokens: 30, outputTokens: 7 } });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.join('')).toBe('Rotate the logs on web-01 now.');
    expect(model.requests[0]).toMatchObject({ protocol: protocol === 'OpenAI' ? 'openai' : 'anthropic' });
    expect(model.requests[0]!.transcript).toEqual(['You are an SRE.', 'disk?']);
  });

  it('returns tool calls, streamed or not, and records the tool results it is sent next', async () => {
    model.script(
      { toolCalls: [{ id: 'call_a', name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }] },
      { toolCalls: [{ id: 'call_b', name: 'metrics_query', arguments: { query: 'up' } }] },
    );
    const tools = [{ name: 'cmdb_lookup', description: 'CMDB', parameters: { type: 'object', properties: { tagId: { type: 'string' } } } }];
    const streamed = await provider().chat({ messages: [{ role: 'user', content: 'web-01?' }], tools, stream: true });
    expect(streamed.toolCalls).toEqual([{ id: 'call_a', name: 'cmdb_lookup', arguments: { tagId: 'web-01' } }]);
    const plain = await provider().chat({
      messages: [
        { role: 'user', content: 'web-01?' },
        { role: 'assistant', content: null, toolCalls: streamed.toolCalls },
        { role: 'tool', toolCallId: 'call_a', content: 'web-01: ubuntu VM' },
      ],
      tools,
    });
    expect(plain.toolCalls).toEqual([{ id: 'call_b', name: 'metrics_query', arguments: { query: 'up' } }]);
    expect(model.requests[1]!.transcript).toEqual(['web-01?', 'call cmdb_lookup {"tagId":"web-01"}', 'web-01: ubuntu VM']);
  });

  it('answers with the scripted error and Retry-After, and 500 once the script is spent', async () => {
    model.script({ error: { status: 429, message: 'slow down', retryAfterSeconds: 2 } });
    const limited = await provider()
      .chat({ messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(limited).toBeInstanceOf(LlmError);
    expect(limited).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    const spent = await provider()
      .chat({ messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(spent).toMatchObject({ retryable: true, status: 500 });
  });
});
