import { Hono, type MiddlewareHandler } from 'hono';
import type * as ServerModule from '@modelcontextprotocol/sdk/server/index.js';
import type * as TransportModule from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type * as SdkTypes from '@modelcontextprotocol/sdk/types.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { ToolCaller } from '../../tools/tool.js';
import { AuthenticationError, type AuthEnv, type Authenticator } from '../auth.js';
import { problemResponse } from '../problem.js';
import { InMemoryProposalLedger, type ProposalLedger } from './proposals.js';
import { CONFIRM_ARGUMENT, callMcpTool, listMcpTools, type IntegrationResolver } from './tool-calls.js';

// The chat tool registry served over MCP's streamable HTTP transport at /mcp, so other agents and
// IDEs use InfraAI's tools with the API's own authentication and the chat's confirmations.
//
// Stateless: every POST gets a fresh MCP server bound to the authenticated caller, no session id is
// issued, and any API process can answer any request (behind a load balancer as the rest of the
// API). The spec lets such a server answer GET (no server-initiated stream: nothing is pushed, the
// tool list only changes with a deploy) and DELETE (no session to end) with 405.

export interface McpRoutesDeps {
  registry: ToolRegistry;
  /** Answers a tool's `integration(name)` for the calling user. */
  resolveIntegration: IntegrationResolver;
  auth: Authenticator;
  /** Reported to clients as the server's version. */
  version: string;
  /** Pending proposals awaiting their confirmation; default: this process's memory (see InMemoryProposalLedger). */
  proposals?: ProposalLedger;
  /** Largest JSON-RPC body read (413 beyond it); default the SDK's 4 MiB. */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

const INSTRUCTIONS =
  'InfraAI: incident, knowledge, CMDB and integration tools of the authenticated tenant. ' +
  `Tools that may change something are confirmed per call: a call that would change something returns a proposal with a hash and runs nothing; ` +
  `call the same tool with the same arguments plus "${CONFIRM_ARGUMENT}": "<hash>" to run it once. Refusals come back as tool results with isError.`;

/**
 * The SDK's server side, loaded on the first MCP request: it costs a few hundred milliseconds to
 * load, which every API start (and every test building the app) would otherwise pay.
 */
let sdk: Promise<[typeof ServerModule, typeof TransportModule, typeof SdkTypes]> | null = null;
const loadSdk = () =>
  (sdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]));

/** The /mcp sub-app: POST carries JSON-RPC; GET and DELETE answer 405 (stateless server, see above). */
export function createMcpRoutes(deps: McpRoutesDeps): Hono<AuthEnv> {
  const log = deps.log ?? ((line: string) => console.error(line));
  const proposals = deps.proposals ?? new InMemoryProposalLedger();
  const routes = new Hono<AuthEnv>();

  const mcpServerFor = async (
    caller: ToolCaller,
    requestSignal: AbortSignal,
  ): Promise<{ server: ServerModule.Server; transport: TransportModule.WebStandardStreamableHTTPServerTransport }> => {
    const [{ Server }, { WebStandardStreamableHTTPServerTransport }, schemas] = await loadSdk();
    const server = new Server(
      { name: 'infraai', version: deps.version },
      { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
    );
    server.setRequestHandler(schemas.ListToolsRequestSchema, () => ({ tools: listMcpTools(deps.registry, caller, log) }));
    server.setRequestHandler(schemas.CallToolRequestSchema, (request, extra) =>
      callMcpTool(
        { registry: deps.registry, resolveIntegration: deps.resolveIntegration, proposals, log },
        caller,
        request.params.name,
        request.params.arguments,
        // Aborted when the client's connection closes. A notifications/cancelled arrives in another
        // POST, at another (stateless) server instance, and does not reach this call.
        AbortSignal.any([extra.signal, requestSignal]),
      ),
    );
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // One JSON answer per POST: tool calls are request/response, and nothing streams back meanwhile.
      enableJsonResponse: true,
      ...(deps.maxBodyBytes ? { maxRequestBodySize: deps.maxBodyBytes } : {}),
    });
    await server.connect(transport);
    return { server, transport };
  };

  routes.post('/', authenticateMcp(deps.auth), async (c) => {
    const principal = c.get('principal');
    const { server, transport } = await mcpServerFor(
      { tenantId: principal.tenantId, userId: principal.subject, role: principal.role },
      c.req.raw.signal,
    );
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      // The answer is complete (JSON mode): nothing of this request's server outlives it.
      await server.close();
    }
  });

  // Any other method. Mounted in the API, the app's method check answers first (405, Allow: POST).
  routes.all('/', (c) =>
    problemResponse(
      c,
      405,
      'method-not-allowed',
      `This MCP server is stateless: it opens no server-to-client stream and issues no sessions, so ${c.req.method} /mcp is not used. Send JSON-RPC with POST.`,
      undefined,
      { allow: 'POST' },
    ),
  );
  return routes;
}

/**
 * The API's authentication (bearer API key or JWT, or X-API-Key) without /api/v1's method rules:
 * every MCP message is a POST, and what a role may do is decided per tool by the registry.
 */
function authenticateMcp(auth: Authenticator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    try {
      c.set('principal', await auth.authenticate({ authorization: c.req.header('authorization'), apiKey: c.req.header('x-api-key') }));
    } catch (err) {
      if (err instanceof AuthenticationError) {
        return problemResponse(c, 401, 'unauthorized', err.message, undefined, { 'www-authenticate': 'Bearer realm="infraai"' });
      }
      throw err;
    }
    await next();
  };
}
