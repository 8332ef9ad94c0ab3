import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AnthropicProvider } from '../../adapters/llm/anthropic.js';
import { completeStructured, LlmError, StructuredOutputError, type LlmProvider } from '../../adapters/llm/port.js';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';

// Each adapter against a local HTTP server that speaks its provider's protocol for the calls we
// make: request shape asserted, plain and streamed answers, tool calls, structured output, errors.

type Reply = (req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse) => void;
let server: Server;
let baseUrl: string;
const requests: { path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];
const replies: Reply[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      const reply = replies.shift();
      if (!reply) {
        res.writeHead(500).end('{"error":{"message":"no reply queued"}}');
        return;
      }
      reply(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server?.close();
});

beforeEach(() => {
  requests.length = 0;
  replies.length = 0;
});

const json =
  (status: number, payload: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
  };
const sse =
  (events: { event?: string; data: unknown }[]): Reply =>
  (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events)
      res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
    res.end();
  };

describe('OpenAI-compatible adapter (OpenRouter, OpenAI, Ollama, vLLM)', () => {
  const provider = () =>
    new OpenAiCompatibleProvider({ apiKey: 'sk-or-test-key-000000000000000000', model: 'openai/gpt-test', baseURL: `${baseUrl}/api/v1` });
  const completion = (message: Record<string, unknown>, finish = 'stop') => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'openai/gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  });

  it('sends the chat completions request and reads content, usage and model', async () => {
    replies.push(json(200, completion({ content: 'Restart nginx.' })));
    const answer = await provider().chat({
      messages: [
        { role: 'system', content: 'You are an SRE.' },
        { role: 'user', content: 'nginx down' },
      ],
      temperature: 0,
    });
    expect(answer).toEqual({
      content: 'Restart nginx.',
      toolCalls: [],
      model: 'openai/gpt-test',
      usage: { inputTokens: 12, outputTokens: 5 },
      finishReason: 'stop',
    });
    expect(requests[0]!.path).toBe('/api/v1/chat/completions');
    expect(requests[0]!.headers.authorization).toBe('Bearer sk-or-test-key-000000000000000000');
    expect(requests[0]!.body).toMatchObject({
      model: 'openai/gpt-test',
      temperature: 0,
      messages: [
        { role: 'system', content: 'You are an SRE.' },
        { role: 'user', content: 'nginx down' },
      ],
    });
  });

  it('offers tools and returns the model’s tool calls with parsed arguments', async () => {
    replies.push(
      json(
        200,
        completion(
          {
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_cmdb', arguments: '{"tagId":"web-01"}' } }],
          },
          'tool_calls',
        ),
      ),
    );
    const answer = await provider().chat({
      messages: [{ role: 'user', content: 'who owns web-01?' }],
      tools: [
        {
          name: 'lookup_cmdb',
          description: 'Find a CMDB item',
          parameters: { type: 'object', properties: { tagId: { type: 'string' } }, required: ['tagId'] },
        },
      ],
    });
    expect(answer.toolCalls).toEqual([{ id: 'call_1', name: 'lookup_cmdb', arguments: { tagId: 'web-01' } }]);
    expect(requests[0]!.body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'lookup_cmdb',
          description: 'Find a CMDB item',
          parameters: { type: 'object', properties: { tagId: { type: 'string' } }, required: ['tagId'] },
        },
      },
    ]);
  });

  it('streams text and tool-call deltas into the same result', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'openai/gpt-test',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    replies.push(
      sse([
        { data: chunk({ role: 'assistant', content: 'Check ' }) },
        { data: chunk({ content: 'the disk.' }) },
        {
          data: chunk({
            tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'run_diagnostic', arguments: '{"comm' } }],
          }),
        },
        { data: chunk({ tool_calls: [{ index: 0, function: { arguments: 'and":"df -P /"}' } }] }, 'tool_calls') },
        {
          data: {
            id: 'c',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'openai/gpt-test',
            choices: [],
            usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 },
          },
        },
        { data: '[DONE]' },
      ]),
    );
    const seen: string[] = [];
    const answer = await provider().chat({ messages: [{ role: 'user', content: 'disk?' }], stream: true, onText: (d) => seen.push(d) });
    expect(seen).toEqual(['Check ', 'the disk.']);
    expect(answer).toMatchObject({
      content: 'Check the disk.',
      toolCalls: [{ id: 'call_9', name: 'run_diagnostic', arguments: { command: 'df -P /' } }],
      usage: { inputTokens: 7, outputTokens: 9 },
      finishReason: 'tool_calls',
    });
    expect(requests[0]!.body).toMatchObject({ stream: true });
  });

  it('classifies 401 as permanent and 429 / 500 as retryable, honouring Retry-After', async () => {
    replies.push(json(401, { error: { message: 'invalid api key' } }));
    const unauthorized = await provider()
      .chat({ messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(unauthorized).toBeInstanceOf(LlmError);
    expect(unauthorized).toMatchObject({ retryable: false, status: 401 });

    replies.push(json(429, { error: { message: 'slow down' } }, { 'retry-after': '7' }));
    expect(
      await provider()
        .chat({ messages: [{ role: 'user', content: 'x' }] })
        .catch((err: unknown) => err),
    ).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 });

    replies.push(json(500, { error: { message: 'upstream exploded' } }));
    expect(
      await provider()
        .chat({ messages: [{ role: 'user', content: 'x' }] })
        .catch((err: unknown) => err),
    ).toMatchObject({ retryable: true, status: 500 });
  });
});

