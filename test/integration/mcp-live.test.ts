import { afterAll, describe, expect, it } from 'vitest';
import { createMcpServerConnections } from '../../adapters/mcp/create.js';
import { loadConfig } from '../../config.js';
import { loadMcpChatTools } from '../../tools/mcp-tools.js';
import { createToolRegistry } from '../../tools/registry.js';

// Real MCP servers' tools through adapters/mcp: listed, rated, their schemas converted and described
// to the model. Nothing is called (a real server's tools may change things). Runs only when
// INFRAAI_TEST_MCP_SERVERS holds servers in INFRAAI_MCP_SERVERS's format (see the README).
const servers = process.env.INFRAAI_TEST_MCP_SERVERS
  ? loadConfig({ INFRAAI_MCP_SERVERS: process.env.INFRAAI_TEST_MCP_SERVERS }).mcp.servers
  : [];

if (servers.length > 0) {
  const connections = createMcpServerConnections(servers, 'live-test');
  afterAll(() => Promise.all(connections.map((connection) => connection.close())));

  describe(`live MCP servers (${servers.map((server) => server.name).join(', ')})`, () => {
    it('lists every server’s tools as chat tools the registry can describe', async () => {
      const logs: string[] = [];
      const { tools, unavailable } = await loadMcpChatTools(connections, { log: (line) => logs.push(line) });
      expect(unavailable).toEqual([]);
      for (const server of servers)
        expect(
          tools.some((tool) => tool.name.startsWith(`mcp_${server.name}_`)),
          server.name,
        ).toBe(true);
      for (const tool of tools) expect(tool.name).toMatch(/^mcp_[a-z0-9_]{1,60}$/);
      const described = createToolRegistry(tools).describe({ tenantId: 'live', userId: 'live', role: 'admin' });
      expect(described.map((tool) => tool.name).sort()).toEqual(tools.map((tool) => tool.name).sort());
      for (const tool of described) expect(tool.parameters).toMatchObject({ type: 'object' });
      console.info(
        `[mcp live] ${tools.length} tools: ${tools.map((tool) => tool.name).join(', ')}${logs.length ? `\n${logs.join('\n')}` : ''}`,
      );
    });
  });
} else {
  console.info('Live MCP test skipped: set INFRAAI_TEST_MCP_SERVERS (INFRAAI_MCP_SERVERS format) to list real servers’ tools.');
  describe.skip('live MCP servers (not configured)', () => undefined);
}
