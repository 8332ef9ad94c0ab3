import { randomUUID } from 'node:crypto';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDescription, ToolRegistry, PreparedCall } from '../../tools/registry.js';
import { IntegrationNotConfiguredError, type IntegrationName, type IntegrationSettings } from '../../tools/integrations.js';
import {
  ToolFailedError,
  ToolRefusedError,
  canonicalJson,
  type ToolCaller,
  type ToolResult,
  type ToolRunContext,
} from '../../tools/tool.js';
import type { PendingProposal, ProposalLedger } from './proposals.js';

// The chat tool registry as MCP tools: what a caller may list, and one call from arguments to an
// MCP result. Confirmations work as in chat: a call rated `change` returns a proposal (the call and
// its hash) and runs only when the client calls the same tool with the same arguments plus
// `_confirm: <hash>`; `forbidden` never runs. Refusals and tool failures are tool results with
// `isError`, so the calling model reads the reason; protocol errors are kept for malformed requests.

/** The argument every mutating tool accepts to confirm a proposed call; stripped before validation. */
export const CONFIRM_ARGUMENT = '_confirm';

/** The caller's effective settings of an integration (the user's over the tenant's), secrets revealed. */
export type IntegrationResolver = <N extends IntegrationName>(caller: ToolCaller, name: N) => Promise<IntegrationSettings<N>>;

export interface ToolCallDeps {
  registry: ToolRegistry;
  resolveIntegration: IntegrationResolver;
  proposals: ProposalLedger;
  log: (line: string) => void;
}

const HASH_PATTERN = '^[0-9a-f]{64}$';

function confirmationHelp(name: string): string {
  return (
    `Confirmation: a call of ${name} that would change something does not run; it returns the proposed call and its hash. ` +
    `To run it, call ${name} again with exactly the same arguments plus "${CONFIRM_ARGUMENT}": "<that hash>". ` +
    'A proposal is confirmed once, by the caller it was made for, before it expires; calls that only read run at once.'
  );
}

/** The registry's tools this caller's role allows, as MCP tools. */
export function listMcpTools(registry: ToolRegistry, caller: ToolCaller, log: (line: string) => void): Tool[] {
  const tools: Tool[] = [];
  for (const description of registry.describe(caller)) {
    const tool = toMcpTool(description);
    if (tool) tools.push(tool);
    else log(`[mcp] ${description.name} is not offered: its arguments are not an object, or it declares ${CONFIRM_ARGUMENT} itself`);
  }
  return tools;
}

function toMcpTool(description: ToolDescription): Tool | null {
  const schema = description.parameters;
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  if (schema.type !== 'object' || CONFIRM_ARGUMENT in properties) return null;
  const inputSchema = description.mutating
    ? {
        ...schema,
        properties: {
          ...properties,
          [CONFIRM_ARGUMENT]: {
            type: 'string',
            pattern: HASH_PATTERN,
            description: 'Only to confirm a proposed call: the hash that proposal returned. Leave it out to propose.',
          },
        },
      }
    : schema;
  return {
    name: description.name,
    description: description.mutating ? `${description.description}\n\n${confirmationHelp(description.name)}` : description.description,
    inputSchema: inputSchema as Tool['inputSchema'],
    annotations: {
      readOnlyHint: !description.mutating,
      destructiveHint: description.mutating,
      // Tools of an integration reach a service outside InfraAI.
      openWorldHint: description.integration !== undefined,
    },
  };
}

