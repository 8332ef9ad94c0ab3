import { z } from 'zod';
import type { KnowledgeBase } from '../../adapters/knowledge/port.js';
import { KNOWLEDGE_KINDS } from '../../adapters/store/port.js';
import { BUILTIN_TOOL, type KnowledgeSearchData } from '../../core/chat/builtin-tools.js';
import type { ChatTool } from '../tool.js';
import { boundedContent, oneLine } from './shared.js';

const KnowledgeSearchArgs = z
  .strictObject({
    query: z.string().trim().min(2).max(2000).describe('What to look for: the question, an error message, a service and symptom'),
    k: z.number().int().min(1).max(10).default(5).describe('How many passages (default 5)'),
    kinds: z.array(z.enum(KNOWLEDGE_KINDS)).min(1).optional().describe('Only these document kinds'),
  })
  .describe('Search the knowledge base');

/** Per passage: the structured result keeps more than the model reads. */
const DATA_EXCERPT_CHARS = 1200;
const CONTENT_EXCERPT_CHARS = 600;

/** `knowledge_search`: the tenant's documents and the global runbooks, best passages first with their source titles. */
export function createKnowledgeTools({ knowledge }: { knowledge: KnowledgeBase }): ChatTool[] {
  const search: ChatTool<z.output<typeof KnowledgeSearchArgs>> = {
    name: BUILTIN_TOOL.knowledgeSearch,
    description:
      'Search the knowledge base (runbooks, SOPs, architecture notes, uploaded documents) for passages relevant to a question. ' +
      'Use it first for how-to questions and before proposing a fix. Returns the best passages, each with its source title to cite.',
    input: KnowledgeSearchArgs,
    role: 'viewer',
    risk: () => 'read',
    async run(args, { caller }) {
      const hits = await knowledge.search(caller.tenantId, args.query, { k: args.k, ...(args.kinds ? { kinds: args.kinds } : {}) });
      const data: KnowledgeSearchData = {
        query: args.query,
        hits: hits.map((h) => ({
          docId: h.docId,
          title: h.title,
          section: h.section,
          kind: h.kind,
          score: Math.round(h.score * 1000) / 1000,
          excerpt: oneLine(h.text, DATA_EXCERPT_CHARS),
          global: h.global,
        })),
      };
      if (data.hits.length === 0) {
        return { content: `No passage in the knowledge base matches "${oneLine(args.query, 200)}".`, data };
      }
      return {
        content: boundedContent([
          `${data.hits.length} passage(s) for "${oneLine(args.query, 200)}":`,
          ...data.hits.map(
            (h, i) =>
              `[${i + 1}] ${h.title}${h.section ? ` — ${h.section}` : ''} (${h.kind}): ${oneLine(h.excerpt, CONTENT_EXCERPT_CHARS)}`,
          ),
        ]),
        data,
        links: [...new Map(data.hits.map((h) => [h.docId, h])).values()].map((h) => ({
          title: h.title,
          url: `/api/v1/knowledge/docs/${h.docId}`,
        })),
      };
    },
  };
  return [search];
}