describe('Anthropic adapter', () => {
  const provider = () => new AnthropicProvider({ apiKey: 'sk-ant-test-000000000000000000000', model: 'claude-test', baseURL: baseUrl });
  const message = (content: unknown[], stop = 'end_turn') => ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-test',
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 6 },
  });

  it('sends the Messages request with the system prompt apart and reads text', async () => {
    replies.push(json(200, message([{ type: 'text', text: 'Free some disk space.' }])));
    const answer = await provider().chat({
      messages: [
        { role: 'system', content: 'You are an SRE.' },
        { role: 'user', content: 'disk full' },
      ],
      maxTokens: 300,
    });
    expect(answer).toEqual({
      content: 'Free some disk space.',
      toolCalls: [],
      model: 'claude-test',
      usage: { inputTokens: 20, outputTokens: 6 },
      finishReason: 'end_turn',
    });
    expect(requests[0]!.path).toBe('/v1/messages');
    // The SDK authenticates with x-api-key or, in newer releases, a bearer token: either carries the key.
    expect(requests[0]!.headers['x-api-key'] ?? requests[0]!.headers.authorization).toMatch(/sk-ant-test-000000000000000000000$/);
    // The dated API version every Messages request must name (its value is the SDK's to choose).
    expect(requests[0]!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(requests[0]!.body).toMatchObject({
      model: 'claude-test',
      max_tokens: 300,
      system: 'You are an SRE.',
      messages: [{ role: 'user', content: 'disk full' }],
    });
  });

  it('maps tools, tool results and tool_use blocks', async () => {
    replies.push(json(200, message([{ type: 'tool_use', id: 'toolu_1', name: 'lookup_cmdb', input: { tagId: 'db-01' } }], 'tool_use')));
    const answer = await provider().chat({
      messages: [
        { role: 'user', content: 'owner of db-01?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_0', name: 'search_kb', arguments: { q: 'db' } }] },
        { role: 'tool', toolCallId: 'toolu_0', content: 'no results' },
      ],
      tools: [
        { name: 'lookup_cmdb', description: 'Find a CMDB item', parameters: { type: 'object', properties: { tagId: { type: 'string' } } } },
      ],
    });
    expect(answer.toolCalls).toEqual([{ id: 'toolu_1', name: 'lookup_cmdb', arguments: { tagId: 'db-01' } }]);
    expect(requests[0]!.body.tools).toEqual([
      { name: 'lookup_cmdb', description: 'Find a CMDB item', input_schema: { type: 'object', properties: { tagId: { type: 'string' } } } },
    ]);
    expect((requests[0]!.body.messages as unknown[]).slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'search_kb', input: { q: 'db' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'no results' }] },
    ]);
  });

  it('streams server-sent events into the same result', async () => {
    replies.push(
      sse([
        {
          event: 'message_start',
          data: { type: 'message_start', message: { ...message([]), stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } },
        },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Rotate ' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'the logs.' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        {
          event: 'message_delta',
          data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } },
        },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]),
    );
    const seen: string[] = [];
    const answer = await provider().chat({ messages: [{ role: 'user', content: 'logs?' }], stream: true, onText: (d) => seen.push(d) });
    expect(seen).toEqual(['Rotate ', 'the logs.']);
    expect(answer).toMatchObject({ content: 'Rotate the logs.', finishReason: 'end_turn', usage: { inputTokens: 9, outputTokens: 4 } });
  });

  it('classifies errors like the other adapter', async () => {
    replies.push(json(403, { type: 'error', error: { type: 'permission_error', message: 'no access' } }));
    expect(
      await provider()
        .chat({ messages: [{ role: 'user', content: 'x' }] })
        .catch((err: unknown) => err),
    ).toMatchObject({ retryable: false, status: 403 });
    replies.push(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'overloaded' } }, { 'retry-after': '3' }));
    expect(
      await provider()
        .chat({ messages: [{ role: 'user', content: 'x' }] })
        .catch((err: unknown) => err),
    ).toMatchObject({ retryable: true, status: 529, retryAfterMs: 3000 });
  });
});

