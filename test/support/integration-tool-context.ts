import { INTEGRATION_SETTINGS, IntegrationNotConfiguredError, type IntegrationName } from '../../tools/integrations.js';
import type { ToolCaller, ToolRunContext } from '../../tools/tool.js';

// A tool run context as the chat activity and the MCP server build one: a caller, a signal, a call
// key, and the caller's integration settings, parsed by the same schemas the settings API uses (so
// defaults such as GitHub's baseUrl apply). An integration left out is not configured.

export function toolContext(
  settings: Partial<Record<IntegrationName, unknown>>,
  options: { caller?: Partial<ToolCaller>; callKey?: string; signal?: AbortSignal } = {},
): ToolRunContext {
  return {
    caller: { tenantId: 'acme', userId: 'api-key:1', role: 'viewer', ...options.caller },
    signal: options.signal ?? new AbortController().signal,
    callKey: options.callKey ?? `chat-s1/1/${Math.random().toString(36).slice(2)}`,
    async integration(name) {
      const raw = settings[name];
      if (raw === undefined) throw new IntegrationNotConfiguredError(name);
      return INTEGRATION_SETTINGS[name].parse(raw) as never;
    },
  };
}
