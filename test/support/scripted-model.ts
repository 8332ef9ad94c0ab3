import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A model server for tests: speaks OpenAI chat completions (POST …/chat/completions) and Anthropic
// messages (POST …/messages), streaming or not, text and tool calls, and answers each request with
// the next reply of its script. It records every request it received, so a test can assert what
// the model was shown (the knowledge search result, the tool results, the tools offered).

export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: unknown;
}

export interface ScriptedAnswer {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  usage?: { input: number; output: number };
  /** Wait before answering (ms). */
  delayMs?: number;
  /** Wait between streamed text chunks (ms). */
  chunkDelayMs?: number;
  /** Answer with this HTTP error instead (429, 500, 401…). */
  error?: { status: number; message: string; retryAfterSeconds?: number };
}

export interface ReceivedModelRequest {
  protocol: 'openai' | 'anthropic';
  path: string;
  body: Record<string, unknown>;
  /** The text of every message the model was sent, in order (system, user, assistant, tool results). */
  transcript: string[];
  at: number;
  /** Wall time the request was read (ms, sub-ms precision). */
  receivedAt: number;
  /** Wall time (ms, sub-ms precision) each streamed text chunk was written, for latency benchmarks. */
  textAt: number[];
  /** Wall time the answer was complete (ms, sub-ms precision); null until then. */
  endedAt: number | null;
}

export type ScriptedReply = ScriptedAnswer | ((request: ReceivedModelRequest) => ScriptedAnswer);

export interface ScriptedModelServer {
  /** Base URL for OpenAiCompatibleProvider (`…/v1`) and AnthropicProvider (the root). */
  openAiBaseUrl: string;
  anthropicBaseUrl: string;
  requests: ReceivedModelRequest[];
  /** Appends replies; each request takes the next one (a request with none left gets a 500). */
  script(...replies: ScriptedReply[]): void;
  /** Replies not yet taken. */
  pending(): number;
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wall-clock milliseconds with performance.now()'s precision (comparable across processes on one machine). */
export const wallClockMs = () => performance.timeOrigin + performance.now();

/** Splits text into small chunks the way providers stream it (a word or so at a time). */
function chunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function transcriptOf(protocol: 'openai' | 'anthropic', body: Record<string, unknown>): string[] {
  const texts: string[] = [];
  if (typeof body.system === 'string') texts.push(body.system);
  for (const message of (body.messages as { content: unknown; tool_calls?: unknown }[] | undefined) ?? []) {
    const { content } = message;
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const block of content as Record<string, unknown>[]) {
        if (typeof block.text === 'string') texts.push(block.text);
        if (typeof block.content === 'string') texts.push(block.content);
        if (block.type === 'tool_use') texts.push(`call ${String(block.name)} ${JSON.stringify(block.input)}`);
      }
    }
    if (protocol === 'openai' && Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as { function: { name: string; arguments: string } }[]) {
        texts.push(`call ${call.function.name} ${call.function.arguments}`);
      }
    }
  }
  return texts;
}

