import { z } from 'zod';
import type { Role } from '../adapters/store/port.js';
import {
  ToolRefusedError,
  toolCallHash,
  type ChatTool,
  type ToolCaller,
  type ToolResult,
  type ToolRisk,
  type ToolRunContext,
} from './tool.js';

// One registry of chat tools, shared by the chat activities and the MCP server. It validates
// arguments, checks the caller's role, rates the call's risk and hashes it; the caller (a workflow
// or the MCP server) owns the confirmation step between `prepare` and `run`.

/**
 * A tool of any argument type. The registry validates arguments with the tool's own schema before it
 * calls it, so the erased parameter type is never trusted.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each tool's Args is checked by its own zod schema at the boundary.
export type AnyChatTool = ChatTool<any>;

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** What the model and MCP clients see of a tool. */
export interface ToolDescription {
  name: string;
  description: string;
  /** JSON Schema (draft-7) of the arguments. */
  parameters: Record<string, unknown>;
  /** Whether a call may change something (needs a confirmation unless rated `read` for its arguments). */
  mutating: boolean;
  integration?: string;
}

/** A validated call, ready to confirm or run. */
export interface PreparedCall {
  name: string;
  args: unknown;
  risk: ToolRisk;
  /** toolCallHash(name, args): what a confirmation must carry. */
  hash: string;
}

export interface ToolRegistry {
  /** The tools this caller may use (role high enough). */
  describe(caller: ToolCaller): ToolDescription[];
  /** Validates and rates a call; throws ToolRefusedError (unknown tool, invalid arguments, role). */
  prepare(name: string, rawArgs: unknown, caller: ToolCaller): Promise<PreparedCall>;
  /**
   * Runs a prepared call. A `change` call needs `confirmedHash` equal to its hash; a `forbidden` one
   * never runs. Throws ToolRefusedError, or what the tool throws (ToolFailedError…).
   */
  run(call: PreparedCall, context: ToolRunContext, confirmedHash?: string): Promise<ToolResult>;
  /** Whether the named tool only reads the store (ChatTool.readsStoreOnly): the chat workflow runs it as a local activity. */
  readsStoreOnly(name: string): boolean;
}

export function createToolRegistry(tools: readonly AnyChatTool[]): ToolRegistry {
  const byName = new Map<string, AnyChatTool>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`Two chat tools are named ${tool.name}`);
    if (tool.readsStoreOnly && tool.role !== 'viewer') throw new Error(`${tool.name} reads the store only, so its role must be viewer`);
    byName.set(tool.name, tool);
  }
  const descriptions = new Map<string, Omit<ToolDescription, 'mutating'> & { mutatingHint: boolean }>();

  function find(name: string, caller: ToolCaller): AnyChatTool {
    const tool = byName.get(name);
    if (!tool) throw new ToolRefusedError(`There is no tool named ${name}`, 'unknown_tool');
    if (ROLE_RANK[caller.role] < ROLE_RANK[tool.role]) {
      throw new ToolRefusedError(`${name} needs the ${tool.role} role; you have ${caller.role}`, 'role');
    }
    return tool;
  }

  return {
    describe(caller) {
      return [...byName.values()]
        .filter((tool) => ROLE_RANK[caller.role] >= ROLE_RANK[tool.role])
        .map((tool) => {
          let cached = descriptions.get(tool.name);
          if (!cached) {
            cached = {
              name: tool.name,
              description: tool.description,
              parameters: z.toJSONSchema(tool.input, { target: 'draft-7', io: 'input' }) as Record<string, unknown>,
              // Tools below operator only read; the rest may change something for some arguments.
              mutatingHint: tool.role !== 'viewer',
              ...(tool.integration ? { integration: tool.integration } : {}),
            };
            descriptions.set(tool.name, cached);
          }
          const { mutatingHint, ...rest } = cached;
          return { ...rest, mutating: mutatingHint };
        });
    },

    async prepare(name, rawArgs, caller) {
      const tool = find(name, caller);
      const parsed = tool.input.safeParse(rawArgs ?? {});
      if (!parsed.success) {
        const problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
        throw new ToolRefusedError(`Invalid arguments for ${name}: ${problem}`, 'invalid_arguments');
      }
      const risk = await tool.risk(parsed.data, caller);
      return { name, args: parsed.data, risk, hash: toolCallHash(name, parsed.data) };
    },

    async run(call, context, confirmedHash) {
      const tool = find(call.name, context.caller);
      // Re-validate and re-rate: a prepared call may have travelled through workflow history or a client.
      const prepared = await this.prepare(call.name, call.args, context.caller);
      if (prepared.hash !== call.hash) throw new ToolRefusedError(`The call to ${call.name} changed after it was prepared`, 'confirmation');
      if (prepared.risk === 'forbidden') throw new ToolRefusedError(`Policy forbids this call to ${call.name}`, 'forbidden');
      if (prepared.risk === 'change' && confirmedHash !== prepared.hash) {
        throw new ToolRefusedError(`${call.name} changes something and needs a confirmation of this exact call`, 'confirmation');
      }
      return tool.run(prepared.args, context);
    },

    readsStoreOnly(name) {
      return byName.get(name)?.readsStoreOnly === true;
    },
  };
}
