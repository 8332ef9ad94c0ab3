import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal, localUrl } from './local-server.js';

// A local stand-in for Infisical's REST API, for exactly the calls @infisical/sdk v5 makes for the
// Infisical credential vault (see adapters/secrets/infisical-vault.ts):
//   POST   /api/v1/auth/universal-auth/login   JSON {clientId, clientSecret} -> {accessToken, expiresIn, accessTokenMaxTTL, tokenType}
//   GET    /api/v3/secrets/raw                 ?workspaceId&environment&secretPath…   -> {secrets, imports}
//   GET    /api/v3/secrets/raw/{secretName}    ?workspaceId&environment&secretPath…   -> {secret}
//   POST   /api/v3/secrets/raw/{secretName}    JSON {workspaceId, environment, secretPath, secretValue, …} -> {secret}
//   PATCH  /api/v3/secrets/raw/{secretName}    JSON {workspaceId, environment, secretPath, secretValue, type} -> {secret}
//   DELETE /api/v3/secrets/raw/{secretName}    JSON {workspaceId, environment, secretPath, type} -> {secret}
//   POST   /api/v1/folders                     JSON {name, path, workspaceId, environment, description} -> {folder}
// Behaviour follows Infisical's secret and folder services: a secret lives in a folder of an
// environment (only '/' exists at first); creating one in a missing folder answers 404 'Folder with
// path … not found', an existing key 400 'Secret already exist'; listing a missing folder answers no
// secrets; a missing secret is 404; creating an existing folder is 400 'Folder with name … already
// exists'; an unknown environment 404 'Environment with slug …'; a value with a ${reference} to a
// secret that does not exist is refused (400) as Infisical validates references on write.
// Errors have Infisical's shape {reqId, statusCode, message, error}. The login checks clientId and
// clientSecret (401 'Invalid credentials'); every other call needs `Authorization: Bearer <token>`
// with a token it issued and has not revoked (401 otherwise). Requests are recorded (with the raw
// URL) so tests can assert their shape; `failNext` makes the next request(s) fail with a status.

export interface RecordedRequest {
  method: string;
  /** The raw request URL (path and query), as the client sent it. */
  url: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when there was none). */
  body: unknown;
}

