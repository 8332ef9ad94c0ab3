import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A local stand-in for ServiceNow's Table API on the incident table, for exactly the calls the
// ServiceNow notifier makes:
//   GET   /api/now/table/incident?sysparm_query=field=value^field=value&sysparm_limit&sysparm_fields
//   POST  /api/now/table/incident                 → 201, Location header, { result: record }
//   PATCH /api/now/table/incident/{sys_id}        → 200 { result: record } (PUT behaves the same)
// Shapes follow the Table API reference: string field values, { result } envelopes, errors as
// { error: { message, detail }, status: 'failure' }. work_notes is a journal field: each write adds
// an entry (kept in `workNotes`) and reads back as ''. The out-of-the-box data policy is enforced:
// a Resolved (6) or Closed (7) incident needs close_code and close_notes (403 otherwise, as an
// instance answers a data policy exception). Every request needs the configured basic or bearer
// credentials (401 otherwise) and is recorded. `failNext` makes the next request(s) fail.

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
}

export interface FakeIncident {
  sys_id: string;
  number: string;
  state: string;
  short_description: string;
  description: string;
  urgency: string;
  impact: string;
  assignment_group: string;
  caller_id: string;
  close_code: string;
  close_notes: string;
  correlation_id: string;
  correlation_display: string;
  /** Journal entries written through work_notes, oldest first. */
  workNotes: string[];
}

type Credentials = { username: string; password: string } | { token: string };

const WRITABLE = [
  'state',
  'short_description',
  'description',
  'urgency',
  'impact',
  'assignment_group',
  'caller_id',
  'close_code',
  'close_notes',
  'correlation_id',
  'correlation_display',
] as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: string | null = null,
  ) {
    super(message);
  }
}

export class FakeServiceNow {
  readonly requests: RecordedRequest[] = [];
  private readonly records = new Map<string, FakeIncident>();
  private failures: { status: number; remaining: number; retryAfter: string | undefined; detail: string | null }[] = [];
  private sequence = 10_000;

  private constructor(
    private readonly server: Server,
    private readonly credentials: Credentials,
  ) {}

  /** Starts on 127.0.0.1 and a free port. */
  static async start(credentials: Credentials): Promise<FakeServiceNow> {
    const server = createServer();
    const fake = new FakeServiceNow(server, credentials);
    server.on('request', (req, res) => {
      void fake.handle(req, res);
    });
    await listenLocal(server);
    return fake;
  }

  /** The instance URL (plain http). */
  get url(): string {
    return localUrl(this.server);
  }

  /** Adds an open incident (state New unless given) and returns its sys_id. */
  addIncident(fields: Partial<Omit<FakeIncident, 'sys_id' | 'number' | 'workNotes'>> = {}): string {
    const record = this.newRecord();
    Object.assign(record, fields);
    this.records.set(record.sys_id, record);
    return record.sys_id;
  }

  incident(sysId: string): FakeIncident | undefined {
    return this.records.get(sysId);
  }

  incidents(): FakeIncident[] {
    return [...this.records.values()];
  }

