import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryProposalLedger } from '../../api/mcp/proposals.js';
import { listMcpTools } from '../../api/mcp/tool-calls.js';
import type { RemoteTool } from '../../adapters/mcp/port.js';
import { chatToolName, rateRemoteTool, remoteInputSchema } from '../../tools/mcp-tools.js';
import { createToolRegistry } from '../../tools/registry.js';
import type { ToolCaller } from '../../tools/tool.js';

const alice: ToolCaller = { tenantId: 'tenant-a', userId: 'api-key:alice', role: 'operator' };
const bob: ToolCaller = { ...alice, userId: 'api-key:bob' };
const HASH = 'a'.repeat(64);

describe('InMemoryProposalLedger', () => {
  it('hands a pending proposal to its own caller once, and none after it expires', async () => {
    let now = 1_000;
    const ledger = new InMemoryProposalLedger({ ttlMs: 100, now: () => now });
    const proposal = await ledger.propose(alice, HASH);
    expect(proposal).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), hash: HASH, expiresAt: 1_100 });
    expect(await ledger.take(bob, HASH)).toBeNull();
    expect(await ledger.take(alice, 'b'.repeat(64))).toBeNull();
    expect(await ledger.take(alice, HASH)).toEqual(proposal);
    expect(await ledger.take(alice, HASH)).toBeNull();

    await ledger.propose(alice, HASH);
    now = 1_100;
    expect(await ledger.take(alice, HASH)).toBeNull();
  });

  it('renews a pending proposal under the same id, and starts a new one after it was taken', async () => {
    let now = 0;
    const ledger = new InMemoryProposalLedger({ ttlMs: 100, now: () => now });
    const first = await ledger.propose(alice, HASH);
    now = 90;
    const renewed = await ledger.propose(alice, HASH);
    expect(renewed).toEqual({ ...first, expiresAt: 190 });
    now = 150;
    expect(await ledger.take(alice, HASH)).toEqual(renewed);
    expect((await ledger.propose(alice, HASH)).id).not.toBe(first.id);
  });

  it('keeps at most maxPending proposals, dropping the oldest', async () => {
    const ledger = new InMemoryProposalLedger({ ttlMs: 1_000, maxPending: 2, now: () => 0 });
    for (const digit of ['1', '2', '3']) await ledger.propose(alice, digit.repeat(64));
    expect(await ledger.take(alice, '1'.repeat(64))).toBeNull();
    expect(await ledger.take(alice, '2'.repeat(64))).not.toBeNull();
    expect(await ledger.take(alice, '3'.repeat(64))).not.toBeNull();
  });
});

describe('external MCP tools', () => {
  const remote = (annotations: RemoteTool['annotations'], name = 'tool'): RemoteTool => ({
    name,
    description: '',
    inputSchema: { type: 'object' },
    annotations,
  });

  it('rates a tool read only when the server says so and the policy does not list it', () => {
    expect(rateRemoteTool(remote({ readOnlyHint: true }), [])).toBe('read');
    expect(rateRemoteTool(remote({ readOnlyHint: true }), ['tool'])).toBe('change');
    expect(rateRemoteTool(remote({ readOnlyHint: false, destructiveHint: false }), [])).toBe('change');
    expect(rateRemoteTool(remote({ destructiveHint: true }), ['tool'])).toBe('change');
    expect(rateRemoteTool(remote({ destructiveHint: true }), ['other'])).toBe('forbidden');
    expect(rateRemoteTool(remote({}), [])).toBe('forbidden');
  });

  it('names tools mcp_<server>_<tool> in snake_case within 64 characters', () => {
    expect(chatToolName('docs', 'get-page.v2')).toBe('mcp_docs_get_page_v2');
    expect(chatToolName('docs', 'searchIssuesByJQL')).toBe('mcp_docs_search_issues_by_jql');
    expect(chatToolName('docs', '---')).toBe('mcp_docs_tool');
    const long = chatToolName('docs', `list_${'x'.repeat(80)}_a`);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^mcp_docs_list_x+_[0-9a-f]{8}$/);
    expect(chatToolName('docs', `list_${'x'.repeat(80)}_b`)).not.toBe(long);
  });

  it('validates with the server’s schema converted by z.fromJSONSchema', () => {
    const { input, exact } = remoteInputSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { issue: { type: 'string', pattern: '^[A-Z]+-\\d+$' }, labels: { type: 'array', items: { type: 'string' } } },
      required: ['issue'],
      additionalProperties: false,
    });
    expect(exact).toBe(true);
    expect(input.safeParse({ issue: 'OPS-1', labels: ['disk'] }).success).toBe(true);
    expect(input.safeParse({ issue: 'ops one' }).success).toBe(false);
    expect(input.safeParse({ issue: 'OPS-1', extra: 1 }).success).toBe(false);
    expect(input.safeParse({}).success).toBe(false);
  });

  it('accepts any object when the schema does not convert, and still shows the model the server’s schema', () => {
    const schema = { type: 'object', properties: { path: { type: 'string', not: { pattern: '^/etc' } } }, required: ['path'] };
    const { input, exact } = remoteInputSchema(schema);
    expect(exact).toBe(false);
    expect(input.safeParse({ anything: 1 }).success).toBe(true);
    expect(input.safeParse('not an object').success).toBe(false);
    expect(z.toJSONSchema(input, { target: 'draft-7', io: 'input' })).toMatchObject({
      type: 'object',
      properties: schema.properties,
      required: ['path'],
    });
  });
});

describe('MCP tool listing', () => {
  it('leaves out a tool that declares the reserved _confirm argument, saying so', () => {
    const registry = createToolRegistry([
      {
        name: 'sneaky',
        description: 'Declares _confirm itself.',
        input: z.object({ _confirm: z.string() }),
        role: 'viewer',
        risk: () => 'read',
        run: () => Promise.resolve({ content: '' }),
      },
      {
        name: 'plain',
        description: 'Reads.',
        input: z.object({ q: z.string() }),
        role: 'viewer',
        risk: () => 'read',
        run: () => Promise.resolve({ content: '' }),
      },
    ]);
    const logs: string[] = [];
    expect(listMcpTools(registry, alice, (line) => logs.push(line)).map((tool) => tool.name)).toEqual(['plain']);
    expect(logs).toEqual([expect.stringContaining('sneaky is not offered')]);
  });
});
