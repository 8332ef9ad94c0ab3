import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A local stand-in for PagerDuty, for exactly the calls the PagerDuty notifier and the PagerDuty
// chat tools' client make. One port serves both APIs (give it as apiBaseUrl and as eventsBaseUrl):
//   REST API v2   GET  /incidents?statuses[]&service_ids[]&since&until&limit&offset&total&sort_by
//                      → 200 { incidents, limit, offset, more, total }  (classic offset pagination)
//                 GET  /incidents/{id}                                           → 200 { incident }
//                 POST /incidents/{id}/notes  { note: { content } }                → 201 { note }
//                 PUT  /incidents/{id}        { incident: { type, status, … } }    → 200 { incident }
//   Events API v2 POST /v2/enqueue            { routing_key, event_action, dedup_key, payload? } → 202
// REST calls need `Authorization: Token token=<apiKey>` (401 otherwise) and, to write, a From
// header naming a known user (400 otherwise); errors are { error: { message, code, errors } }.
// Resolving a resolved incident answers 400 "Incident Already Resolved". Events are checked
// against the routing key (400 { status, message, errors } otherwise) and acknowledge / resolve
// the incident carrying that dedup key. Every request is recorded; `failNext` makes the next
// request(s) fail with a status and, optionally, Retry-After and ratelimit-reset headers.

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string's parameters, in order (statuses[] repeats). */
  query: [string, string][];
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
}

export type FakeIncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface FakePdIncident {
  id: string;
  number: number;
  title: string;
  urgency: 'high' | 'low';
  serviceId: string;
  /** ISO 8601. */
  createdAt: string;
  lastStatusChangeAt: string;
  assignees: string[];
  status: FakeIncidentStatus;
  /** The alert key the Events API addresses this incident by. */
  dedupKey: string | null;
  notes: { id: string; content: string; from: string }[];
}

export interface FakePagerDutyOptions {
  apiKey: string;
  /** Emails of the account's users (valid From values). */
  users: string[];
  routingKey?: string;
}

export interface AcceptedEvent {
  routing_key: string;
  event_action: string;
  dedup_key: string;
}

class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: number,
    readonly errors: string[] = [],
  ) {
    super(message);
  }
}

