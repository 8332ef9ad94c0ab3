// The MCP client port: tools of an external MCP server (streamable HTTP), listed and called.
// sdk-client.ts speaks the protocol with @modelcontextprotocol/sdk; tools/mcp-tools.ts turns the
// listed tools into chat tools under the policy configured per server.

/** One configured external MCP server (INFRAAI_MCP_SERVERS). */
export interface McpServerSettings {
  /** Lower-case letters, digits and _; each tool's chat name is `mcp_<name>_<tool>`. */
  name: string;
  /** The streamable HTTP endpoint (`https://host/mcp`). */
  url: string;
  /** Sent with every request (an API key header, a tenant header). Values are secrets: never logged. */
  headers: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`; a secret. */
  bearerToken: string | null;
  /**
   * Tools of this server the policy lets change things (each call still confirmed by the user). A tool
   * not listed runs only if the server marks it read-only; one it marks destructive never runs.
   */
  allowMutating: string[];
  /** Per request (connect, list, call). */
  timeoutMs: number;
}

/** The server's hints about a tool (MCP ToolAnnotations); absent hints take the spec's defaults. */
export interface RemoteToolAnnotations {
  title?: string;
  /** Default false: a tool changes something unless the server says it only reads. */
  readOnlyHint?: boolean;
  /** Default true: a tool that changes something may destroy unless the server says it only adds. */
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface RemoteTool {
  name: string;
  description: string;
  /** The tool's arguments as JSON Schema (an object schema). */
  inputSchema: Record<string, unknown>;
  annotations: RemoteToolAnnotations;
}

export interface RemoteToolResult {
  /** The result's content as text (text items joined; links and other media named). */
  text: string;
  /** The server's structured content, when it sent one. */
  structured: Record<string, unknown> | null;
  /** The tool ran and reported a failure (MCP `isError`). */
  isError: boolean;
}

export interface McpServerConnection {
  readonly settings: McpServerSettings;
  /** Every tool the server lists (all pages). */
  listTools(signal?: AbortSignal): Promise<RemoteTool[]>;
  callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<RemoteToolResult>;
  close(): Promise<void>;
}

/**
 * The server could not be reached or refused the request (HTTP status, protocol error). `retryable`
 * for network failures, timeouts, 429 and 5xx; `status` is the HTTP status when there was one.
 */
export class McpServerError extends Error {
  override readonly name = 'McpServerError';
  constructor(
    readonly server: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(`MCP server ${server}: ${message}`);
  }
}