/** One tools/call: validated, rated, proposed or confirmed, run; never throws. */
export async function callMcpTool(
  deps: ToolCallDeps,
  caller: ToolCaller,
  name: string,
  rawArgs: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const context = (callKey: string): ToolRunContext => ({
    caller,
    signal,
    callKey,
    integration: (integration) => deps.resolveIntegration(caller, integration),
  });
  try {
    const { args, confirm } = splitConfirmation(name, rawArgs ?? {});
    const call = await deps.registry.prepare(name, args, caller);
    if (call.risk === 'read') return toolResult(await deps.registry.run(call, context(`mcp/${randomUUID()}`)));
    if (call.risk === 'forbidden') {
      throw new ToolRefusedError(`Policy forbids this call to ${name}: it does not run, with or without a confirmation.`, 'forbidden');
    }
    if (confirm === undefined) return proposalResult(call, await deps.proposals.propose(caller, call.hash));
    if (confirm !== call.hash) {
      throw new ToolRefusedError(
        `${CONFIRM_ARGUMENT} is not the hash of this call (its arguments differ from the proposal's, or the hash is not one we gave): nothing ran. ` +
          `Call ${name} without ${CONFIRM_ARGUMENT} to propose these arguments.`,
        'confirmation',
      );
    }
    const proposal = await deps.proposals.take(caller, call.hash);
    if (!proposal) {
      throw new ToolRefusedError(
        `There is no pending proposal of this call for you (never proposed, expired, or already run): nothing ran. ` +
          `Call ${name} without ${CONFIRM_ARGUMENT} to propose it again.`,
        'confirmation',
      );
    }
    return toolResult(await deps.registry.run(call, context(`mcp/${proposal.id}`), confirm));
  } catch (err) {
    return errorResult(deps, caller, name, err);
  }
}

function splitConfirmation(name: string, rawArgs: Record<string, unknown>): { args: Record<string, unknown>; confirm?: string } {
  if (!(CONFIRM_ARGUMENT in rawArgs)) return { args: rawArgs };
  const { [CONFIRM_ARGUMENT]: confirm, ...args } = rawArgs;
  if (typeof confirm !== 'string') {
    throw new ToolRefusedError(
      `Invalid arguments for ${name}: ${CONFIRM_ARGUMENT} must be the hash (a string) a proposal returned`,
      'invalid_arguments',
    );
  }
  return { args, confirm };
}

function proposalResult(call: PreparedCall, proposal: PendingProposal): CallToolResult {
  const expiresAt = new Date(proposal.expiresAt).toISOString();
  const text =
    `Not run: ${call.name} changes something and needs a confirmation of this exact call.\n` +
    `Proposed call: ${call.name} ${canonicalJson(call.args)}\n` +
    `To run it once, call ${call.name} again with the same arguments plus "${CONFIRM_ARGUMENT}": "${call.hash}" before ${expiresAt}.`;
  return {
    content: [{ type: 'text', text }],
    structuredContent: { status: 'confirmation_required', tool: call.name, arguments: call.args, hash: call.hash, expiresAt },
  };
}

function toolResult(result: ToolResult): CallToolResult {
  const data = result.data;
  return {
    content: [
      { type: 'text', text: result.content },
      ...(result.links ?? []).map((link) => ({ type: 'resource_link' as const, uri: link.url, name: link.title })),
    ],
    // MCP's structured content is an object; anything else travels wrapped.
    ...(data === undefined ? {} : { structuredContent: isPlainObject(data) ? data : { data } }),
  };
}

function errorResult(deps: ToolCallDeps, caller: ToolCaller, name: string, err: unknown): CallToolResult {
  let text: string;
  let reason: string;
  if (err instanceof ToolRefusedError) {
    text = err.message;
    reason = err.reason;
  } else if (err instanceof IntegrationNotConfiguredError) {
    text = err.message;
    reason = 'not_configured';
  } else if (err instanceof ToolFailedError) {
    text = `${name} failed: ${err.message}${err.retryable ? ' (temporary: trying again later may work)' : ''}`;
    reason = 'failed';
  } else {
    deps.log(
      `[mcp] ${name} failed unexpectedly for ${caller.userId} (tenant ${caller.tenantId}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    text = `${name} failed with an unexpected error; it has been logged.`;
    reason = 'failed';
  }
  return { isError: true, content: [{ type: 'text', text }], structuredContent: { status: 'error', reason, message: text } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
