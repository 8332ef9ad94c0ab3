import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { Role } from '../adapters/store/port.js';
import type { ChatChildRun } from '../core/contracts/chat.js';
import type { IntegrationName, IntegrationSettings } from './integrations.js';

// The chat agent's tools, shared by the chat workflow's activities (activities/chat/) and the MCP
// server (api/mcp/): one registry, one confirmation rule, one risk model. A tool is a named, typed
// function over the adapters; it never decides on its own whether it may run: the caller asks the
// registry for the call's risk and, for anything but `read`, needs a confirmation bound to the call's
// hash (the tool name and its canonical arguments) before `run`.

/**
 * - `read`: looks, changes nothing (knowledge search, CMDB, Prometheus, Jira search…): runs at once.
 * - `change`: changes something outside InfraAI or starts work (create a ServiceNow incident, start a
 *   remediation, resolve a PagerDuty incident): proposed, runs only after a matching confirmation.
 * - `forbidden`: never runs (the command policy forbids what it would do on a host).
 */
export type ToolRisk = 'read' | 'change' | 'forbidden';

/** Who is calling: the tenant and user a conversation or an MCP session belongs to. */
export interface ToolCaller {
  tenantId: string;
  /** The principal's subject (`api-key:<id>` or a JWT `sub`): integration settings are per user. */
  userId: string;
  role: Role;
}

/** What a tool returns: text for the model (bounded, redacted) and optional structured data for clients. */
export interface ToolResult {
  /** What the model reads. Keep it short: a tool that found much summarises and says how to narrow. */
  content: string;
  /** Structured result for the API, the MCP client and the chat transcript (redacted before storing). */
  data?: unknown;
  /** Links the user can open (a pull request, a ServiceNow record, a run in the API). */
  links?: { title: string; url: string }[];
  /** A run the tool recorded but did not start: the caller starts it as its child (only when the context says `childRuns`). */
  childRun?: ChatChildRun;
}

export interface ToolRunContext {
  caller: ToolCaller;
  /** Aborted when the activity is cancelled or times out: pass it to fetch and SDK calls. */
  signal: AbortSignal;
  /** A stable id for this call (chat: `<workflowId>/<turn>/<callId>`): make external creates idempotent with it. */
  callKey: string;
  /**
   * The caller's effective settings for an integration (the user's over the tenant's), secrets
   * revealed; throws IntegrationNotConfiguredError (tools/integrations.ts) when there are none.
   */
  integration<N extends IntegrationName>(name: N): Promise<IntegrationSettings<N>>;
  /**
   * The caller starts the runs a tool records as its own child workflows (the chat workflow): a tool
   * that starts a remediation or an Ansible run records it and returns `childRun` instead of starting it.
   */
  childRuns?: boolean;
}

export interface ChatTool<Args = unknown> {
  /** snake_case, unique in the registry (`servicenow_create_incident`). */
  readonly name: string;
  /** For the model: what it does, when to use it, what it returns. */
  readonly description: string;
  /** Validates arguments; its JSON Schema is what the model and MCP clients see. */
  readonly input: z.ZodType<Args>;
  /** The integration it needs configured (`servicenow`, `github`…); absent for built-in tools. */
  readonly integration?: IntegrationName;
  /** The least role that may run it (`viewer` reads, `operator` changes). */
  readonly role: Role;
  /**
   * It only reads this deployment's own store (no network beyond the database, bounded work), so the
   * chat workflow may run it as a local activity, without a task-queue round trip. Only `viewer` tools.
   */
  readonly readsStoreOnly?: boolean;
  /** Per tool, and per call where it depends on the arguments (a host command goes through the command policy). */
  risk(args: Args, caller: ToolCaller): ToolRisk | Promise<ToolRisk>;
  run(args: Args, context: ToolRunContext): Promise<ToolResult>;
}

/** The call cannot run: unknown tool, bad arguments, a role too low, an integration not configured. */
export class ToolRefusedError extends Error {
  override readonly name = 'ToolRefusedError';
  constructor(
    message: string,
    readonly reason: 'unknown_tool' | 'invalid_arguments' | 'role' | 'not_configured' | 'forbidden' | 'confirmation',
  ) {
    super(message);
  }
}

/** The external service failed; `retryable` for network errors, 429 and 5xx. */
export class ToolFailedError extends Error {
  override readonly name = 'ToolFailedError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** How long the service asked callers to wait (Retry-After on a 429 or 503): the next attempt's delay. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** JSON with object keys sorted at every level: the same arguments always give the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** What a confirmation must carry: sha256 over the tool name and its canonical (validated) arguments. */
export function toolCallHash(name: string, args: unknown): string {
  return createHash('sha256')
    .update(`${name}\n${canonicalJson(args)}`)
    .digest('hex');
}
