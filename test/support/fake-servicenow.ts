import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A local stand-in for ServiceNow's Table API on the incident table, for exactly the calls the
// ServiceNow notifier and the ServiceNow chat tools' client make:
//   GET   /api/now/table/incident?sysparm_query=<encoded query>&sysparm_limit&sysparm_offset&sysparm_fields
//         &sysparm_display_value                → 200 { result: [...] }, X-Total-Count and Link headers
//   GET   /api/now/table/incident/{sys_id}        → 200 { result: record } or 404
//   POST  /api/now/table/incident                 → 201, Location header, { result: record }
//   PATCH /api/now/table/incident/{sys_id}        → 200 { result: record } (PUT behaves the same)
//   GET   /api/now/table/sys_journal_field?sysparm_query=…  → the incidents' work notes as journal rows
// The encoded query supports what those clients send: field=value, !=, IN, LIKE, ^OR, dot-walking
// to a group's name (assignment_group.name=Network) and ORDERBY / ORDERBYDESC. With
// sysparm_display_value=all every field reads as { value, display_value }: state labels, priority
// labels, the names of the groups and users added with addGroup / addUser.
// Shapes follow the Table API reference: string field values, { result } envelopes, errors as
// { error: { message, detail }, status: 'failure' }. active and priority are computed as an
// instance computes them (inactive once Closed or Canceled; priority from urgency and impact). work_notes is a journal field: each write adds
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
  assigned_to: string;
  category: string;
  /** 'YYYY-MM-DD HH:MM:SS' (UTC), as the Table API gives dates. */
  opened_at: string;
  sys_updated_on: string;
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
  'assigned_to',
  'category',
] as const;

