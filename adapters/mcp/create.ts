import type { McpServerConnection, McpServerSettings } from './port.js';
import { SdkMcpServerConnection } from './sdk-client.js';

/**
 * One connection per configured external MCP server (config.mcp.servers). Nothing is sent here: a
 * connection opens its session on first use, so a server that is down delays nothing at start.
 */
export function createMcpServerConnections(servers: readonly McpServerSettings[], clientVersion: string): McpServerConnection[] {
  return servers.map((settings) => new SdkMcpServerConnection(settings, clientVersion));
}
