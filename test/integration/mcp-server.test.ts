import type { ServerType } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryProposalLedger } from '../../api/mcp/proposals.js';
import type { IntegrationResolver } from '../../api/mcp/tool-calls.js';
import { listen } from '../../api/server.js';
import { INTEGRATION_SETTINGS, IntegrationNotConfiguredError, type IntegrationSettings } from '../../tools/integrations.js';
import { createToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, toolCallHash, type ChatTool } from '../../tools/tool.js';
import { sampleCmdbItem, startTestStack, type TestStack } from '../support/stack.js';

// InfraAI as an MCP server, driven by the SDK's own client over HTTP: the API's authentication, the
// role's tools, read calls at once, changes proposed and run once per matching confirmation.

let stack: TestStack;
let http: ServerType;
let mcpUrl: URL;
let clock = Date.parse('2026-12-07T02:00:00Z');
const keys: Record<'viewer' | 'operator' | 'otherOperator' | 'admin' | 'globexViewer', string> = {
  viewer: '',
  operator: '',
  otherOperator: '',
  admin: '',
  globexViewer: '',
};
const restarts: { host: string; service: string; callKey: string; by: string }[] = [];
const jiraUsers = new Set<string>();
const clients: Client[] = [];

const cmdbLookup: ChatTool<{ tagId: string }> = {
  name: 'cmdb_lookup',
  description: 'Looks a host up in the CMDB by its tag id.',
  input: z.strictObject({ tagId: z.string().min(1).describe('The CMDB tag id') }),
  role: 'viewer',
  risk: () => 'read',
  async run({ tagId }, { caller }) {
    const item = await stack.store.cmdb.get(caller.tenantId, tagId);
    if (!item) return { content: `No host is tagged ${tagId}.` };
    return {
      content: `${item.hostname} (${item.address}), ${item.environment}`,
      data: { hostname: item.hostname, address: item.address, environment: item.environment },
    };
  },
};

const restartService: ChatTool<{ host: string; service: string }> = {
  name: 'restart_service',
  description: 'Restarts a systemd service on a CMDB host.',
  input: z.strictObject({ host: z.string().min(1), service: z.string().regex(/^[a-z0-9@._-]+$/) }),
  role: 'operator',
  // The command policy's stand-in: restarting sshd could lock everyone out.
  risk: ({ service }) => (service === 'sshd' ? 'forbidden' : 'change'),
  run({ host, service }, { callKey, caller }) {
    restarts.push({ host, service, callKey, by: caller.userId });
    return Promise.resolve({
      content: `Restarted ${service} on ${host}.`,
      links: [{ title: 'Run', url: `https://infraai.example.test/runs/${restarts.length}` }],
    });
  },
};

const rotateKeys: ChatTool<Record<string, never>> = {
  name: 'rotate_api_keys',
  description: 'Rotates every API key of the tenant.',
  input: z.strictObject({}),
  role: 'admin',
  risk: () => 'change',
  run: () => Promise.resolve({ content: 'rotated' }),
};

const jiraWhoami: ChatTool<Record<string, never>> = {
  name: 'jira_whoami',
  description: 'Says which Jira site and account the caller’s settings use.',
  input: z.strictObject({}),
  integration: 'jira',
  role: 'viewer',
  risk: () => 'read',
  async run(_args, context) {
    const jira = await context.integration('jira');
    return { content: `Jira ${jira.baseUrl} as ${jira.email}` };
  },
};

const metricsQuery: ChatTool<{ promql: string }> = {
  name: 'metrics_query',
  description: 'Runs an instant PromQL query.',
  input: z.strictObject({ promql: z.string().min(1) }),
  role: 'viewer',
  risk: () => 'read',
  run: () => Promise.reject(new ToolFailedError('Prometheus answered 503', true, 503)),
};

/** Jira is configured for the operator key's user only (the integrations API's part, kept in memory here). */
const resolveIntegration: IntegrationResolver = (caller, name) => {
  if (name !== 'jira' || !jiraUsers.has(caller.userId)) return Promise.reject(new IntegrationNotConfiguredError(name));
  const jira = INTEGRATION_SETTINGS.jira.parse({
    baseUrl: 'https://acme.atlassian.net/',
    email: 'ops@acme.example',
    apiToken: 'jira-secret',
  });
  // name is 'jira' here; TypeScript does not narrow the type parameter from it.
  return Promise.resolve(jira as IntegrationSettings<typeof name>);
};

async function subjectOf(key: string): Promise<string> {
  const me = (await (await stack.call('GET', '/api/v1/me', { key })).json()) as { subject: string };
  return me.subject;
}

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'infraai-mcp-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult & { text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
  return { ...result, text };
}

