import { ProtocolServer, ReplyError, basicCredentials, type RecordedRequest, type Reply } from './protocol-server.js';

// A local stand-in for Confluence Cloud, for exactly the calls the Confluence adapter makes:
//   GET /wiki/rest/api/search?cql&limit&cursor|start   { results, start, limit, size, totalSize, cqlQuery, _links: { base, context, next? } }
//   GET /wiki/api/v2/pages/{id}?body-format=storage      { id, status, title, spaceId, version, body: { storage }, _links: { webui, base } }
// CQL covers what the tools send: conditions joined by AND over type, space, title (=, ~), text ~
// and label =, then ORDER BY lastmodified|title [ASC|DESC]; anything else is v1's 400 "Could not
// parse cql". Excerpts carry Confluence's @@@hl@@@ markers. Search pages with a cursor in
// _links.next, or with `start` when `offsetPaging` is set (older sites, Data Center). Errors use
// v1's { statusCode, message } and v2's { errors: [{ status, code, title, detail }] }. Basic auth.

export interface FakePage {
  id: string;
  spaceKey: string;
  spaceId: string;
  title: string;
  /** Storage format (XHTML). */
  storage: string;
  labels: string[];
  version: number;
  lastModified: string;
  type: 'page' | 'blogpost';
}

export interface FakeConfluenceOptions {
  email: string;
  apiToken: string;
  /** Page with `start` in _links.next instead of a cursor. */
  offsetPaging?: boolean;
}

export class FakeConfluence {
  readonly pages: FakePage[] = [];
  readonly spaces = new Map<string, { id: string; name: string }>();
  private nextId = 98_000;

  private constructor(
    readonly server: ProtocolServer,
    private readonly options: FakeConfluenceOptions,
  ) {}

  static async start(options: FakeConfluenceOptions): Promise<FakeConfluence> {
    const routeTo: { fake?: FakeConfluence } = {};
    const server = await ProtocolServer.start((request) => routeTo.fake!.route(request));
    routeTo.fake = new FakeConfluence(server, options);
    return routeTo.fake;
  }

  get baseUrl(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  addSpace(key: string, name: string): void {
    this.spaces.set(key, { id: String(65_000 + this.spaces.size), name });
  }

  addPage(page: Partial<FakePage> & Pick<FakePage, 'spaceKey' | 'title' | 'storage'>): FakePage {
    const space = this.spaces.get(page.spaceKey);
    if (!space) throw new Error(`add space ${page.spaceKey} first`);
    const created: FakePage = {
      id: String(this.nextId++),
      spaceId: space.id,
      labels: [],
      version: 1,
      lastModified: `2026-11-${String((this.pages.length % 28) + 1).padStart(2, '0')}T08:30:00.000Z`,
      type: 'page',
      ...page,
    };
    this.pages.push(created);
    return created;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private route(request: RecordedRequest): Reply {
    const credentials = basicCredentials(request.headers.authorization);
    if (credentials?.user !== this.options.email || credentials.password !== this.options.apiToken) {
      throw new ReplyError({ status: 401, body: { code: 401, message: 'Unauthorized; scope does not match' } });
    }
    if (request.method === 'GET' && request.path === '/wiki/rest/api/search') return this.search(request);
    const page = /^\/wiki\/api\/v2\/pages\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && page) return this.page(page[1]!, request.query['body-format']);
    throw v2Error(404, 'NOT_FOUND', 'Not Found');
  }

  private search(request: RecordedRequest): Reply {
    const cql = request.query.cql;
    if (!cql) throw v1Error(400, 'CQL query parameter is required');
    const { conditions, order, words } = parseCql(cql);
    let matches = this.pages.filter((p) => conditions.every((c) => c(p)));
    if (order) matches = [...matches].sort((a, b) => order.direction * String(a[order.field]).localeCompare(String(b[order.field])));
    const limit = Math.min(Number(request.query.limit ?? 25), 100);
    let start = Number(request.query.start ?? 0);
    if (request.query.cursor) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(request.query.cursor, 'base64url').toString('utf8'));
      if (!decoded) throw v1Error(400, 'Invalid cursor');
      start = Number(decoded[1]);
    }
    const results = matches.slice(start, start + limit);
    const base = `${this.baseUrl}/wiki`;
    const nextStart = start + limit;
    const query = `limit=${limit}&cql=${encodeURIComponent(cql)}`;
    const next =
      nextStart < matches.length
        ? this.options.offsetPaging
          ? `/rest/api/search?${query}&start=${nextStart}`
          : `/rest/api/search?next=true&cursor=${Buffer.from(`offset:${nextStart}`).toString('base64url')}&${query}`
        : undefined;
    return {
      status: 200,
      body: {
        results: results.map((p) => {
          const webui = `/spaces/${p.spaceKey}/pages/${p.id}/${encodeURIComponent(p.title.replace(/\s+/g, '+'))}`;
          return {
            content: {
              id: p.id,
              type: p.type,
              status: 'current',
              title: p.title,
              _links: { webui, self: `${base}/rest/api/content/${p.id}`, tinyui: `/x/${p.id}` },
              _expandable: { space: `/rest/api/space/${p.spaceKey}` },
            },
            title: highlight(p.title, words),
            excerpt: highlight(excerptOf(p.storage), words),
            url: webui,
            resultGlobalContainer: { title: this.spaces.get(p.spaceKey)!.name, displayUrl: `/spaces/${p.spaceKey}` },
            breadcrumbs: [],
            entityType: 'content',
            iconCssClass: 'aui-icon content-type-page',
            lastModified: p.lastModified,
            friendlyLastModified: 'Nov 2026',
            score: 1.5,
          };
        }),
        start,
        limit,
        size: results.length,
        totalSize: matches.length,
        cqlQuery: cql,
        searchDuration: 31,
        _links: { base, context: '/wiki', ...(next ? { next } : {}), self: `${base}/rest/api/search?${query}` },
      },
    };
  }

  private page(id: string, bodyFormat: string | undefined): Reply {
    if (!/^\d+$/.test(id))
      throw v2Error(
        400,
        'INVALID_REQUEST_PARAMETER',
        'Provided value {' + id + "} for 'id' is not the correct type. Expected type is ContentId",
      );
    const page = this.pages.find((p) => p.id === id);
    if (!page) throw v2Error(404, 'NOT_FOUND', 'Not Found');
    if (bodyFormat !== undefined && !['storage', 'atlas_doc_format', 'view'].includes(bodyFormat)) {
      throw v2Error(400, 'INVALID_REQUEST_PARAMETER', `Invalid body-format: ${bodyFormat}`);
    }
    return {
      status: 200,
      body: {
        id: page.id,
        status: 'current',
        title: page.title,
        spaceId: page.spaceId,
        parentId: null,
        parentType: null,
        authorId: '557058:f3a1b2c3',
        ownerId: '557058:f3a1b2c3',
        createdAt: '2026-10-01T08:00:00.000Z',
        version: { number: page.version, message: '', minorEdit: false, authorId: '557058:f3a1b2c3', createdAt: page.lastModified },
        body: bodyFormat === 'storage' ? { storage: { representation: 'storage', value: page.storage } } : {},
        _links: {
          webui: `/spaces/${page.spaceKey}/pages/${page.id}/${encodeURIComponent(page.title.replace(/\s+/g, '+'))}`,
          editui: `/pages/resumedraft.action?draftId=${page.id}`,
          tinyui: `/x/${page.id}`,
          base: `${this.baseUrl}/wiki`,
        },
      },
    };
  }
}

