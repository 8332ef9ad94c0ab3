import { z } from 'zod';
import { ConfluenceError, type ConfluenceClient, type ConfluenceConfig } from '../adapters/confluence/port.js';
import { integrationClients } from './integration-clients.js';
import { IntegrationNotConfiguredError } from './integrations.js';
import { ToolFailedError, ToolRefusedError, type ChatTool, type ToolRunContext } from './tool.js';
import { boundedLines, day } from './text-budget.js';

// The chat agent's Confluence tools: search by CQL (or plain words) and read a page as plain text.
// Both read; each call uses the caller's own Confluence settings (`context.integration('confluence')`).

export interface ConfluenceToolDeps {
  /** Builds a client for one caller's settings; the REST adapter by default. */
  connect?: (config: ConfluenceConfig) => Promise<ConfluenceClient>;
}

const SEARCH_CONTENT_CHARS = 3_500;

const searchInput = z
  .strictObject({
    cql: z.string().trim().min(1).max(4_000).optional().describe('CQL, e.g. type = page AND space = OPS AND text ~ "failover"'),
    text: z.string().trim().min(1).max(200).optional().describe('Plain words to find in pages, instead of cql'),
    space: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9~_-]{1,255}$/, 'a space key')
      .optional()
      .describe('Space key to search in, with text'),
    limit: z.number().int().min(1).max(50).default(10),
    cursor: z.string().min(1).max(2_000).optional().describe('nextCursor from the previous result, for the next page'),
  })
  .refine((args) => (args.cql === undefined) !== (args.text === undefined), { message: 'Give either cql or text' })
  .refine((args) => args.space === undefined || args.text !== undefined, { message: 'space goes with text; put it in the cql otherwise' });

const getInput = z.strictObject({
  id: z
    .string()
    .trim()
    .regex(/^\d{1,20}$/, 'a page id (digits)'),
  maxChars: z.number().int().min(1_000).max(30_000).default(8_000).describe('Cut the page text after this many characters'),
});

export function createConfluenceTools(deps: ConfluenceToolDeps = {}): ChatTool[] {
  const connect = deps.connect ?? integrationClients.confluence;

  async function client(context: ToolRunContext): Promise<ConfluenceClient> {
    try {
      const settings = await context.integration('confluence');
      return await connect({ baseUrl: settings.baseUrl, email: settings.email, apiToken: settings.apiToken });
    } catch (err) {
      if (err instanceof IntegrationNotConfiguredError) throw new ToolRefusedError(err.message, 'not_configured');
      throw err;
    }
  }

  const search: ChatTool<z.output<typeof searchInput>> = {
    name: 'confluence_search_pages',
    description:
      'Search Confluence pages with CQL, or with plain words (text, optionally in one space). Returns titles, spaces, excerpts, ' +
      'page ids (for confluence_get_page) and links; pass the returned cursor for the next page.',
    input: searchInput,
    integration: 'confluence',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const confluence = await client(context);
      const cql =
        args.cql ??
        [`type = page`, `text ~ ${cqlString(args.text!)}`, ...(args.space ? [`space = ${cqlString(args.space)}`] : [])].join(' AND ');
      const result = await guarded(() =>
        confluence.searchPages(cql, { limit: args.limit, ...(args.cursor ? { cursor: args.cursor } : {}), signal: context.signal }),
      );
      const header =
        result.results.length === 0
          ? `No Confluence content matches \`${result.cql}\`.`
          : `Confluence content matching \`${result.cql}\`: ${result.results.length}${result.totalSize !== null ? ` of ${result.totalSize}` : ''} on this page.`;
      const lines = result.results.map(
        (hit) =>
          `- [${hit.id}] ${hit.title}${hit.space ? ` (${hit.space})` : ''}, ${hit.type}, modified ${day(hit.lastModified)}${hit.excerpt ? `: ${hit.excerpt.slice(0, 200)}` : ''}`,
      );
      const { text } = boundedLines(header, lines, SEARCH_CONTENT_CHARS, 'Narrow the query or lower limit.');
      const more = result.nextCursor ? `More: call again with cursor "${result.nextCursor}", or narrow the query.` : '';
      return {
        content: more ? `${text}\n${more}` : text,
        data: result,
        links: result.results.map((hit) => ({ title: hit.title, url: hit.url })),
      };
    },
  };

  const get: ChatTool<z.output<typeof getInput>> = {
    name: 'confluence_get_page',
    description: 'One Confluence page by id, its body as plain text (headings, lists, tables, code), cut at maxChars.',
    input: getInput,
    integration: 'confluence',
    role: 'viewer',
    risk: () => 'read',
    async run(args, context) {
      const confluence = await client(context);
      const page = await guarded(() => confluence.getPage(args.id, { maxChars: args.maxChars, signal: context.signal }));
      const content = [
        `${page.title} (Confluence page ${page.id}, version ${page.version ?? '?'}, modified ${day(page.lastModified)})`,
        `URL: ${page.url}`,
        '',
        page.text || '(empty page)',
        ...(page.truncated ? [`[cut at ${args.maxChars} characters: raise maxChars, or open the page]`] : []),
      ].join('\n');
      return { content, data: page, links: [{ title: page.title, url: page.url }] };
    },
  };

  return [search, get];
}

/** A CQL string literal. */
function cqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ConfluenceError) {
      const wait = err.retryAfterMs !== undefined ? ` Retry after ${Math.ceil(err.retryAfterMs / 1000)} s.` : '';
      throw new ToolFailedError(`${err.message}${wait}`, err.retryable, err.status ?? undefined);
    }
    throw err;
  }
}
