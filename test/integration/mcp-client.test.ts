import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpServerConnections } from '../../adapters/mcp/create.js';
import type { McpServerConnection, McpServerSettings } from '../../adapters/mcp/port.js';
import { loadMcpChatTools, mcpChatTool, type LoadedMcpTools } from '../../tools/mcp-tools.js';
import { createToolRegistry, type ToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, ToolRefusedError, type ToolCaller, type ToolRunContext } from '../../tools/tool.js';
import { listenLocal, localUrl } from '../support/local-server.js';

// An external MCP server (the SDK's McpServer over its streamable HTTP transport, with sessions and
// a bearer token) used through adapters/mcp and tools/mcp-tools.ts: its tools become chat tools,
// read-only ones run at once, the rest need a confirmation or are forbidden, per the policy.

const TOKEN = 'tracker-token-7f3a';
const received: { tool: string; args: Record<string, unknown> }[] = [];
const sessions = new Map<string, StreamableHTTPServerTransport>();
let http: Server;
let url: string;
const opened: McpServerConnection[] = [];

const operator: ToolCaller = { tenantId: 't-1', userId: 'api-key:1', role: 'operator' };
const viewer: ToolCaller = { ...operator, role: 'viewer' };

function buildTracker(): McpServer {
  const server = new McpServer({ name: 'tracker', version: '3.1.0' });
  const record = (tool: string, args: Record<string, unknown>) => received.push({ tool, args });
  server.registerTool(
    'search_docs',
    {
      description: 'Searches the runbook wiki.',
      inputSchema: { query: z.string().min(2).describe('Words to look for'), limit: z.number().int().min(1).max(20).default(5) },
      annotations: { readOnlyHint: true },
    },
    (args) => {
      record('search_docs', args);
      return { content: [{ type: 'text', text: `2 pages match "${args.query}": Disk full on /var; Log rotation` }] };
    },
  );
  server.registerTool(
    'add_comment',
    {
      description: 'Adds a comment to an issue.',
      inputSchema: { issue: z.string(), body: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: false },
    },
    (args) => {
      record('add_comment', args);
      return {
        content: [
          { type: 'text', text: `Commented on ${args.issue}.` },
          { type: 'resource_link', uri: `https://tracker.example.test/${args.issue}#c1`, name: 'comment' },
        ],
        structuredContent: { commentId: 'c1' },
      };
    },
  );
  server.registerTool(
    'close_issue',
    { description: 'Closes an issue.', inputSchema: { issue: z.string() }, annotations: { destructiveHint: true } },
    (args) => {
      record('close_issue', args);
      return { content: [{ type: 'text', text: `Closed ${args.issue}.` }] };
    },
  );
  server.registerTool(
    'delete_repo',
    {
      description: 'Deletes a repository.',
      inputSchema: { repo: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: true },
    },
    (args) => {
      record('delete_repo', args);
      return { content: [{ type: 'text', text: 'deleted' }] };
    },
  );
  // No hints at all: by the spec's defaults it may destroy.
  server.registerTool('get-page.v2', { description: 'Gets a wiki page.', inputSchema: { id: z.string() } }, (args) => {
    record('get-page.v2', args);
    return { content: [{ type: 'text', text: 'page' }] };
  });
  server.registerTool(
    'broken_lookup',
    { description: 'Looks something up upstream.', inputSchema: { key: z.string() }, annotations: { readOnlyHint: true } },
    (args) => {
      record('broken_lookup', args);
      return { isError: true, content: [{ type: 'text', text: 'upstream answered 500' }] };
    },
  );
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
  if (!transport) {
    if (typeof sessionId === 'string') {
      // The spec's answer to a session the server no longer has: the client must start a new one.
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    const fresh = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void sessions.set(id, fresh),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await buildTracker().connect(fresh);
    transport = fresh;
  }
  await transport.handleRequest(req, res);
}

function settings(overrides: Partial<McpServerSettings> = {}): McpServerSettings {
  return {
    name: 'tracker',
    url: `${url}/mcp`,
    headers: {},
    bearerToken: TOKEN,
    allowMutating: ['close_issue'],
    timeoutMs: 5000,
    ...overrides,
  };
}

async function load(overrides: Partial<McpServerSettings> = {}): Promise<LoadedMcpTools & { logs: string[] }> {
  const connections = createMcpServerConnections([settings(overrides)], 'test');
  opened.push(...connections);
  const logs: string[] = [];
  return { ...(await loadMcpChatTools(connections, { log: (line) => logs.push(line) })), logs };
}

function context(caller: ToolCaller): ToolRunContext {
  return {
    caller,
    signal: new AbortController().signal,
    callKey: `test/${randomUUID()}`,
    integration: () => Promise.reject(new Error('no integration in this test')),
  };
}

async function registry(): Promise<ToolRegistry> {
  return createToolRegistry((await load()).tools);
}

beforeAll(async () => {
  http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await listenLocal(http);
  url = localUrl(http);
});

beforeEach(() => {
  received.length = 0;
});

afterAll(async () => {
  await Promise.all(opened.map((connection) => connection.close()));
  await Promise.all([...sessions.values()].map((transport) => transport.close()));
  http?.closeAllConnections();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

describe('external MCP servers as chat tools', () => {
  it('wraps each listed tool as mcp_<server>_<tool>, rated by its hints and the policy', async () => {
    const { tools, unavailable, logs } = await load({ allowMutating: ['close_issue', 'reopen_issue'] });
    expect(unavailable).toEqual([]);
    const rated = Object.fromEntries(await Promise.all(tools.map(async (tool) => [tool.name, [await tool.risk({}, operator), tool.role]])));
    expect(rated).toEqual({
      mcp_tracker_search_docs: ['read', 'viewer'],
      mcp_tracker_broken_lookup: ['read', 'viewer'],
      // Not read-only but says it does not destroy: confirmed per call.
      mcp_tracker_add_comment: ['change', 'operator'],
      // Destructive, but the policy lets it change things: confirmed per call.
      mcp_tracker_close_issue: ['change', 'operator'],
      mcp_tracker_delete_repo: ['forbidden', 'operator'],
      // No hints: destructive by the spec's defaults.
      mcp_tracker_get_page_v2: ['forbidden', 'operator'],
    });
    expect(logs).toEqual(['[mcp] tracker: allowMutating names reopen_issue, which the server does not list']);
    expect(tools.find((tool) => tool.name === 'mcp_tracker_add_comment')!.description).toMatch(
      /^Adds a comment to an issue\.\n\n\(Tool add_comment of the external MCP server tracker\. It changes something/,
    );
  });

  it('shows the model each tool’s schema, and only the read-only ones to a viewer', async () => {
    const tools = await registry();
    expect(
      tools
        .describe(viewer)
        .map((tool) => tool.name)
        .sort(),
    ).toEqual(['mcp_tracker_broken_lookup', 'mcp_tracker_search_docs']);
    const search = tools.describe(viewer).find((tool) => tool.name === 'mcp_tracker_search_docs')!;
    expect(search).toMatchObject({ mutating: false });
    expect(search.parameters).toMatchObject({
      type: 'object',
      properties: { query: { type: 'string', minLength: 2, description: 'Words to look for' }, limit: { type: 'integer', default: 5 } },
      required: ['query'],
    });
  });

  it('runs a read-only tool at once, and validates its arguments before sending anything', async () => {
    const tools = await registry();
    const call = await tools.prepare('mcp_tracker_search_docs', { query: 'disk full' }, viewer);
    expect(call.risk).toBe('read');
    const result = await tools.run(call, context(viewer));
    expect(result.content).toBe('2 pages match "disk full": Disk full on /var; Log rotation');
    expect(received).toEqual([{ tool: 'search_docs', args: { query: 'disk full', limit: 5 } }]);

    await expect(tools.prepare('mcp_tracker_search_docs', { query: 'x' }, viewer)).rejects.toMatchObject({
      reason: 'invalid_arguments',
      message: expect.stringMatching(/query/),
    });
    await expect(tools.prepare('mcp_tracker_search_docs', { query: 'disk', limit: 99 }, viewer)).rejects.toBeInstanceOf(ToolRefusedError);
    expect(received).toHaveLength(1);
  });

  it('runs a tool that is not read-only only with the confirmation of that exact call, once', async () => {
    const tools = await registry();
    const call = await tools.prepare('mcp_tracker_add_comment', { issue: 'OPS-7', body: 'Restarted nginx.' }, operator);
    expect(call.risk).toBe('change');
    await expect(tools.run(call, context(operator))).rejects.toMatchObject({ reason: 'confirmation' });
    await expect(tools.run(call, context(operator), 'f'.repeat(64))).rejects.toMatchObject({ reason: 'confirmation' });
    expect(received).toEqual([]);

    const result = await tools.run(call, context(operator), call.hash);
    expect(result).toEqual({ content: 'Commented on OPS-7.\ncomment: https://tracker.example.test/OPS-7#c1', data: { commentId: 'c1' } });
    expect(received).toEqual([{ tool: 'add_comment', args: { issue: 'OPS-7', body: 'Restarted nginx.' } }]);

    await expect(tools.prepare('mcp_tracker_add_comment', { issue: 'OPS-7', body: 'x' }, viewer)).rejects.toMatchObject({ reason: 'role' });
  });

  it('never runs a forbidden tool, confirmed or not', async () => {
    const tools = await registry();
    for (const [name, args] of [
      ['mcp_tracker_delete_repo', { repo: 'infra' }],
      ['mcp_tracker_get_page_v2', { id: 'p1' }],
    ] as const) {
      const call = await tools.prepare(name, args, operator);
      expect(call.risk).toBe('forbidden');
      await expect(tools.run(call, context(operator), call.hash)).rejects.toMatchObject({ reason: 'forbidden' });
    }
    expect(received).toEqual([]);
  });

  it('turns a tool’s isError into a failure the agent reads', async () => {
    const tools = await registry();
    const call = await tools.prepare('mcp_tracker_broken_lookup', { key: 'a' }, viewer);
    const failure = await tools.run(call, context(viewer)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ToolFailedError);
    expect(failure).toMatchObject({ retryable: false, message: 'tracker/broken_lookup reported an error: upstream answered 500' });
  });

  it('opens a new session when the server forgot the old one, and the call runs once', async () => {
    const tools = await registry();
    const call = await tools.prepare('mcp_tracker_search_docs', { query: 'nginx' }, viewer);
    await tools.run(call, context(viewer));
    const before = sessions.size;
    expect(before).toBeGreaterThan(0);
    // The server restarts: every session it held is gone.
    await Promise.all([...sessions.values()].map((transport) => transport.close()));
    sessions.clear();
    received.length = 0;

    expect((await tools.run(call, context(viewer))).content).toMatch(/match "nginx"/);
    expect(received).toEqual([{ tool: 'search_docs', args: { query: 'nginx', limit: 5 } }]);
    expect(sessions.size).toBe(1);
  });

  it('leaves out a server that refuses our token or cannot be reached, saying why without the secret', async () => {
    const refused = await load({ bearerToken: 'wrong-token-123' });
    expect(refused.tools).toEqual([]);
    expect(refused.unavailable).toEqual([
      { server: 'tracker', error: expect.stringMatching(/^MCP server tracker: refused our credentials \(HTTP 401\)/) },
    ]);
    expect(JSON.stringify(refused)).not.toContain('wrong-token-123');

    const closed = createServer();
    await listenLocal(closed);
    const deadUrl = `${localUrl(closed)}/mcp`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await load({ name: 'down', url: deadUrl });
    expect(down.unavailable).toEqual([{ server: 'down', error: expect.stringMatching(/^MCP server down: unreachable/) }]);
    expect(down.logs).toEqual([expect.stringMatching(/^\[mcp\] MCP server down: unreachable.*its tools are not offered to chat$/)]);
  });

  it('reports an unreachable server on a call as a retryable failure for a read, not for a change', async () => {
    const [connection] = createMcpServerConnections([settings({ url: 'http://127.0.0.1:9/mcp' })], 'test');
    opened.push(connection!);
    const read = mcpChatTool(connection!, {
      name: 'search_docs',
      description: 'Searches.',
      inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
      annotations: { readOnlyHint: true },
    });
    const change = mcpChatTool(connection!, {
      name: 'close_issue',
      description: 'Closes.',
      inputSchema: { type: 'object' },
      annotations: {},
    });
    await expect(read.run({ query: 'x' }, context(viewer))).rejects.toMatchObject({ name: 'ToolFailedError', retryable: true });
    await expect(change.run({}, context(operator))).rejects.toMatchObject({ name: 'ToolFailedError', retryable: false });
  });
});