type Condition = (page: FakePage) => boolean;

function parseCql(cql: string): { conditions: Condition[]; order: { field: keyof FakePage; direction: number } | null; words: string[] } {
  const [where = '', orderBy] = cql.split(/(?:^|\s+)ORDER\s+BY\s+/i);
  let order: { field: keyof FakePage; direction: number } | null = null;
  if (orderBy) {
    const m = /^(lastmodified|title)\s*(ASC|DESC)?$/i.exec(orderBy.trim());
    if (!m) throw v1Error(400, `Could not parse cql : ${cql}`);
    order = { field: m[1]!.toLowerCase() === 'title' ? 'title' : 'lastModified', direction: m[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  }
  const words: string[] = [];
  const conditions = where
    .trim()
    .split(/\s+AND\s+/i)
    .filter(Boolean)
    .map((clause): Condition => {
      const m = /^(type|space|title|text|label)\s*(=|~)\s*("(?:[^"\\]|\\.)*"|[\w.-]+)$/i.exec(clause.trim());
      if (!m) throw v1Error(400, `Could not parse cql : ${cql}`);
      const field = m[1]!.toLowerCase();
      const value = m[3]!.replace(/^"|"$/g, '').replace(/\\"/g, '"');
      const op = m[2]!;
      if (op === '~') words.push(...value.replace(/"/g, '').toLowerCase().split(/\s+/).filter(Boolean));
      // Quotes inside a text query mark a phrase; the words are what is matched.
      const contains = (text: string) =>
        value
          .replace(/"/g, '')
          .toLowerCase()
          .split(/\s+/)
          .every((w) => text.toLowerCase().includes(w));
      if (field === 'type') return (p) => p.type === value;
      if (field === 'space') return (p) => p.spaceKey === value;
      if (field === 'label') return (p) => p.labels.includes(value);
      if (field === 'title') return op === '~' ? (p) => contains(p.title) : (p) => p.title === value;
      return (p) => contains(`${p.title} ${p.storage.replace(/<[^>]*>/g, ' ')}`);
    });
  return { conditions, order, words };
}

function excerptOf(storage: string): string {
  return storage
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 240);
}

function highlight(text: string, words: string[]): string {
  let out = text;
  for (const word of words)
    out = out.replace(new RegExp(`(${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`, 'gi'), '@@@hl@@@$1@@@endhl@@@');
  return out;
}

function v1Error(status: number, message: string): ReplyError {
  return new ReplyError({
    status,
    body: { statusCode: status, data: { authorized: true, valid: false, errors: [], successful: false }, message },
  });
}

function v2Error(status: number, code: string, title: string): ReplyError {
  return new ReplyError({ status, body: { errors: [{ status, code, title, detail: null }] } });
}
