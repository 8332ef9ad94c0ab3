import { z } from 'zod';
import { createToolRegistry, type ToolRegistry } from '../../tools/registry.js';
import { ToolFailedError, type ChatTool } from '../../tools/tool.js';

// Small chat tools for the chat tests: a knowledge search over a few fixed documents, two slow reads
// (to see concurrency), a change (to see confirmations) and a tool whose service fails. Each records
// its calls with their start and end times.

export interface ToolCallRecord {
  tool: string;
  args: unknown;
  callKey: string;
  startedAt: number;
  endedAt: number;
}

export const KNOWLEDGE = [
  {
    title: 'Disk full on web hosts',
    text: 'Runbook disk-full: run logrotate -f /etc/logrotate.conf, then clear /var/log/*.gz older than 7 days.',
  },
  { title: 'nginx 502', text: 'Runbook nginx-502: check the upstream pool with systemctl status app, then reload nginx.' },
];

export function createTestChatTools(options: { slowMs?: number } = {}): { registry: ToolRegistry; calls: ToolCallRecord[] } {
  const calls: ToolCallRecord[] = [];
  const slowMs = options.slowMs ?? 700;
  const record = async <T>(tool: string, args: unknown, callKey: string, work: () => Promise<T>): Promise<T> => {
    const startedAt = Date.now();
    try {
      return await work();
    } finally {
      calls.push({ tool, args, callKey, startedAt, endedAt: Date.now() });
    }
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const knowledgeSearch: ChatTool<{ query: string }> = {
    name: 'knowledge_search',
    description: 'Searches SOPs and runbooks',
    input: z.object({ query: z.string().min(1) }),
    role: 'viewer',
    risk: () => 'read',
    run: (args, ctx) =>
      record('knowledge_search', args, ctx.callKey, async () => {
        const words = args.query
          .toLowerCase()
          .split(/\W+/)
          .filter((w) => w.length > 3);
        const hits = KNOWLEDGE.filter((doc) => words.some((w) => `${doc.title} ${doc.text}`.toLowerCase().includes(w)));
        return {
          content: hits.length ? hits.map((doc) => `${doc.title}: ${doc.text}`).join('\n') : 'No document matches.',
          data: { hits: hits.length },
        };
      }),
  };
  const cmdbLookup: ChatTool<{ tagId: string }> = {
    name: 'cmdb_lookup',
    description: 'Finds a CMDB item by tagId',
    input: z.object({ tagId: z.string() }),
    role: 'viewer',
    // Like the real one: it reads the store only, so the chat workflow runs it as a local activity.
    readsStoreOnly: true,
    risk: () => 'read',
    run: (args, ctx) =>
      record('cmdb_lookup', args, ctx.callKey, async () => {
        await sleep(slowMs);
        return { content: `${args.tagId}: ubuntu 22.04 VM owned by platform-team, 10.20.0.7` };
      }),
  };
  const metricsQuery: ChatTool<{ query: string }> = {
    name: 'metrics_query',
    description: 'Runs a PromQL instant query',
    input: z.object({ query: z.string() }),
    role: 'viewer',
    risk: () => 'read',
    run: (args, ctx) =>
      record('metrics_query', args, ctx.callKey, async () => {
        await sleep(slowMs);
        return { content: `${args.query} = 97.5 (disk used %)` };
      }),
  };
  const incidentCreate: ChatTool<{ title: string; severity: 'low' | 'high' }> = {
    name: 'incident_create',
    description: 'Opens an incident (a change: needs confirmation)',
    input: z.object({ title: z.string(), severity: z.enum(['low', 'high']).default('high') }),
    role: 'operator',
    risk: () => 'change',
    run: (args, ctx) =>
      record('incident_create', args, ctx.callKey, async () => ({
        content: `Created incident INC-${calls.filter((c) => c.tool === 'incident_create').length + 1}: ${args.title}`,
        links: [{ title: 'incident', url: 'https://infraai.example.test/incidents/1' }],
      })),
  };
  const rebootHost: ChatTool<{ tagId: string }> = {
    name: 'reboot_host',
    description: 'Reboots a host (the command policy forbids it)',
    input: z.object({ tagId: z.string() }),
    role: 'operator',
    risk: () => 'forbidden',
    run: (args, ctx) => record('reboot_host', args, ctx.callKey, async () => ({ content: 'rebooted' })),
  };
  const brokenTool: ChatTool<{ what: string }> = {
    name: 'ticket_search',
    description: 'Searches tickets (its service is down in these tests)',
    input: z.object({ what: z.string() }),
    role: 'viewer',
    risk: () => 'read',
    run: (args, ctx) =>
      record('ticket_search', args, ctx.callKey, async () => {
        throw new ToolFailedError('the ticket service answered 401 Unauthorized', false, 401);
      }),
  };
  return { registry: createToolRegistry([knowledgeSearch, cmdbLookup, metricsQuery, incidentCreate, rebootHost, brokenTool]), calls };
}

/** Server-Sent Events of a response body, parsed as they arrive; stops after `max` events with an id, after one `until` accepts, or at the end. */
export async function readSse(
  response: Response,
  max = Number.POSITIVE_INFINITY,
  until?: (event: { id: number; event: string; data: Record<string, unknown> }) => boolean,
): Promise<{ id: number; event: string; data: Record<string, unknown> }[]> {
  const events: { id: number; event: string; data: Record<string, unknown> }[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (events.length < max && !(until && events.length > 0 && until(events.at(-1)!))) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0 && events.length < max && !(until && events.length > 0 && until(events.at(-1)!))) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const id = field('id');
        if (id === undefined) continue;
        events.push({
          id: Number(id),
          event: field('event') ?? 'message',
          data: JSON.parse(field('data') ?? '{}') as Record<string, unknown>,
        });
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}
