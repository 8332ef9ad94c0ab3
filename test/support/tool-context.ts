import {
  INTEGRATION_SETTINGS,
  IntegrationNotConfiguredError,
  type IntegrationName,
  type IntegrationSettings,
} from '../../tools/integrations.js';
import type { ToolCaller, ToolRunContext } from '../../tools/tool.js';

/** Raw settings per integration, as a user would PUT them (parsed with the real schemas, defaults applied). */
export type RawSettings = Partial<Record<IntegrationName, Record<string, unknown>>>;

/**
 * A tool run context over fixed settings: the chat activities and the MCP server build theirs from
 * the store and the secrets port; the tools see the same shape.
 */
export function toolContext(
  settings: RawSettings,
  options: { caller?: Partial<ToolCaller>; callKey?: string; signal?: AbortSignal } = {},
): ToolRunContext {
  return {
    caller: { tenantId: 'tenant-1', userId: 'api-key:ops', role: 'operator', ...options.caller },
    signal: options.signal ?? new AbortController().signal,
    callKey: options.callKey ?? 'chat-session-1/1/call-1',
    integration<N extends IntegrationName>(name: N): Promise<IntegrationSettings<N>> {
      const raw = settings[name];
      if (!raw) return Promise.reject(new IntegrationNotConfiguredError(name));
      return Promise.resolve(INTEGRATION_SETTINGS[name].parse(raw) as IntegrationSettings<N>);
    },
  };
}
