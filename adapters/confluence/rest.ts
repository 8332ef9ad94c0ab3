import { createAtlassianHttp, type HttpFailure } from '../atlassian/http.js';
import {
  ConfluenceAuthError,
  ConfluenceError,
  ConfluenceInvalidRequestError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
  type ConfluenceClient,
  type ConfluenceConfig,
} from './port.js';
import { decodeEntities, storageToText } from './storage-text.js';

// Confluence Cloud: CQL search through the v1 search API (v2 has no CQL search), pages through v2.
// The search pages with a cursor in `_links.next` (older sites and Data Center with `start`); the
// adapter hands either back as one opaque cursor.

const OFFSET_CURSOR = 'offset:';

export function createRestConfluenceClient(config: ConfluenceConfig): ConfluenceClient {
  // The site's root; a base URL given with its /wiki suffix works too.
  const site = config.baseUrl.replace(/\/+$/, '').replace(/\/wiki$/, '');
  const wiki = `${site}/wiki`;
  const request = createAtlassianHttp({ ...config, baseUrl: site }, 'Confluence', toConfluenceError);

  return {
    async searchPages(cql, options) {
      const trimmed = cql.trim();
      if (trimmed === '') throw new ConfluenceInvalidRequestError('The CQL query is empty', null, false);
      const limit = options?.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new ConfluenceInvalidRequestError(`limit must be from 1 to 100 (got ${limit})`, null, false);
      const cursor = options?.cursor;
      const page = cursor?.startsWith(OFFSET_CURSOR)
        ? { start: Number(cursor.slice(OFFSET_CURSOR.length)) || 0 }
        : cursor
          ? { cursor }
          : {};
      const body = await request<SearchBody>({
        operation: 'search',
        method: 'GET',
        path: '/wiki/rest/api/search',
        query: { cql: trimmed, limit, ...page },
        signal: options?.signal,
      });
      const base = body._links?.base ?? wiki;
      return {
        cql: trimmed,
        results: (body.results ?? []).map((hit) => ({
          id: hit.content?.id ?? '',
          type: hit.content?.type ?? hit.entityType ?? 'content',
          title: plain(hit.content?.title ?? hit.title ?? ''),
          space: hit.resultGlobalContainer?.title ?? hit.content?.space?.name ?? null,
          excerpt: plain(hit.excerpt ?? ''),
          lastModified: hit.lastModified ?? null,
          url: `${base}${hit.content?._links?.webui ?? hit.url ?? ''}`,
        })),
        totalSize: typeof body.totalSize === 'number' ? body.totalSize : null,
        nextCursor: nextCursor(body._links?.next),
      };
    },

    async getPage(id, options) {
      const trimmed = id.trim();
      if (!/^\d{1,20}$/.test(trimmed)) throw new ConfluenceInvalidRequestError(`"${id}" is not a Confluence page id (digits)`, null, false);
      const page = await request<PageBody>({
        operation: `get page ${trimmed}`,
        method: 'GET',
        path: `/wiki/api/v2/pages/${trimmed}`,
        query: { 'body-format': 'storage' },
        signal: options?.signal,
      });
      const { text, truncated } = storageToText(page.body?.storage?.value ?? '', options?.maxChars ?? 8_000);
      return {
        id: page.id,
        title: page.title ?? '',
        status: page.status ?? 'current',
        spaceId: page.spaceId ?? null,
        version: page.version?.number ?? null,
        lastModified: page.version?.createdAt ?? null,
        text,
        truncated,
        url: `${page._links?.base ?? wiki}${page._links?.webui ?? `/pages/viewpage.action?pageId=${page.id}`}`,
      };
    },
  };
}

/** The cursor (or start offset) of `_links.next`, e.g. /rest/api/search?next=true&cursor=…&limit=10&cql=…. */
function nextCursor(next: string | undefined): string | null {
  if (!next) return null;
  const params = new URL(next, 'https://confluence.invalid').searchParams;
  const cursor = params.get('cursor');
  if (cursor) return cursor;
  const start = params.get('start');
  return start !== null && /^\d+$/.test(start) ? `${OFFSET_CURSOR}${start}` : null;
}

/** Search titles and excerpts carry @@@hl@@@…@@@endhl@@@ highlight markers and HTML entities. */
function plain(text: string): string {
  return decodeEntities(text.replace(/@@@(?:end)?hl@@@/g, '').replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
}

interface SearchBody {
  results?: {
    content?: { id?: string; type?: string; title?: string; space?: { name?: string }; _links?: { webui?: string } };
    title?: string;
    excerpt?: string;
    url?: string;
    entityType?: string;
    lastModified?: string;
    resultGlobalContainer?: { title?: string };
  }[];
  totalSize?: number;
  _links?: { base?: string; next?: string };
}

interface PageBody {
  id: string;
  status?: string;
  title?: string;
  spaceId?: string;
  version?: { number?: number; createdAt?: string };
  body?: { storage?: { value?: string } };
  _links?: { webui?: string; base?: string };
}

function toConfluenceError(failure: HttpFailure): ConfluenceError {
  const { message, status } = failure;
  switch (failure.kind) {
    case 'auth':
      return new ConfluenceAuthError(message, status, false);
    case 'not_found':
      return new ConfluenceNotFoundError(message, status, false);
    case 'invalid':
      return new ConfluenceInvalidRequestError(message, status, false);
    case 'rate_limited':
      return new ConfluenceRateLimitError(message, status, true, failure.retryAfterMs);
    case 'unavailable':
      return new ConfluenceUnavailableError(message, status, true, failure.retryAfterMs);
    default:
      return new ConfluenceError(message, status, false);
  }
}
