import { createHash } from 'node:crypto';
import { z } from 'zod';
import { McpServerError, type McpServerConnection, type RemoteTool } from '../adapters/mcp/port.js';
import { ToolFailedError, type ChatTool, type ToolRisk } from './tool.js';

// External MCP servers' tools as chat tools (`mcp_<server>_<tool>`). The server's annotations are
// hints from someone else's code, so they are trusted only in the safe direction: a tool runs
// without a confirmation only if the server says it merely reads; the per-server policy
// (`allowMutating`) is what lets a tool change things, and then every call is confirmed; a tool the
// server does not call read-only and the policy does not list is forbidden when it may destroy
// (the spec's default for a tool without hints) and confirmed when the server says it only adds.

export type RemoteArgs = Record<string, unknown>;

/** How much of a remote result the model reads; the rest is cut with a note. */
const MAX_RESULT_CHARS = 16_000;
/** Longest tool name the model APIs accept (OpenAI: 64). */
const MAX_TOOL_NAME = 64;

export function rateRemoteTool(tool: RemoteTool, allowMutating: readonly string[]): ToolRisk {
  if (allowMutating.includes(tool.name)) return 'change';
  if (tool.annotations.readOnlyHint === true) return 'read';
  return tool.annotations.destructiveHint === false ? 'change' : 'forbidden';
}

/** `mcp_<server>_<tool>` in snake_case, at most 64 characters (a long name keeps a hash of the original). */
export function chatToolName(server: string, tool: string): string {
  const snake = tool
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const name = `mcp_${server}_${snake || 'tool'}`;
  if (name.length <= MAX_TOOL_NAME) return name;
  const suffix = createHash('sha256').update(tool).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME - suffix.length - 1)}_${suffix}`;
}

/**
 * A validator for the server's JSON Schema: zod 4's z.fromJSONSchema when it converts the schema
 * (and the result converts back, as the registry describes it to the model); otherwise any object
 * passes, the server validates, and the model still sees the server's schema (kept as metadata).
 */
export function remoteInputSchema(schema: Record<string, unknown>): { input: z.ZodType<RemoteArgs>; exact: boolean } {
  try {
    const converted = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0], { defaultTarget: 'draft-2020-12' });
    z.toJSONSchema(converted, { target: 'draft-7', io: 'input' });
    return { input: converted as z.ZodType<RemoteArgs>, exact: true };
  } catch {
    const { $schema: _dialect, ...described } = schema;
    return { input: z.looseObject({}).meta(described), exact: false };
  }
}

export function mcpChatTool(connection: McpServerConnection, remote: RemoteTool): ChatTool<RemoteArgs> {
  const server = connection.settings.name;
  const risk = rateRemoteTool(remote, connection.settings.allowMutating);
  const note =
    risk === 'read'
      ? ''
      : risk === 'change'
        ? ' It changes something: each call is proposed and runs after the user confirms it.'
        : ' Policy forbids it (the server does not say it only reads or only adds): it never runs.';
  return {
    name: chatToolName(server, remote.name),
    description: `${remote.description}\n\n(Tool ${remote.name} of the external MCP server ${server}.${note})`,
    input: remoteInputSchema(remote.inputSchema).input,
    role: risk === 'read' ? 'viewer' : 'operator',
    risk: () => risk,
    async run(args, context) {
      let result;
      try {
        result = await connection.callTool(remote.name, args, context.signal);
      } catch (err) {
        if (!(err instanceof McpServerError)) throw err;
        // MCP has no idempotency key: a call that changes something is retried only when the server
        // said it did not take it (429); after a timeout or a reset it may have run.
        const retryable = risk === 'read' ? err.retryable : err.status === 429;
        throw new ToolFailedError(err.message, retryable, err.status);
      }
      if (result.isError) throw new ToolFailedError(`${server}/${remote.name} reported an error: ${bounded(result.text)}`, false);
      return { content: bounded(result.text || '(no content)'), ...(result.structured ? { data: result.structured } : {}) };
    },
  };
}

export interface LoadedMcpTools {
  tools: ChatTool<RemoteArgs>[];
  /** Servers whose tools could not be listed (down, refused our credentials): their tools are not offered. */
  unavailable: { server: string; error: string }[];
}

/**
 * Lists every configured server's tools (concurrently) and wraps them. A server that cannot be
 * listed is left out and reported, so chat starts without it; call again to pick up its tools.
 */
export async function loadMcpChatTools(
  connections: readonly McpServerConnection[],
  options: { log?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<LoadedMcpTools> {
  const log = options.log ?? ((line: string) => console.warn(line));
  const listed = await Promise.allSettled(connections.map((connection) => connection.listTools(options.signal)));
  const loaded: LoadedMcpTools = { tools: [], unavailable: [] };
  const names = new Set<string>();
  listed.forEach((outcome, index) => {
    const connection = connections[index]!;
    const server = connection.settings.name;
    if (outcome.status === 'rejected') {
      const error = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      log(`[mcp] ${error}; its tools are not offered to chat`);
      loaded.unavailable.push({ server, error });
      return;
    }
    for (const missing of connection.settings.allowMutating.filter((name) => !outcome.value.some((tool) => tool.name === name))) {
      log(`[mcp] ${server}: allowMutating names ${missing}, which the server does not list`);
    }
    for (const remote of outcome.value) {
      if (remote.inputSchema.type !== 'object') {
        log(`[mcp] ${server}/${remote.name} is not offered: its input schema is not an object`);
        continue;
      }
      const tool = mcpChatTool(connection, remote);
      if (names.has(tool.name)) {
        log(`[mcp] ${server}/${remote.name} is not offered: another tool of ${server} is also named ${tool.name} in chat`);
        continue;
      }
      names.add(tool.name);
      loaded.tools.push(tool);
    }
  });
  return loaded;
}

function bounded(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}\n[cut: the result had ${text.length} characters]` : text;
}