export async function startScriptedModel(): Promise<ScriptedModelServer> {
  const replies: ScriptedReply[] = [];
  const requests: ReceivedModelRequest[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      void answer(req, raw, res).catch(() => res.destroy());
    });
  });

  async function answer(req: IncomingMessage, raw: string, res: ServerResponse): Promise<void> {
    const path = req.url ?? '';
    const protocol = path.endsWith('/chat/completions') ? 'openai' : path.endsWith('/messages') ? 'anthropic' : null;
    if (req.method !== 'POST' || !protocol) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    const request: ReceivedModelRequest = {
      protocol,
      path,
      body,
      transcript: transcriptOf(protocol, body),
      at: Date.now(),
      receivedAt: wallClockMs(),
      textAt: [],
      endedAt: null,
    };
    requests.push(request);
    const next = replies.shift();
    if (!next) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"the script has no reply left"}}');
      return;
    }
    const reply = typeof next === 'function' ? next(request) : next;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.error) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.error.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.error.retryAfterSeconds);
      const payload =
        protocol === 'openai'
          ? { error: { message: reply.error.message, type: 'error' } }
          : { type: 'error', error: { type: 'api_error', message: reply.error.message } };
      res.writeHead(reply.error.status, headers).end(JSON.stringify(payload));
      return;
    }
    calls += 1;
    const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({ ...call, id: call.id ?? `call_${calls}_${index}` }));
    const usage = reply.usage ?? { input: 50, output: 20 };
    const model = String(body.model ?? 'scripted');
    const stream = body.stream === true;
    if (protocol === 'openai') {
      if (stream) await openAiStream(res, model, reply, toolCalls, usage, request);
      else await openAiJson(res, model, reply, toolCalls, usage);
    } else if (stream) await anthropicStream(res, model, reply, toolCalls, usage, request);
    else await anthropicJson(res, model, reply, toolCalls, usage);
    request.endedAt = wallClockMs();
  }

  await listenLocal(server);
  const base = localUrl(server);
  return {
    openAiBaseUrl: `${base}/v1`,
    anthropicBaseUrl: base,
    requests,
    script: (...more) => void replies.push(...more),
    pending: () => replies.length,
    reset: () => {
      replies.length = 0;
      requests.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Calls = Required<ScriptedToolCall>[];
type Usage = { input: number; output: number };

async function openAiJson(res: ServerResponse, model: string, reply: ScriptedAnswer, toolCalls: Calls, usage: Usage): Promise<void> {
  const message = {
    role: 'assistant',
    content: reply.text ?? null,
    ...(toolCalls.length
      ? {
          tool_calls: toolCalls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.arguments) },
          })),
        }
      : {}),
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, finish_reason: toolCalls.length ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    }),
  );
}

async function openAiStream(
  res: ServerResponse,
  model: string,
  reply: ScriptedAnswer,
  toolCalls: Calls,
  usage: Usage,
  request: ReceivedModelRequest,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(
      `data: ${JSON.stringify({ id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`,
    );
  send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  for (const piece of chunks(reply.text ?? '')) {
    request.textAt.push(wallClockMs());
    send([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
  }
  toolCalls.forEach((c, index) =>
    send([
      {
        index: 0,
        delta: { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }] },
        finish_reason: null,
      },
    ]),
  );
  send([{ index: 0, delta: {}, finish_reason: toolCalls.length ? 'tool_calls' : 'stop' }]);
  send([], { usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
  res.end('data: [DONE]\n\n');
}

function anthropicContent(reply: ScriptedAnswer, toolCalls: Calls): Record<string, unknown>[] {
  return [
    ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
    ...toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments })),
  ];
}

async function anthropicJson(res: ServerResponse, model: string, reply: ScriptedAnswer, toolCalls: Calls, usage: Usage): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: 'msg_scripted',
      type: 'message',
      role: 'assistant',
      model,
      content: anthropicContent(reply, toolCalls),
      stop_reason: toolCalls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    }),
  );
}

async function anthropicStream(
  res: ServerResponse,
  model: string,
  reply: ScriptedAnswer,
  toolCalls: Calls,
  usage: Usage,
  request: ReceivedModelRequest,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: Record<string, unknown>) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', {
    message: {
      id: 'msg_scripted',
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: 1 },
    },
  });
  let index = 0;
  if (reply.text) {
    send('content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (const piece of chunks(reply.text)) {
      request.textAt.push(wallClockMs());
      send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
    }
    send('content_block_stop', { index });
    index += 1;
  }
  for (const c of toolCalls) {
    send('content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
    send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(c.arguments) } });
    send('content_block_stop', { index });
    index += 1;
  }
  send('message_delta', {
    delta: { stop_reason: toolCalls.length ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: usage.output },
  });
  send('message_stop', {});
  res.end();
}
