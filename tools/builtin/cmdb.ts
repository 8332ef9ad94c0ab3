import { z } from 'zod';
import type { CmdbFilter, Store } from '../../adapters/store/port.js';
import { BUILTIN_TOOL, type CmdbItemData, type CmdbItemSummary, type CmdbLookupData } from '../../core/chat/builtin-tools.js';
import { ENVIRONMENTS, type CmdbItem } from '../../core/incident.js';
import { ToolRefusedError, type ChatTool } from '../tool.js';
import { boundedContent, cmdbLink, cmdbSummary, oneLine, TAG_ID_PATTERN, withCursor } from './shared.js';

const CmdbLookupArgs = z
  .strictObject({
    query: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('A tagId, hostname, IP address or words of the description (case-insensitive)'),
    tags: z.record(z.string().min(1).max(100), z.string().max(200)).optional().describe('Tags every item must carry, e.g. {"role":"db"}'),
    environment: z.enum(ENVIRONMENTS).optional(),
    limit: z.number().int().min(1).max(50).default(10),
    cursor: z.string().max(1000).optional().describe('nextCursor of the previous page'),
  })
  .describe('Find configuration items');

const CmdbGetArgs = z.strictObject({ tagId: z.string().min(1).max(128).regex(TAG_ID_PATTERN, 'a CMDB tagId') });

/** More words than this in a free-text query are not searched one by one. */
const MAX_QUERY_WORDS = 5;

function describeItem(item: CmdbItemSummary): string {
  const tags = Object.entries(item.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    `${item.tagId}: ${item.hostname} (${item.address}), ${item.environment}` +
    `${item.os ? `, ${item.os}` : ''}${item.serviceManager ? `, ${item.serviceManager}` : ''}` +
    `${item.owner ? `, owner ${item.owner}` : ''}${tags ? `, tags ${tags}` : ''}` +
    `${item.description ? ` — ${oneLine(item.description, 160)}` : ''}`
  );
}

/** `cmdb_lookup` and `cmdb_get_item`: the tenant's configuration items. */
export function createCmdbTools({ store }: { store: Pick<Store, 'cmdb'> }): ChatTool[] {
  const lookup: ChatTool<z.output<typeof CmdbLookupArgs>> = {
    name: BUILTIN_TOOL.cmdbLookup,
    description:
      'Find configuration items (hosts) in the CMDB by tagId, hostname, IP address, description words, tags or environment. ' +
      'Use it to resolve a host the user names before other tools. Returns each item with address, environment, OS, owner and tags.',
    input: CmdbLookupArgs,
    role: 'viewer',
    readsStoreOnly: true,
    risk: () => 'read',
    async run(args, { caller }) {
      const base: CmdbFilter = { environment: args.environment, tags: args.tags };
      const page = { limit: args.limit, cursor: args.cursor };
      let result = await withCursor(() => store.cmdb.list(caller.tenantId, { ...base, q: args.query }, page));
      let items = result.items;
      // An exact tagId first: "web-1" also matches "web-10" as a substring.
      if (args.query && !args.cursor && TAG_ID_PATTERN.test(args.query)) {
        const exact = items.find((i) => i.tagId.toLowerCase() === args.query!.toLowerCase());
        if (exact) items = [exact, ...items.filter((i) => i !== exact)];
      }
      // Several words ("production postgres"): items matching the most words, when the phrase matched none.
      const words = args.query?.split(/\s+/).filter((w) => w.length >= 2) ?? [];
      if (items.length === 0 && !args.cursor && words.length > 1) {
        const score = new Map<string, { item: CmdbItem; hits: number }>();
        for (const word of words.slice(0, MAX_QUERY_WORDS)) {
          const found = await store.cmdb.list(caller.tenantId, { ...base, q: word }, { limit: 50 });
          for (const item of found.items) {
            const entry = score.get(item.tagId) ?? { item, hits: 0 };
            entry.hits += 1;
            score.set(item.tagId, entry);
          }
        }
        items = [...score.values()]
          .sort((a, b) => b.hits - a.hits || a.item.tagId.localeCompare(b.item.tagId))
          .slice(0, args.limit)
          .map((e) => e.item);
        result = { items, nextCursor: null };
      }
      const data: CmdbLookupData = { items: items.map(cmdbSummary), nextCursor: result.nextCursor };
      if (data.items.length === 0) {
        return { content: `No CMDB item matches${args.query ? ` "${oneLine(args.query, 100)}"` : ' these filters'}.`, data };
      }
      return {
        content: boundedContent([
          `${data.items.length} CMDB item(s)${data.nextCursor ? ' (more: pass cursor)' : ''}:`,
          ...data.items.map(describeItem),
        ]),
        data,
        links: items.map(cmdbLink),
      };
    },
  };

  const get: ChatTool<z.output<typeof CmdbGetArgs>> = {
    name: BUILTIN_TOOL.cmdbGetItem,
    description: 'Get one CMDB item by its exact tagId, with every field (address, port, environment, OS, service manager, owner, tags).',
    input: CmdbGetArgs,
    role: 'viewer',
    readsStoreOnly: true,
    risk: () => 'read',
    async run(args, { caller }) {
      const item = await store.cmdb.get(caller.tenantId, args.tagId);
      if (!item)
        throw new ToolRefusedError(`There is no CMDB item with tagId '${args.tagId}'; use cmdb_lookup to search`, 'invalid_arguments');
      const data: CmdbItemData = { item: cmdbSummary(item) };
      return {
        content: boundedContent([describeItem(data.item), `port ${item.port}, ssh user ${item.sshUser ?? 'none'}`]),
        data,
        links: [cmdbLink(item)],
      };
    },
  };

  return [lookup, get];
}