beforeAll(async () => {
  stack = await startTestStack({
    mcp: {
      registry: createToolRegistry([cmdbLookup, restartService, rotateKeys, jiraWhoami, metricsQuery]),
      resolveIntegration,
      proposals: new InMemoryProposalLedger({ ttlMs: 60_000, now: () => clock }),
    },
  });
  keys.admin = stack.adminKey;
  keys.viewer = await stack.keyFor('acme', 'viewer');
  keys.operator = await stack.keyFor('acme', 'operator');
  keys.otherOperator = await stack.keyFor('acme', 'operator');
  keys.globexViewer = await stack.keyFor('globex', 'viewer');
  jiraUsers.add(await subjectOf(keys.operator));
  expect((await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('web-01') })).status).toBe(201);
  const served = await listen(stack.app.fetch, '127.0.0.1', 0);
  http = served.server;
  mcpUrl = new URL(`http://127.0.0.1:${served.port}/mcp`);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  await stack?.close();
});

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '0' } },
};

describe('/mcp authentication', () => {
  it('answers 401 problem+json without a credential or with a wrong one, and the SDK client cannot connect', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-a-key' }, { 'x-api-key': 'not-a-key' }];
    for (const headers of attempts) {
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initialize),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ status: 401, type: 'urn:infraai:problem:unauthorized' });
    }
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(mcpUrl))).rejects.toThrow(/401/);
  });

  it('takes an API key as X-API-Key too, and answers GET and DELETE with 405 (stateless: no stream, no session)', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': keys.viewer },
      body: JSON.stringify(initialize),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect(await response.json()).toMatchObject({ id: 1, result: { serverInfo: { name: 'infraai', version: 'test' } } });
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const refused = await fetch(mcpUrl, { method, headers: { authorization: `Bearer ${keys.viewer}` } });
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe('POST');
    }
  });
});