describe('structured output', () => {
  const Plan = z.object({ rootCause: z.string().min(3), commands: z.array(z.string()).min(1), risk: z.enum(['low', 'high']) }).strict();

  it('validates against the zod schema, retries once with the error, and redacts what it sends', async () => {
    const openai: LlmProvider = new OpenAiCompatibleProvider({ apiKey: 'k', model: 'm', baseURL: `${baseUrl}/v1` });
    const reply = (content: string): Reply =>
      json(200, {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      });
    replies.push(
      reply('{"rootCause":"disk","commands":[]}'),
      reply('```json\n{"rootCause":"disk full","commands":["df -P /"],"risk":"low"}\n```'),
    );
    const { value, responses } = await completeStructured(
      openai,
      [{ role: 'user', content: 'password=hunter2 disk is full' }],
      Plan,
      'plan',
    );
    expect(value).toEqual({ rootCause: 'disk full', commands: ['df -P /'], risk: 'low' });
    expect(responses).toHaveLength(2);
    expect(requests[0]!.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'plan', schema: { type: 'object' } },
    });
    expect(JSON.stringify(requests[0]!.body)).not.toContain('hunter2');
    expect(JSON.stringify((requests[1]!.body.messages as unknown[]).at(-1))).toContain('does not match the required JSON schema');

    replies.push(reply('not json'), reply('{"still":"wrong"}'));
    await expect(completeStructured(openai, [{ role: 'user', content: 'x' }], Plan, 'plan')).rejects.toBeInstanceOf(StructuredOutputError);
  });

  it('uses a forced respond tool with Anthropic', async () => {
    const anthropic = new AnthropicProvider({ apiKey: 'k', model: 'claude-test', baseURL: baseUrl });
    replies.push(
      json(200, {
        id: 'm',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [{ type: 'tool_use', id: 't', name: 'respond', input: { rootCause: 'port taken', commands: ['ss -ltnp'], risk: 'high' } }],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 },
      }),
    );
    const { value } = await completeStructured(anthropic, [{ role: 'user', content: 'bind failed' }], Plan, 'plan');
    expect(value.risk).toBe('high');
    expect(requests[0]!.body.tool_choice).toEqual({ type: 'tool', name: 'respond' });
  });
});