export interface FakeSecret {
  id: string;
  secretKey: string;
  secretValue: string;
  secretComment: string;
  type: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface FakeInfisicalOptions {
  clientId: string;
  clientSecret: string;
  projectId: string;
  /** Environment slugs of the project; default dev, staging, prod. */
  environments?: string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ERROR_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'UnauthorizedError',
  403: 'PermissionDenied',
  404: 'NotFound',
  429: 'RateLimitExceeded',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

export class FakeInfisical {
  readonly requests: RecordedRequest[] = [];
  /** Folders per environment, by full path; secrets per `${environment}:${path}` folder. */
  private readonly folders = new Map<string, Set<string>>();
  private readonly secrets = new Map<string, Map<string, FakeSecret>>();
  private readonly tokens = new Set<string>();
  private failures: { status: number; remaining: number; message: string }[] = [];
  /** How many logins succeeded. */
  logins = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeInfisicalOptions,
  ) {
    for (const env of options.environments ?? ['dev', 'staging', 'prod']) this.folders.set(env, new Set(['/']));
  }

  /** Starts on 127.0.0.1 and a free port. */
  static async start(options: FakeInfisicalOptions): Promise<FakeInfisical> {
    const server = createServer();
    const fake = new FakeInfisical(server, options);
    server.on('request', (req, res) => {
      void fake.handle(req, res);
    });
    await listenLocal(server);
    return fake;
  }

  /** Plain-http base URL, usable as the SDK's siteUrl. */
  get url(): string {
    return localUrl(this.server);
  }

  /** The next `times` requests (any path, login included) answer `status` with an Infisical-style error body. */
  failNext(status: number, times = 1, message = 'injected failure'): void {
    this.failures.push({ status, remaining: times, message });
  }

  /** Every issued access token stops working (as when they expire); the next call must log in again. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Secrets stored in one folder, by key. */
  secretsIn(environment: string, path: string): FakeSecret[] {
    return [...(this.secrets.get(`${environment}:${path}`)?.values() ?? [])];
  }

  hasFolder(environment: string, path: string): boolean {
    return this.folders.get(environment)?.has(path) ?? false;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reqId = `req-${randomBytes(6).toString('hex')}`;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = await readBody(req);
      let body: unknown;
      if (text.length > 0) {
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'expected a JSON body');
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'request body is not valid JSON');
        }
      }
      const method = req.method ?? 'GET';
      this.requests.push({
        method,
        url: req.url ?? '/',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      });

      const failure = this.failures[0];
      if (failure) {
        if (--failure.remaining <= 0) this.failures.shift();
        throw new HttpError(failure.status, failure.message);
      }
      if (method === 'POST' && url.pathname === '/api/v1/auth/universal-auth/login') {
        send(res, 200, this.login(asObject(body)));
        return;
      }
      const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
      if (!auth) throw new HttpError(401, 'Missing Authorization header in the request header.');
      if (!this.tokens.has(auth[1]!)) throw new HttpError(401, 'Token expired or revoked');
      send(res, 200, this.route(method, url, body));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { reqId, statusCode: status, message: (err as Error).message, error: ERROR_NAMES[status] ?? 'Error' });
    }
  }

  private login(body: Record<string, unknown>): unknown {
    if (body.clientId !== this.options.clientId || body.clientSecret !== this.options.clientSecret)
      throw new HttpError(401, 'Invalid credentials');
    const accessToken = `fake.${randomBytes(24).toString('base64url')}`;
    this.tokens.add(accessToken);
    this.logins++;
    return { accessToken, expiresIn: 7200, accessTokenMaxTTL: 2_592_000, tokenType: 'Bearer' };
  }

  private route(method: string, url: URL, body: unknown): unknown {
    if (method === 'POST' && url.pathname === '/api/v1/folders') return this.createFolder(asObject(body));
    if (method === 'GET' && url.pathname === '/api/v3/secrets/raw') return this.listSecrets(url.searchParams);
    const one = /^\/api\/v3\/secrets\/raw\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const name = decodeURIComponent(one[1]!);
      if (method === 'GET') return this.getSecret(name, url.searchParams);
      if (method === 'POST') return this.createSecret(name, asObject(body));
      if (method === 'PATCH') return this.updateSecret(name, asObject(body));
      if (method === 'DELETE') return this.deleteSecret(name, asObject(body));
    }
    throw new HttpError(404, `Route ${method}:${url.pathname} not found`);
  }

  /** The folder set of the request's project and environment, after the checks Infisical makes. */
  private scope(
    workspaceId: unknown,
    environment: unknown,
  ): { environment: string; folders: Set<string> } | { environment: string; folders: null } {
    if (typeof workspaceId !== 'string' || workspaceId === '') throw new HttpError(400, 'workspaceId is required');
    if (workspaceId !== this.options.projectId) throw new HttpError(404, `Project with ID '${workspaceId}' not found`);
    if (typeof environment !== 'string' || environment === '') throw new HttpError(400, 'environment is required');
    return { environment, folders: this.folders.get(environment) ?? null };
  }

  private folderOf(params: { workspaceId: unknown; environment: unknown; secretPath: unknown }): string {
    const { environment, folders } = this.scope(params.workspaceId, params.environment);
    const path = normalizePath(params.secretPath);
    if (!folders?.has(path)) throw new HttpError(404, `Folder with path '${path}' in environment with slug '${environment}' not found`);
    return `${environment}:${path}`;
  }

  private createFolder(body: Record<string, unknown>): unknown {
    const { environment, folders } = this.scope(body.workspaceId, body.environment);
    if (!folders)
      throw new HttpError(404, `Environment with slug '${environment}' in project with ID '${this.options.projectId}' not found`);
    if (typeof body.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(body.name))
      throw new HttpError(400, 'Folder name can only contain alphanumeric, dashes, and underscore characters');
    const parent = normalizePath(body.path);
    const full = parent === '/' ? `/${body.name}` : `${parent}/${body.name}`;
    if (folders.has(full)) throw new HttpError(400, `Folder with name '${body.name}' already exists in path '${parent}'`);
    // Like Infisical, missing parent folders are created on the way.
    let path = '';
    for (const segment of full.split('/').filter(Boolean)) folders.add((path = `${path}/${segment}`));
    const now = new Date().toISOString();
    return {
      folder: {
        id: randomUUID(),
        name: body.name,
        envId: environment,
        description: body.description ?? null,
        createdAt: now,
        updatedAt: now,
        parentId: null,
        isReserved: false,
        version: 1,
        path: full,
      },
    };
  }

  private listSecrets(query: URLSearchParams): unknown {
    const { environment, folders } = this.scope(query.get('workspaceId'), query.get('environment'));
    const path = normalizePath(query.get('secretPath'));
    if (!folders?.has(path)) return { secrets: [], imports: [] };
    const view = query.get('viewSecretValue') !== 'false';
    const secrets = this.secretsIn(environment, path).map((secret) => this.shape(secret, environment, path, view));
    return { secrets, imports: [] };
  }

  private getSecret(name: string, query: URLSearchParams): unknown {
    const folder = this.folderOf({
      workspaceId: query.get('workspaceId'),
      environment: query.get('environment'),
      secretPath: query.get('secretPath'),
    });
    const secret = this.secrets.get(folder)?.get(name);
    if (!secret) throw new HttpError(404, `Secret with name '${name}' not found`);
    const [environment, path] = splitFolder(folder);
    return { secret: this.shape(secret, environment, path, query.get('viewSecretValue') !== 'false') };
  }

  private createSecret(name: string, body: Record<string, unknown>): unknown {
    if (/[\s:]/.test(name)) throw new HttpError(400, 'Secret name cannot contain spaces or colons.');
    if (typeof body.secretValue !== 'string') throw new HttpError(400, 'secretValue is required');
    if (body.type !== undefined && body.type !== 'shared') throw new HttpError(400, 'Must be user to create personal secret');
    const folder = this.folderOf(body as { workspaceId: unknown; environment: unknown; secretPath: unknown });
    const secrets = this.secrets.get(folder) ?? new Map<string, FakeSecret>();
    if (secrets.has(name)) throw new HttpError(400, 'Secret already exist');
    // Infisical validates every ${reference} in a value on write: here none can resolve.
    const references = [...body.secretValue.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
    if (references.length) throw new HttpError(400, `Referenced secret(s) not found: ${references.join(',')}`);
    const now = new Date().toISOString();
    const secret: FakeSecret = {
      id: randomUUID(),
      secretKey: name,
      secretValue: body.secretValue,
      secretComment: typeof body.secretComment === 'string' ? body.secretComment : '',
      type: 'shared',
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    secrets.set(name, secret);
    this.secrets.set(folder, secrets);
    const [environment, path] = splitFolder(folder);
    return { secret: this.shape(secret, environment, path, true) };
  }

  private updateSecret(name: string, body: Record<string, unknown>): unknown {
    if (body.type !== undefined && body.type !== 'shared') throw new HttpError(400, 'Must be user to update personal secret');
    const folder = this.folderOf(body as { workspaceId: unknown; environment: unknown; secretPath: unknown });
    const secret = this.secrets.get(folder)?.get(name);
    if (!secret) throw new HttpError(404, `Secret with name '${name}' not found`);
    if (body.secretValue !== undefined) {
      if (typeof body.secretValue !== 'string') throw new HttpError(400, 'secretValue must be a string');
      const references = [...body.secretValue.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
      if (references.length) throw new HttpError(400, `Referenced secret(s) not found: ${references.join(',')}`);
      secret.secretValue = body.secretValue;
    }
    if (typeof body.secretComment === 'string') secret.secretComment = body.secretComment;
    secret.version += 1;
    secret.updatedAt = new Date().toISOString();
    const [environment, path] = splitFolder(folder);
    return { secret: this.shape(secret, environment, path, true) };
  }

  private deleteSecret(name: string, body: Record<string, unknown>): unknown {
    const folder = this.folderOf(body as { workspaceId: unknown; environment: unknown; secretPath: unknown });
    const secret = this.secrets.get(folder)?.get(name);
    if (!secret) throw new HttpError(404, 'Secret not found');
    this.secrets.get(folder)!.delete(name);
    const [environment, path] = splitFolder(folder);
    return { secret: this.shape(secret, environment, path, true) };
  }

  /** A secret as Infisical's raw endpoints return it. */
  private shape(secret: FakeSecret, environment: string, path: string, view: boolean): unknown {
    return {
      id: secret.id,
      _id: secret.id,
      workspace: this.options.projectId,
      workspaceId: this.options.projectId,
      environment,
      secretPath: path,
      secretKey: secret.secretKey,
      secretValue: view ? secret.secretValue : '<hidden-by-infisical>',
      secretValueHidden: !view,
      secretComment: secret.secretComment,
      type: secret.type,
      version: secret.version,
      tags: [],
      secretMetadata: [],
      skipMultilineEncoding: false,
      isRotatedSecret: false,
      rotationId: null,
      createdAt: secret.createdAt,
      updatedAt: secret.updatedAt,
    };
  }
}

function normalizePath(path: unknown): string {
  const segments = (typeof path === 'string' && path !== '' ? path : '/').split('/').filter(Boolean);
  return `/${segments.join('/')}`;
}

function splitFolder(folder: string): [string, string] {
  const at = folder.indexOf(':');
  return [folder.slice(0, at), folder.slice(at + 1)];
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'expected a JSON object body');
  return body as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(payload));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