  /** The next `times` authenticated requests answer `status` (with Retry-After, and error.detail, when given). */
  failNext(status: number, times = 1, options: { retryAfter?: string; detail?: string } = {}): void {
    this.failures.push({ status, remaining: times, retryAfter: options.retryAfter, detail: options.detail ?? null });
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const text = await readBody(req);
      let body: unknown;
      let malformed = false;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          malformed = true;
        }
      }
      this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });

      if (!this.authorized(req.headers.authorization))
        throw new HttpError(401, 'User Not Authenticated', 'Required to provide Auth information');
      const failure = this.failures[0];
      if (failure) {
        if (--failure.remaining <= 0) this.failures.shift();
        const headers: Record<string, string> = failure.retryAfter ? { 'retry-after': failure.retryAfter } : {};
        sendError(
          res,
          new HttpError(failure.status, failure.status === 429 ? 'Rate limit exceeded' : 'Injected failure', failure.detail),
          headers,
        );
        return;
      }
      if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
        if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
          throw new HttpError(415, 'Unsupported Media Type', 'Content-Type must be application/json');
        if (malformed) throw new HttpError(400, 'Exception while reading request', 'The payload is not valid JSON.');
      }
      this.route(method, url, body, res);
    } catch (err) {
      sendError(res, err instanceof HttpError ? err : new HttpError(500, (err as Error).message));
    }
  }

  private authorized(header: string | undefined): boolean {
    if ('token' in this.credentials) return header === `Bearer ${this.credentials.token}`;
    const expected = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64');
    return header === `Basic ${expected}`;
  }

  private route(method: string, url: URL, body: unknown, res: ServerResponse): void {
    const fields = url.searchParams.get('sysparm_fields')?.split(',').filter(Boolean);
    if (url.pathname === '/api/now/table/incident') {
      if (method === 'GET') {
        const limit = Number(url.searchParams.get('sysparm_limit') ?? '10000');
        const matches = this.incidents().filter((r) => matchesQuery(r, url.searchParams.get('sysparm_query') ?? ''));
        send(res, 200, { result: matches.slice(0, limit).map((r) => view(r, fields)) });
        return;
      }
      if (method === 'POST') {
        const record = this.newRecord();
        this.apply(record, asObject(body));
        checkDataPolicy(record);
        this.records.set(record.sys_id, record);
        send(res, 201, { result: view(record, fields) }, { location: `${this.url}/api/now/table/incident/${record.sys_id}` });
        return;
      }
    }
    const one = /^\/api\/now\/table\/incident\/([^/]+)$/.exec(url.pathname);
    if (one && (method === 'PATCH' || method === 'PUT' || method === 'GET')) {
      const existing = this.records.get(one[1]!);
      if (!existing) throw new HttpError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      if (method !== 'GET') {
        const updated: FakeIncident = { ...existing, workNotes: [...existing.workNotes] };
        this.apply(updated, asObject(body));
        checkDataPolicy(updated);
        this.records.set(updated.sys_id, updated);
      }
      send(res, 200, { result: view(this.records.get(one[1]!)!, fields) });
      return;
    }
    throw new HttpError(400, 'Requested URI does not represent any resource', `${method} ${url.pathname}`);
  }

  private newRecord(): FakeIncident {
    this.sequence += 1;
    return {
      sys_id: randomBytes(16).toString('hex'),
      number: `INC00${this.sequence}`,
      state: '1',
      short_description: '',
      description: '',
      urgency: '3',
      impact: '3',
      assignment_group: '',
      caller_id: '',
      close_code: '',
      close_notes: '',
      correlation_id: '',
      correlation_display: '',
      workNotes: [],
    };
  }

  /** Unknown fields are ignored, as an instance ignores fields the table does not have. */
  private apply(record: FakeIncident, body: Record<string, unknown>): void {
    for (const key of WRITABLE) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'string' && typeof value !== 'number') throw new HttpError(400, `Invalid value for field ${key}`);
      record[key] = String(value);
    }
    if (typeof body.work_notes === 'string' && body.work_notes !== '') record.workNotes.push(body.work_notes);
  }
}

function checkDataPolicy(record: FakeIncident): void {
  if ((record.state === '6' || record.state === '7') && (!record.close_code || !record.close_notes)) {
    throw new HttpError(
      403,
      'Operation Failed',
      'Data Policy Exception: \n\tThe following fields are mandatory: Resolution code, Resolution notes',
    );
  }
}

/** The part of the encoded query language the notifier uses: field=value conditions joined by ^. */
function matchesQuery(record: FakeIncident, query: string): boolean {
  if (query === '') return true;
  return query.split('^').every((condition) => {
    const eq = condition.indexOf('=');
    if (eq <= 0) throw new HttpError(400, `Unsupported query condition ${condition}`);
    const field = condition.slice(0, eq) as keyof FakeIncident;
    return field in record && String(record[field]) === condition.slice(eq + 1);
  });
}

function view(record: FakeIncident, fields: string[] | undefined): Record<string, string> {
  const { workNotes: _journal, ...columns } = record;
  const all: Record<string, string> = { ...columns, work_notes: '' };
  if (!fields) return all;
  return Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]!]));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  send(res, err.status, { error: { message: err.message, detail: err.detail }, status: 'failure' }, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'Exception while reading request', 'The payload is not a JSON object.');
  return value as Record<string, unknown>;
}
