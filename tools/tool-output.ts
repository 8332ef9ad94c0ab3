import { IntegrationNotConfiguredError } from './integrations.js';
import { ToolFailedError, ToolRefusedError } from './tool.js';

// What the integration tools share: bounded text for the model, and one translation of an
// adapter's failure into the registry's errors.

/** How much text a tool gives the model at most: enough to answer, little enough to leave room for the rest. */
export const MAX_CONTENT_CHARS = 4_000;

/**
 * A header, then as many lines as fit in `maxChars`; when some do not fit, a last line says how
 * many were left out and how to narrow the call.
 */
export function boundedLines(header: string, lines: readonly string[], narrow: string, maxChars = MAX_CONTENT_CHARS): string {
  let text = header;
  for (const [index, line] of lines.entries()) {
    const left = lines.length - index;
    const tail = `\n… ${left} more not shown; ${narrow}`;
    if (text.length + 1 + line.length + (left > 1 ? tail.length : 0) > maxChars) return `${text}${tail}`;
    text = `${text}\n${line}`;
  }
  return text;
}

/** One line of a long text: whitespace collapsed, cut at `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Long text cut at `max` characters, saying so. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** An adapter failure as the registry's caller expects it: the port's own error class tells retryable from not. */
export interface PortFailure {
  message: string;
  retryable: boolean;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
}

/**
 * Runs a tool's body, turning an integration that is not configured into a refusal and a port
 * failure (`classify` recognises the port's error classes) into a ToolFailedError; anything else
 * is a bug and passes unchanged.
 */
export async function translateFailures<T>(body: () => Promise<T>, classify: (err: unknown) => PortFailure | null): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof IntegrationNotConfiguredError) throw new ToolRefusedError(err.message, 'not_configured');
    const failure = classify(err);
    if (!failure) throw err;
    throw new ToolFailedError(failure.message, failure.retryable, failure.status, failure.retryAfterMs);
  }
}