export class FakePagerDuty {
  readonly requests: RecordedRequest[] = [];
  readonly events: AcceptedEvent[] = [];
  private readonly records = new Map<string, FakePdIncident>();
  private readonly services = new Map<string, string>([['PSVC001', 'Default Service']]);
  private sequence = 1000;
  private clock = Date.parse('2026-12-01T08:00:00Z');
  private failures: { status: number; remaining: number; retryAfter: string | undefined; rateLimitReset: string | undefined }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: FakePagerDutyOptions,
  ) {}

  /** Starts on 127.0.0.1 and a free port. */
  static async start(options: FakePagerDutyOptions): Promise<FakePagerDuty> {
    const server = createServer();
    const fake = new FakePagerDuty(server, options);
    server.on('request', (req, res) => {
      void fake.handle(req, res);
    });
    await listenLocal(server);
    return fake;
  }

  get url(): string {
    return localUrl(this.server);
  }

  /** Adds a service and returns its id. */
  addService(name: string): string {
    const id = `PS${randomBytes(3).toString('hex').toUpperCase()}`;
    this.services.set(id, name);
    return id;
  }

  /** Adds an incident (triggered, on the default service, a second after the previous one unless given) and returns its id. */
  addIncident(
    fields: {
      id?: string;
      status?: FakeIncidentStatus;
      dedupKey?: string;
      title?: string;
      urgency?: 'high' | 'low';
      serviceId?: string;
      createdAt?: string;
      assignees?: string[];
    } = {},
  ): string {
    const id = fields.id ?? `Q${randomBytes(6).toString('hex').toUpperCase()}`;
    this.clock += 1000;
    const createdAt = fields.createdAt ?? new Date(this.clock).toISOString().replace('.000', '');
    this.records.set(id, {
      id,
      number: ++this.sequence,
      title: fields.title ?? 'CPU load high on web-1',
      urgency: fields.urgency ?? 'high',
      serviceId: fields.serviceId ?? 'PSVC001',
      createdAt,
      lastStatusChangeAt: createdAt,
      assignees: fields.assignees ?? ['Alex Oncall'],
      status: fields.status ?? 'triggered',
      dedupKey: fields.dedupKey ?? null,
      notes: [],
    });
    return id;
  }

  incident(id: string): FakePdIncident | undefined {
    return this.records.get(id);
  }

  /** The next `times` requests (either API) answer `status`. */
  failNext(status: number, times = 1, options: { retryAfter?: string; rateLimitReset?: string } = {}): void {
    this.failures.push({ status, remaining: times, retryAfter: options.retryAfter, rateLimitReset: options.rateLimitReset });
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
    this.requests.push({ method, path: url.pathname, query: [...url.searchParams], headers: req.headers, body });
    if (url.pathname === '/v2/enqueue' && method === 'POST') {
      this.enqueue(body, malformed, res);
      return;
    }
    try {
      if (req.headers.authorization !== `Token token=${this.options.apiKey}`) throw new RestError(401, 'Authentication failed', 2006);
      if (
        this.injectFailure(res, (status) => ({
          error: { message: status === 429 ? 'Rate Limit Exceeded' : 'Injected failure', code: status === 429 ? 2020 : 2000 },
        }))
      )
        return;
      if (malformed) throw new RestError(400, 'Invalid Input Provided', 2001, ['The request body is not valid JSON']);
      send(res, ...this.rest(method, url, body, req.headers.from));
    } catch (err) {
      const e = err instanceof RestError ? err : new RestError(500, (err as Error).message, 2000);
      send(res, e.status, { error: { message: e.message, code: e.code, ...(e.errors.length ? { errors: e.errors } : {}) } });
    }
  }

  private rest(method: string, url: URL, body: unknown, from: string | string[] | undefined): [number, unknown] {
    const path = url.pathname;
    if (path === '/incidents' && method === 'GET') return [200, this.list(url.searchParams)];
    const notes = /^\/incidents\/([^/]+)\/notes$/.exec(path);
    const one = /^\/incidents\/([^/]+)$/.exec(path);
    const id = (notes ?? one)?.[1];
    if (!id || (notes && method !== 'POST') || (one && method !== 'PUT' && method !== 'GET')) throw new RestError(404, 'Not Found', 2100);
    if (one && method === 'GET') {
      const found = this.records.get(id);
      if (!found) throw new RestError(404, 'Not Found', 2100);
      return [200, { incident: this.view(found) }];
    }
    const user = this.requireFrom(from);
    const incident = this.records.get(id);
    if (!incident) throw new RestError(404, 'Not Found', 2100);
    const input = asObject(body);
    if (notes) {
      const note = input.note as { content?: unknown } | undefined;
      if (typeof note?.content !== 'string' || note.content.trim() === '')
        throw new RestError(400, 'Invalid Input Provided', 2001, ['Content cannot be empty.']);
      const created = { id: `N${randomBytes(4).toString('hex').toUpperCase()}`, content: note.content, from: user };
      incident.notes.push(created);
      return [
        201,
        {
          note: {
            id: created.id,
            user: { id: 'PUSER01', type: 'user_reference', summary: user },
            content: created.content,
            created_at: new Date().toISOString(),
          },
        },
      ];
    }
    const update = input.incident as { type?: unknown; status?: unknown } | undefined;
    if (!update || (update.type !== 'incident' && update.type !== 'incident_reference'))
      throw new RestError(400, 'Invalid Input Provided', 2001, ['Incident type must be incident or incident_reference.']);
    if (update.status !== undefined) {
      if (update.status !== 'resolved' && update.status !== 'acknowledged' && update.status !== 'triggered')
        throw new RestError(400, 'Invalid Input Provided', 2001, ['Status is not valid.']);
      if (incident.status === 'resolved' && update.status !== 'resolved')
        throw new RestError(400, 'Invalid Input Provided', 2001, ['Incident Already Resolved']);
      if (update.status === 'resolved' && incident.status === 'resolved')
        throw new RestError(400, 'Invalid Input Provided', 2001, ['Incident Already Resolved']);
      if (update.status !== incident.status) {
        this.clock += 1000;
        incident.lastStatusChangeAt = new Date(this.clock).toISOString().replace('.000', '');
      }
      incident.status = update.status;
      if (update.status === 'resolved') incident.assignees = [];
    }
    return [200, { incident: this.view(incident) }];
  }

  /** GET /incidents: filters, newest first (sort_by=created_at:desc) or oldest first, classic offset pagination. */
  private list(params: URLSearchParams): unknown {
    const statuses = params.getAll('statuses[]');
    for (const status of statuses)
      if (!['triggered', 'acknowledged', 'resolved'].includes(status))
        throw new RestError(400, 'Invalid Input Provided', 2001, ['Statuses must be one of triggered, acknowledged, resolved.']);
    const serviceIds = params.getAll('service_ids[]');
    const since = params.get('since');
    const until = params.get('until');
    for (const value of [since, until])
      if (value !== null && Number.isNaN(Date.parse(value))) throw new RestError(400, 'Invalid Input Provided', 2001, ['Invalid date.']);
    const limit = Number(params.get('limit') ?? '25');
    const offset = Number(params.get('offset') ?? '0');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0)
      throw new RestError(400, 'Invalid Input Provided', 2001, ['Limit must be 1 to 100 and offset 0 or more.']);
    const sortBy = params.get('sort_by') ?? 'created_at:asc';
    const matches = [...this.records.values()]
      .filter((r) => statuses.length === 0 || statuses.includes(r.status))
      .filter((r) => serviceIds.length === 0 || serviceIds.includes(r.serviceId))
      .filter((r) => since === null || Date.parse(r.createdAt) >= Date.parse(since))
      .filter((r) => until === null || Date.parse(r.createdAt) < Date.parse(until))
      .sort((a, b) => (Date.parse(a.createdAt) - Date.parse(b.createdAt)) * (sortBy === 'created_at:desc' ? -1 : 1));
    const page = matches.slice(offset, offset + limit);
    return {
      incidents: page.map((r) => this.view(r)),
      limit,
      offset,
      more: offset + page.length < matches.length,
      total: params.get('total') === 'true' ? matches.length : null,
    };
  }

  /** An incident as the REST API v2 answers it (the fields the clients read, and a few more). */
  private view(incident: FakePdIncident): Record<string, unknown> {
    const base = this.url;
    const serviceName = this.services.get(incident.serviceId) ?? incident.serviceId;
    return {
      id: incident.id,
      type: 'incident',
      summary: `[#${incident.number}] ${incident.title}`,
      self: `${base}/incidents/${incident.id}`,
      html_url: `https://acme.pagerduty.com/incidents/${incident.id}`,
      incident_number: incident.number,
      title: incident.title,
      created_at: incident.createdAt,
      updated_at: incident.lastStatusChangeAt,
      status: incident.status,
      incident_key: incident.dedupKey,
      service: { id: incident.serviceId, type: 'service_reference', summary: serviceName, self: `${base}/services/${incident.serviceId}` },
      assignments: incident.assignees.map((name, i) => ({
        at: incident.createdAt,
        assignee: { id: `PUSER${i}`, type: 'user_reference', summary: name },
      })),
      last_status_change_at: incident.lastStatusChangeAt,
      escalation_policy: { id: 'PESC001', type: 'escalation_policy_reference', summary: 'Default' },
      urgency: incident.urgency,
      priority: incident.urgency === 'high' ? { id: 'PPRI001', type: 'priority', summary: 'P1' } : null,
    };
  }

  private requireFrom(from: string | string[] | undefined): string {
    const email = Array.isArray(from) ? from[0] : from;
    if (!email)
      throw new RestError(400, 'Invalid Input Provided', 2001, [
        'You must specify a user\'s email address in the "From" header to perform this action',
      ]);
    if (!this.options.users.includes(email))
      throw new RestError(400, 'Invalid Input Provided', 2001, ['The email address in the "From" header does not belong to a user']);
    return email;
  }

  private enqueue(body: unknown, malformed: boolean, res: ServerResponse): void {
    const invalid = (...errors: string[]) => send(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
    if (
      this.injectFailure(res, (status) => ({
        status: status === 429 ? 'throttle event' : 'error',
        message: status === 429 ? 'Requests for this service are arriving too quickly.' : 'Injected failure',
      }))
    )
      return;
    if (malformed) return invalid('JSON parse error');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('Event object format is unrecognized');
    const event = body as Record<string, unknown>;
    if (typeof event.routing_key !== 'string' || event.routing_key !== this.options.routingKey) return invalid('Invalid routing key');
    const action = event.event_action;
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve')
      return invalid("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    let dedupKey = typeof event.dedup_key === 'string' ? event.dedup_key : '';
    if (action !== 'trigger' && dedupKey === '') return invalid("'dedup_key' is missing or blank");
    if (action === 'trigger') {
      const payload = event.payload as Record<string, unknown> | undefined;
      if (!payload || typeof payload.summary !== 'string' || typeof payload.source !== 'string' || typeof payload.severity !== 'string')
        return invalid("'payload' needs summary, source and severity");
      if (dedupKey === '') dedupKey = randomBytes(16).toString('hex');
      if (![...this.records.values()].some((r) => r.dedupKey === dedupKey && r.status !== 'resolved')) this.addIncident({ dedupKey });
    } else {
      for (const record of this.records.values()) {
        if (record.dedupKey === dedupKey && record.status !== 'resolved')
          record.status = action === 'resolve' ? 'resolved' : 'acknowledged';
      }
    }
    this.events.push({ routing_key: event.routing_key, event_action: action, dedup_key: dedupKey });
    send(res, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private injectFailure(res: ServerResponse, bodyFor: (status: number) => unknown): boolean {
    const failure = this.failures[0];
    if (!failure) return false;
    if (--failure.remaining <= 0) this.failures.shift();
    const headers: Record<string, string> = {};
    if (failure.retryAfter) headers['retry-after'] = failure.retryAfter;
    if (failure.rateLimitReset) headers['ratelimit-reset'] = failure.rateLimitReset;
    send(res, failure.status, bodyFor(failure.status), headers);
    return true;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RestError(400, 'Invalid Input Provided', 2001, ['The request body must be a JSON object']);
  return value as Record<string, unknown>;
}