const STATE_LABELS: Record<string, string> = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};
const LEVEL_LABELS: Record<string, string> = { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' };
const PRIORITY_LABELS: Record<string, string> = {
  '1': '1 - Critical',
  '2': '2 - High',
  '3': '3 - Moderate',
  '4': '4 - Low',
  '5': '5 - Planning',
};

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
  /** sys_id → name of sys_user_group and sys_user records, for reference display values. */
  private readonly names = new Map<string, string>();
  private clock = Date.parse('2026-12-01T08:00:00Z');
  private failures: { status: number; remaining: number; retryAfter: string | undefined; detail: string | null }[] = [];
  private sequence = 10_000;
  private writeHold: Promise<unknown> | null = null;

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

  /** Adds an assignment group (sys_user_group) and returns its sys_id. */
  addGroup(name: string): string {
    const sysId = randomBytes(16).toString('hex');
    this.names.set(sysId, name);
    return sysId;
  }

  /** Adds a user (sys_user) and returns its sys_id. */
  addUser(name: string): string {
    return this.addGroup(name);
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

  /**
   * Writes (POST, PATCH, PUT) are applied at once but answered only when `until` settles (null: at
   * once again), so a test can kill the caller while its write is in flight.
   */
  holdWriteAnswers(until: Promise<unknown> | null): void {
    this.writeHold = until;
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
        const hold = this.writeHold;
        if (hold) {
          const end = res.end.bind(res) as (chunk: string) => ServerResponse;
          res.end = ((chunk: string) => {
            void hold.then(() => end(chunk));
            return res;
          }) as typeof res.end;
        }
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
        const offset = Number(url.searchParams.get('sysparm_offset') ?? '0');
        if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0)
          throw new HttpError(400, 'Invalid sysparm_limit or sysparm_offset');
        const matches = this.query(url.searchParams.get('sysparm_query') ?? '');
        const page = matches.slice(offset, offset + limit);
        const headers: Record<string, string> = { 'x-total-count': String(matches.length) };
        if (offset + limit < matches.length) {
          const next = new URL(`${url.pathname}${url.search}`, this.url);
          next.searchParams.set('sysparm_offset', String(offset + limit));
          headers.link = `<${next.toString()}>;rel="next"`;
        }
        send(res, 200, { result: page.map((r) => this.view(r, fields, url)) }, headers);
        return;
      }
      if (method === 'POST') {
        const record = this.newRecord();
        this.apply(record, asObject(body));
        checkDataPolicy(record);
        this.records.set(record.sys_id, record);
        send(res, 201, { result: this.view(record, fields, url) }, { location: `${this.url}/api/now/table/incident/${record.sys_id}` });
        return;
      }
    }
    if (url.pathname === '/api/now/table/sys_journal_field' && method === 'GET') {
      // Journal entries (work notes) of incidents: name, element_id, element, value; = and LIKE only.
      const { groups } = parseQuery(url.searchParams.get('sysparm_query') ?? '');
      const limit = Number(url.searchParams.get('sysparm_limit') ?? '10000');
      const rows = this.incidents().flatMap((record) =>
        record.workNotes.map((value, index) => ({
          sys_id: `${record.sys_id.slice(0, 28)}${String(index).padStart(4, '0')}`,
          name: 'incident',
          element_id: record.sys_id,
          element: 'work_notes',
          value,
        })),
      );
      const matches = rows.filter((row) =>
        groups.every((alternatives) =>
          alternatives.some(({ field, operator, value }) => {
            const actual = (row as Record<string, string>)[field];
            if (actual === undefined || (operator !== '=' && operator !== 'LIKE'))
              throw new HttpError(400, `Unsupported ${field}${operator}`);
            return operator === '=' ? actual === value : actual.toLowerCase().includes(value.toLowerCase());
          }),
        ),
      );
      send(res, 200, { result: matches.slice(0, limit) });
      return;
    }
    const one = /^\/api\/now\/table\/incident\/([^/]+)$/.exec(url.pathname);
    if (one && (method === 'PATCH' || method === 'PUT' || method === 'GET')) {
      const existing = this.records.get(one[1]!);
      if (!existing) throw new HttpError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      if (method !== 'GET') {
        const updated: FakeIncident = { ...existing, workNotes: [...existing.workNotes] };
        this.apply(updated, asObject(body));
        checkDataPolicy(updated);
        updated.sys_updated_on = this.tick();
        this.records.set(updated.sys_id, updated);
      }
      send(res, 200, { result: this.view(this.records.get(one[1]!)!, fields, url) });
      return;
    }
    throw new HttpError(400, 'Requested URI does not represent any resource', `${method} ${url.pathname}`);
  }

  /** Matching records in the query's order (creation order unless ORDERBY says otherwise). */
  private query(encoded: string): FakeIncident[] {
    const { groups, order } = parseQuery(encoded);
    const matches = this.incidents().filter((record) =>
      groups.every((alternatives) => alternatives.some((condition) => this.matches(record, condition))),
    );
    for (const { field, descending } of order.reverse()) {
      matches.sort((a, b) => {
        const [x, y] = [this.columns(a)[field] ?? '', this.columns(b)[field] ?? ''];
        return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
      });
    }
    return matches;
  }

  private matches(record: FakeIncident, { field, operator, value }: Condition): boolean {
    const columns = this.columns(record);
    let actual: string;
    if (field.endsWith('.name')) {
      const reference = columns[field.slice(0, -'.name'.length)];
      if (reference === undefined) throw new HttpError(400, `Unknown field ${field}`);
      actual = this.names.get(reference) ?? '';
    } else {
      if (!(field in columns)) throw new HttpError(400, `Unknown field ${field}`);
      actual = columns[field]!;
    }
    switch (operator) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case 'IN':
        return value.split(',').includes(actual);
      case 'LIKE':
        return actual.toLowerCase().includes(value.toLowerCase());
    }
  }

  /** The record's columns as the table holds them, computed ones included. */
  private columns(record: FakeIncident): Record<string, string> {
    const { workNotes: _journal, ...columns } = record;
    return {
      ...columns,
      active: String(!['7', '8'].includes(record.state)),
      priority: priority(record.urgency, record.impact),
      work_notes: '',
    };
  }

  private view(record: FakeIncident, fields: string[] | undefined, url: URL): Record<string, unknown> {
    const all = this.columns(record);
    const chosen = fields ? fields.filter((f) => f in all) : Object.keys(all);
    if (url.searchParams.get('sysparm_display_value') !== 'all') return Object.fromEntries(chosen.map((f) => [f, all[f]!]));
    return Object.fromEntries(chosen.map((f) => [f, { display_value: this.display(f, all[f]!), value: all[f]! }]));
  }

  private display(field: string, value: string): string {
    if (field === 'state') return STATE_LABELS[value] ?? value;
    if (field === 'urgency' || field === 'impact') return LEVEL_LABELS[value] ?? value;
    if (field === 'priority') return PRIORITY_LABELS[value] ?? value;
    if (field === 'assignment_group' || field === 'assigned_to' || field === 'caller_id') return value ? (this.names.get(value) ?? '') : '';
    return value;
  }

  /** The next timestamp: each change a second after the previous one, so ORDERBY sys_updated_on is stable. */
  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().slice(0, 19).replace('T', ' ');
  }

  private newRecord(): FakeIncident {
    this.sequence += 1;
    const now = this.tick();
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
      assigned_to: '',
      category: 'inquiry',
      opened_at: now,
      sys_updated_on: now,
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

interface Condition {
  field: string;
  operator: '=' | '!=' | 'IN' | 'LIKE';
  value: string;
}

/**
 * The encoded query: conditions joined by ^ (and) or ^OR (or, binding tighter: a^b^ORc is
 * a and (b or c)), then ORDERBY<field> / ORDERBYDESC<field>.
 */
function parseQuery(encoded: string): { groups: Condition[][]; order: { field: string; descending: boolean }[] } {
  const groups: Condition[][] = [];
  const order: { field: string; descending: boolean }[] = [];
  if (encoded === '') return { groups, order };
  for (const part of encoded.split('^')) {
    if (part.startsWith('ORDERBYDESC')) order.push({ field: part.slice('ORDERBYDESC'.length), descending: true });
    else if (part.startsWith('ORDERBY')) order.push({ field: part.slice('ORDERBY'.length), descending: false });
    else if (part.startsWith('OR') && groups.length > 0) groups.at(-1)!.push(parseCondition(part.slice(2)));
    else groups.push([parseCondition(part)]);
  }
  return { groups, order };
}

function parseCondition(condition: string): Condition {
  const match = /^([a-z_][a-z0-9_.]*?)(!=|=|IN|LIKE)(.*)$/.exec(condition);
  if (!match) throw new HttpError(400, `Unsupported query condition ${condition}`);
  return { field: match[1]!, operator: match[2] as Condition['operator'], value: match[3]! };
}

/** The out-of-the-box priority lookup: urgency and impact (1 high … 3 low) to priority 1 … 5. */
function priority(urgency: string, impact: string): string {
  const sum = Number(urgency) + Number(impact);
  return Number.isFinite(sum) ? String(Math.min(5, Math.max(1, sum - 1))) : '5';
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
