import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import { McpServerError, type McpServerConnection, type McpServerSettings, type RemoteTool, type RemoteToolResult } from './port.js';

// An external MCP server through the SDK's Client over streamable HTTP. The session opens on first
// use; a server that forgot it (restarted, expired it: HTTP 404 per the spec) refused the request
// before running anything, so one new session and one retry are safe, even for a call that changes things.

/** Pages of tools/list read at most: a server whose cursor never ends cannot hold us. */
const MAX_TOOL_PAGES = 50;

export class SdkMcpServerConnection implements McpServerConnection {
  private session: Promise<{ client: Client; transport: StreamableHTTPClientTransport }> | null = null;

  constructor(
    readonly settings: McpServerSettings,
    private readonly clientVersion: string,
  ) {}

  async listTools(signal?: AbortSignal): Promise<RemoteTool[]> {
    return this.withClient(signal, async (client) => {
      const tools: RemoteTool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await client.listTools(cursor ? { cursor } : undefined, this.requestOptions(signal));
        for (const tool of result.tools) {
          tools.push({
            name: tool.name,
            description: tool.description ?? tool.title ?? tool.name,
            inputSchema: tool.inputSchema as Record<string, unknown>,
            annotations: { ...tool.annotations },
          });
        }
        cursor = result.nextCursor;
        if (!cursor) return tools;
      }
      throw new McpServerError(this.settings.name, `tools/list did not end after ${MAX_TOOL_PAGES} pages`, false);
    });
  }

  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<RemoteToolResult> {
    return this.withClient(signal, async (client) => {
      const result = (await client.callTool({ name, arguments: args }, undefined, this.requestOptions(signal))) as CallToolResult & {
        toolResult?: unknown;
      };
      // Servers of protocol 2024-10-07 answer `toolResult` instead of content.
      if (result.toolResult !== undefined && result.content === undefined) {
        return { text: JSON.stringify(result.toolResult), structured: null, isError: false };
      }
      return {
        text: contentText(result.content ?? []),
        structured: result.structuredContent ?? null,
        isError: result.isError === true,
      };
    });
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (!session) return;
    const opened = await session.catch(() => null);
    if (!opened) return;
    // Ending the session is a courtesy; a server without sessions answers 405.
    await opened.transport.terminateSession().catch(() => undefined);
    await opened.client.close();
  }

  private requestOptions(signal: AbortSignal | undefined) {
    return { timeout: this.settings.timeoutMs, ...(signal ? { signal } : {}) };
  }

  private open(signal: AbortSignal | undefined): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    if (this.session) return this.session;
    const { url, headers, bearerToken } = this.settings;
    const session = (async () => {
      const client = new Client({ name: 'infraai', version: this.clientVersion }, { capabilities: {} });
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { ...headers, ...(bearerToken ? { authorization: `Bearer ${bearerToken}` } : {}) } },
      });
      await client.connect(transport, this.requestOptions(signal));
      return { client, transport };
    })();
    this.session = session;
    // A failed connect is not kept: the next use tries again.
    session.catch(() => {
      if (this.session === session) this.session = null;
    });
    return session;
  }

  private async withClient<T>(signal: AbortSignal | undefined, use: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.open(signal);
      try {
        return await use((await session).client);
      } catch (err) {
        if (attempt === 1 && err instanceof StreamableHTTPError && err.code === 404 && (await session.catch(() => null))) {
          if (this.session === session) this.session = null;
          await (await session).client.close().catch(() => undefined);
          continue;
        }
        throw this.failure(err);
      }
    }
  }

  private failure(err: unknown): McpServerError {
    const server = this.settings.name;
    if (err instanceof McpServerError) return err;
    if (err instanceof UnauthorizedError) return new McpServerError(server, 'refused our credentials (HTTP 401)', false, 401);
    if (err instanceof StreamableHTTPError) {
      const status = err.code !== undefined && err.code > 0 ? err.code : undefined;
      if (status === 401 || status === 403) {
        return new McpServerError(server, `refused our credentials (HTTP ${status}): check its bearerToken or headers`, false, status);
      }
      const retryable = status === undefined || status === 429 || status >= 500;
      return new McpServerError(server, bounded(err.message), retryable, status);
    }
    if (err instanceof McpError) {
      const retryable = err.code === (ErrorCode.RequestTimeout as number) || err.code === (ErrorCode.ConnectionClosed as number);
      return new McpServerError(server, bounded(err.message), retryable);
    }
    if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
      return new McpServerError(server, 'the request was cancelled or timed out', true);
    }
    // fetch's network failures (refused, reset, DNS) are TypeErrors.
    if (err instanceof TypeError) return new McpServerError(server, `unreachable: ${bounded(causeText(err))}`, true);
    return new McpServerError(server, bounded(err instanceof Error ? err.message : String(err)), false);
  }
}

function contentText(content: ContentBlock[]): string {
  return content
    .map((item) => {
      switch (item.type) {
        case 'text':
          return item.text;
        case 'resource_link':
          return `${item.title ?? item.name}: ${item.uri}`;
        case 'resource':
          return 'text' in item.resource ? item.resource.text : `[binary resource ${item.resource.uri}]`;
        case 'image':
        case 'audio':
          return `[${item.type} ${item.mimeType}]`;
        default:
          return '';
      }
    })
    .filter((text) => text !== '')
    .join('\n');
}

function causeText(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

function bounded(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