describe('/mcp tools', () => {
  it('lists the tools the caller’s role allows, with JSON Schemas, hints and the confirmation argument', async () => {
    const names = async (key: string) => ((await (await connect(key)).listTools()).tools.map((tool) => tool.name) ?? []).sort();
    expect(await names(keys.viewer)).toEqual(['cmdb_lookup', 'jira_whoami', 'metrics_query']);
    expect(await names(keys.operator)).toEqual(['cmdb_lookup', 'jira_whoami', 'metrics_query', 'restart_service']);
    expect(await names(keys.admin)).toEqual(['cmdb_lookup', 'jira_whoami', 'metrics_query', 'restart_service', 'rotate_api_keys']);

    const { tools } = await (await connect(keys.operator)).listTools();
    const lookup = tools.find((tool) => tool.name === 'cmdb_lookup')!;
    expect(lookup.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: false });
    expect(lookup.inputSchema).toMatchObject({
      type: 'object',
      properties: { tagId: { type: 'string', minLength: 1, description: 'The CMDB tag id' } },
      required: ['tagId'],
    });
    expect(Object.keys(lookup.inputSchema.properties ?? {})).toEqual(['tagId']);
    const restart = tools.find((tool) => tool.name === 'restart_service')!;
    expect(restart.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(restart.inputSchema).toMatchObject({
      type: 'object',
      required: ['host', 'service'],
      properties: { host: { type: 'string' }, _confirm: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    });
    expect(restart.description).toMatch(/plus "_confirm": "<that hash>"/);
    expect(tools.find((tool) => tool.name === 'jira_whoami')!.annotations?.openWorldHint).toBe(true);
  });

  it('runs a read tool at once, over the caller’s tenant only', async () => {
    const acme = await call(await connect(keys.viewer), 'cmdb_lookup', { tagId: 'web-01' });
    expect(acme.isError).toBeFalsy();
    expect(acme.text).toBe('web-01.example.internal (10.20.0.7), staging');
    expect(acme.structuredContent).toEqual({ hostname: 'web-01.example.internal', address: '10.20.0.7', environment: 'staging' });
    const globex = await call(await connect(keys.globexViewer), 'cmdb_lookup', { tagId: 'web-01' });
    expect(globex.text).toBe('No host is tagged web-01.');
  });

  it('proposes a change, runs it exactly once with the matching hash, and refuses a wrong or replayed hash', async () => {
    const operator = await connect(keys.operator);
    const args = { host: 'web-01', service: 'nginx' };
    const hash = toolCallHash('restart_service', args);
    const before = restarts.length;

    const proposal = await call(operator, 'restart_service', args);
    expect(proposal.isError).toBeFalsy();
    expect(proposal.structuredContent).toMatchObject({ status: 'confirmation_required', tool: 'restart_service', arguments: args, hash });
    expect(proposal.text).toContain(`"_confirm": "${hash}"`);
    expect(restarts.length).toBe(before);

    const wrong = await call(operator, 'restart_service', { ...args, _confirm: 'f'.repeat(64) });
    expect(wrong.isError).toBe(true);
    expect(wrong.text).toMatch(/_confirm is not the hash of this call.*nothing ran/);
    // The hash confirms these arguments only.
    const otherArgs = await call(operator, 'restart_service', { host: 'web-01', service: 'redis', _confirm: hash });
    expect(otherArgs.isError).toBe(true);
    expect(restarts.length).toBe(before);

    const confirmed = await call(operator, 'restart_service', { ...args, _confirm: hash });
    expect(confirmed.isError).toBeFalsy();
    expect(confirmed.text).toBe('Restarted nginx on web-01.');
    expect(confirmed.content).toContainEqual({
      type: 'resource_link',
      uri: `https://infraai.example.test/runs/${before + 1}`,
      name: 'Run',
    });
    expect(restarts.slice(before)).toEqual([
      { host: 'web-01', service: 'nginx', callKey: expect.stringMatching(/^mcp\/[0-9a-f-]{36}$/), by: await subjectOf(keys.operator) },
    ]);

    const replayed = await call(operator, 'restart_service', { ...args, _confirm: hash });
    expect(replayed.isError).toBe(true);
    expect(replayed.text).toMatch(/no pending proposal of this call for you/);
    expect(restarts.length).toBe(before + 1);
  });

  it('binds a proposal to its caller and lets it expire', async () => {
    const args = { host: 'web-01', service: 'postgresql' };
    const hash = toolCallHash('restart_service', args);
    const before = restarts.length;
    const operator = await connect(keys.operator);
    const other = await connect(keys.otherOperator);

    expect((await call(operator, 'restart_service', args)).structuredContent).toMatchObject({ hash });
    const stolen = await call(other, 'restart_service', { ...args, _confirm: hash });
    expect(stolen.isError).toBe(true);
    expect(restarts.length).toBe(before);

    clock += 61_000;
    const late = await call(operator, 'restart_service', { ...args, _confirm: hash });
    expect(late.isError).toBe(true);
    expect(late.text).toMatch(/expired/);
    expect(restarts.length).toBe(before);

    await call(operator, 'restart_service', args);
    expect((await call(operator, 'restart_service', { ...args, _confirm: hash })).isError).toBeFalsy();
    expect(restarts.length).toBe(before + 1);
  });

  it('never runs a forbidden call, with or without a hash, and refuses a change tool to a viewer', async () => {
    const before = restarts.length;
    const operator = await connect(keys.operator);
    const sshd = { host: 'web-01', service: 'sshd' };
    for (const args of [sshd, { ...sshd, _confirm: toolCallHash('restart_service', sshd) }]) {
      const result = await call(operator, 'restart_service', args);
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(/Policy forbids this call to restart_service/);
      expect(result.structuredContent).toMatchObject({ status: 'error', reason: 'forbidden' });
    }
    const viewer = await call(await connect(keys.viewer), 'restart_service', { host: 'web-01', service: 'nginx' });
    expect(viewer.isError).toBe(true);
    expect(viewer.text).toBe('restart_service needs the operator role; you have viewer');
    expect(restarts.length).toBe(before);
  });

  it('answers refusals and failures as tool errors the model can read', async () => {
    const viewer = await connect(keys.viewer);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['cmdb_lookup', { tagId: 5 }, /Invalid arguments for cmdb_lookup: tagId/],
      ['cmdb_lookup', { tagId: 'web-01', extra: true }, /Invalid arguments for cmdb_lookup/],
      ['cmdb_lookup', { tagId: 'web-01', _confirm: 7 }, /_confirm must be the hash/],
      ['no_such_tool', {}, /There is no tool named no_such_tool/],
      ['metrics_query', { promql: 'up' }, /metrics_query failed: Prometheus answered 503 \(temporary/],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(viewer, name, args);
      expect(result.isError, name).toBe(true);
      expect(result.text).toMatch(message);
    }
  });

  it('resolves integration settings for the calling user', async () => {
    const configured = await call(await connect(keys.operator), 'jira_whoami', {});
    expect(configured.text).toBe('Jira https://acme.atlassian.net as ops@acme.example');
    const unconfigured = await call(await connect(keys.viewer), 'jira_whoami', {});
    expect(unconfigured.isError).toBe(true);
    expect(unconfigured.text).toBe('jira is not configured: PUT /api/v1/integrations/jira/config first');
    expect(unconfigured.structuredContent).toMatchObject({ reason: 'not_configured' });
  });
});
