import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// What the GitHub, Jira and Confluence stand-ins share: a local HTTP server that records every
// request (method, path, query, headers, parsed body), injects failures on demand (a status with
// headers and a body, for the next n requests) and hands the rest to the fake's own router.

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters; a repeated parameter keeps every value, joined by commas. */
  query: Record<string, string>;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  text: string;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

/** Thrown by a fake's router to answer with an error reply. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

export interface InjectedFailure extends Reply {
  /** How many of the next requests get this reply (1 by default). */
  times?: number;
}

export type Router = (request: RecordedRequest, url: URL) => Reply | Promise<Reply>;

export class ProtocolServer {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: (InjectedFailure & { remaining: number })[] = [];

  private constructor(private readonly server: Server) {}

  static async start(router: Router): Promise<ProtocolServer> {
    const server = createServer();
    const fake = new ProtocolServer(server);
    server.on('request', (req, res) => {
      void fake.handle(req, res, router);
    });
    await listenLocal(server);
    return fake;
  }

  get url(): string {
    return localUrl(this.server);
  }

  /** The next `times` requests (authenticated or not) answer this instead of reaching the router. */
  failNext(failure: InjectedFailure): void {
    this.failures.push({ ...failure, remaining: failure.times ?? 1 });
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  clearRequests(): void {
    this.requests.length = 0;
    this.failures.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, router: Router): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const query: Record<string, string> = {};
      for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
      const request: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, text, body };
      this.requests.push(request);
      const failure = this.failures[0];
      if (failure) {
        if (--failure.remaining <= 0) this.failures.shift();
        reply = failure;
      } else {
        reply = await router(request, url);
      }
    } catch (err) {
      reply = err instanceof ReplyError ? err.reply : { status: 500, body: { message: (err as Error).message } };
    }
    const isText = typeof reply.body === 'string';
    const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
    res
      .writeHead(reply.status, {
        ...(reply.body === undefined ? {} : { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' }),
        ...reply.headers,
      })
      .end(payload);
  }
}

/** The Basic credentials an Authorization header carries, or null. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
