import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A local stand-in for Pinecone's REST API, for exactly the calls the Pinecone adapter makes:
//   data plane    POST /vectors/upsert, POST /query, GET /vectors/list, POST /vectors/delete
//   control plane GET /indexes/{name} (describeIndex, used when the adapter has no indexHost)
// Both planes are served on one port. Shapes follow Pinecone's API reference (camelCase JSON:
// topK, includeMetadata, upsertedCount, pagination.next, paginationToken, readUnits). Vectors live
// in memory per namespace; queries score by cosine and filter on metadata with $eq / $in (and
// implicit equality, $and). Every request needs the Api-Key header (401 otherwise) and is recorded
// so tests can assert headers and bodies. `failNext` makes the next request(s) fail with a status.

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GET). */
  body: unknown;
}

interface StoredVector {
  id: string;
  values: number[];
  metadata: Record<string, unknown> | undefined;
}

type Filter = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FakePineconeOptions {
  apiKey: string;
  indexName?: string;
  dimension?: number;
}

export class FakePinecone {
  readonly requests: RecordedRequest[] = [];
  private readonly namespaces = new Map<string, Map<string, StoredVector>>();
  private failures: { status: number; remaining: number; body: string }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: Required<FakePineconeOptions>,
  ) {}

  /** Starts on 127.0.0.1 and a free port. */
  static async start(options: FakePineconeOptions): Promise<FakePinecone> {
    const server = createServer();
    const fake = new FakePinecone(server, { indexName: 'test-index', dimension: 8, ...options });
    server.on('request', (req, res) => {
      void fake.handle(req, res);
    });
    await listenLocal(server);
    return fake;
  }

  /** Plain-http base URL, usable as indexHost and as controllerHostUrl. */
  get url(): string {
    return localUrl(this.server);
  }

  /** The next `times` requests (any path) answer `status` with a Pinecone-style error body. */
  failNext(status: number, times = 1, message = 'injected failure'): void {
    this.failures.push({ status, remaining: times, body: JSON.stringify({ code: status === 429 ? 8 : 13, message, details: [] }) });
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Ids stored in a namespace (the SDK's default namespace is `__default__`). */
  ids(namespace = '__default__'): string[] {
    return [...(this.namespaces.get(namespace)?.keys() ?? [])].sort();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = await readBody(req);
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'request body is not valid JSON');
        }
      }
      const method = req.method ?? 'GET';
      this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });

      if (req.headers['api-key'] !== this.options.apiKey) {
        // Pinecone answers a bad key with a plain-text body.
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
        return;
      }
      const failure = this.failures[0];
      if (failure) {
        if (--failure.remaining <= 0) this.failures.shift();
        res.writeHead(failure.status, { 'content-type': 'application/json' }).end(failure.body);
        return;
      }
      send(res, 200, this.route(method, url, body));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { code: status === 400 ? 3 : status === 404 ? 5 : 13, message: (err as Error).message, details: [] });
    }
  }

  private route(method: string, url: URL, body: unknown): unknown {
    const key = `${method} ${url.pathname}`;
    if (key === 'POST /vectors/upsert') return this.upsert(asObject(body));
    if (key === 'POST /query') return this.query(asObject(body));
    if (key === 'GET /vectors/list') return this.list(url.searchParams);
    if (key === 'POST /vectors/delete') return this.delete(asObject(body));
    const describe = /^\/indexes\/([^/]+)$/.exec(url.pathname);
    if (method === 'GET' && describe) return this.describeIndex(decodeURIComponent(describe[1]!));
    throw new HttpError(404, `no route for ${key}`);
  }

  private namespace(name: unknown, create: boolean): Map<string, StoredVector> | undefined {
    const ns = typeof name === 'string' && name !== '' ? name : '__default__';
    let vectors = this.namespaces.get(ns);
    if (!vectors && create) this.namespaces.set(ns, (vectors = new Map()));
    return vectors;
  }

  private checkValues(values: unknown): number[] {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new HttpError(400, 'values must be an array of numbers');
    if (values.length !== this.options.dimension)
      throw new HttpError(400, `Vector dimension ${values.length} does not match the dimension of the index ${this.options.dimension}`);
    if (values.every((v) => v === 0)) throw new HttpError(400, 'Dense vectors must contain at least one non-zero value');
    return values as number[];
  }

  private upsert(body: Record<string, unknown>): unknown {
    const vectors = body.vectors;
    if (!Array.isArray(vectors) || vectors.length === 0) throw new HttpError(400, 'vectors must be a non-empty array');
    if (vectors.length > 1000) throw new HttpError(400, 'at most 1000 vectors per upsert');
    const parsed = vectors.map((raw: unknown) => {
      const v = asObject(raw);
      if (typeof v.id !== 'string' || v.id === '') throw new HttpError(400, 'every vector needs an id');
      const metadata = v.metadata === undefined ? undefined : asObject(v.metadata);
      for (const [k, value] of Object.entries(metadata ?? {})) {
        const ok =
          ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((x) => typeof x === 'string'));
        if (!ok) throw new HttpError(400, `metadata value for ${k} must be a string, number, boolean or list of strings`);
      }
      return { id: v.id, values: this.checkValues(v.values), metadata };
    });
    const store = this.namespace(body.namespace, true)!;
    for (const v of parsed) store.set(v.id, v);
    return { upsertedCount: parsed.length };
  }

  private query(body: Record<string, unknown>): unknown {
    const topK = body.topK;
    if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > 10_000)
      throw new HttpError(400, 'topK must be an integer between 1 and 10000');
    const vector = this.checkValues(body.vector);
    const filter = body.filter === undefined ? undefined : asObject(body.filter);
    const store = this.namespace(body.namespace, false);
    const matches = [...(store?.values() ?? [])]
      .filter((v) => !filter || matchesFilter(v.metadata ?? {}, filter))
      .map((v) => ({
        id: v.id,
        score: cosine(vector, v.values),
        values: body.includeValues ? v.values : [],
        ...(body.includeMetadata && v.metadata ? { metadata: v.metadata } : {}),
      }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    return { matches, namespace: typeof body.namespace === 'string' ? body.namespace : '', usage: { readUnits: 1 } };
  }

  private list(params: URLSearchParams): unknown {
    const prefix = params.get('prefix') ?? '';
    const limit = params.has('limit') ? Number(params.get('limit')) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'limit must be between 1 and 100');
    let skipPast: string | undefined;
    const token = params.get('paginationToken');
    if (token) {
      try {
        skipPast = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { skip_past: string }).skip_past;
      } catch {
        throw new HttpError(400, 'invalid pagination token');
      }
    }
    // Bitwise ("C") order, as Pinecone lists.
    const ids = [...(this.namespace(params.get('namespace'), false)?.keys() ?? [])]
      .filter((id) => id.startsWith(prefix) && (skipPast === undefined || id > skipPast))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = ids.slice(0, limit);
    const more = ids.length > limit;
    return {
      vectors: page.map((id) => ({ id })),
      ...(more
        ? { pagination: { next: Buffer.from(JSON.stringify({ skip_past: page[page.length - 1], prefix })).toString('base64') } }
        : {}),
      namespace: params.get('namespace') ?? '',
      usage: { readUnits: 1 },
    };
  }

  private delete(body: Record<string, unknown>): unknown {
    const store = this.namespace(body.namespace, false);
    if (body.deleteAll === true) {
      if (!store) throw new HttpError(404, 'Namespace not found');
      this.namespaces.delete(typeof body.namespace === 'string' && body.namespace !== '' ? body.namespace : '__default__');
      return {};
    }
    if (body.filter !== undefined) {
      const filter = asObject(body.filter);
      for (const [id, v] of store ?? []) if (matchesFilter(v.metadata ?? {}, filter)) store!.delete(id);
      return {};
    }
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string'))
      throw new HttpError(400, 'ids must be a non-empty list of strings');
    if (ids.length > 1000) throw new HttpError(400, 'at most 1000 ids per delete');
    for (const id of ids as string[]) store?.delete(id);
    return {};
  }

  private describeIndex(name: string): unknown {
    if (name !== this.options.indexName) throw new HttpError(404, `Resource ${name} not found`);
    return {
      name,
      dimension: this.options.dimension,
      metric: 'cosine',
      // With an explicit http:// scheme the SDK keeps the host as it is (a bare host gets https://).
      host: this.url,
      deletion_protection: 'disabled',
      tags: null,
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      status: { ready: true, state: 'Ready' },
      vector_type: 'dense',
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'expected a JSON object');
  return value as Record<string, unknown>;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const scalar = (v: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof v);

/** Pinecone's filter language, the part the adapter uses: implicit equality, $eq, $in, $and. */
function matchesFilter(metadata: Record<string, unknown>, filter: Filter): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    if (field === '$and') {
      if (!Array.isArray(condition)) throw new HttpError(400, '$and takes a list of filters');
      return condition.every((sub: unknown) => matchesFilter(metadata, asObject(sub)));
    }
    if (field.startsWith('$')) throw new HttpError(400, `unsupported operator ${field}`);
    const value = metadata[field];
    const hit = (expected: unknown) => (Array.isArray(value) ? value.includes(expected) : value === expected);
    if (scalar(condition)) return hit(condition);
    const ops = asObject(condition);
    return Object.entries(ops).every(([op, arg]) => {
      if (op === '$eq') {
        if (!scalar(arg)) throw new HttpError(400, '$eq takes a string, number or boolean');
        return hit(arg);
      }
      if (op === '$in') {
        if (!Array.isArray(arg) || arg.length === 0 || !arg.every(scalar)) throw new HttpError(400, '$in takes a non-empty list');
        return arg.some(hit);
      }
      throw new HttpError(400, `unsupported operator ${op}`);
    });
  });
}
