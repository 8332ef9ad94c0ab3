import { describe, expect, it } from 'vitest';
import { IntegrationNotConfiguredError } from '../../tools/integrations.js';
import { ToolFailedError, ToolRefusedError } from '../../tools/tool.js';
import { boundedLines, clip, oneLine, translateFailures } from '../../tools/tool-output.js';

describe('integration tool output', () => {
  it('keeps every line that fits, and otherwise ends with how many were left out and how to narrow', () => {
    expect(boundedLines('3 items:', ['a', 'b', 'c'], 'narrow it', 100)).toBe('3 items:\na\nb\nc');
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(20)}`);
    const text = boundedLines('50 items:', lines, 'use a filter', 300);
    expect(text.length).toBeLessThanOrEqual(300);
    const shown = text.split('\n').filter((l) => l.startsWith('line ')).length;
    expect(text.endsWith(`\n… ${50 - shown} more not shown; use a filter`)).toBe(true);
    expect(shown).toBeGreaterThan(5);
    // The last line fits without a tail even where a tail would not have fitted after it.
    const exact = boundedLines('h', ['1234567890'], 'narrow', 12);
    expect(exact).toBe('h\n1234567890');
  });

  it('flattens and cuts long text, saying so', () => {
    expect(oneLine('  disk\n full   on\tweb-1 ', 40)).toBe('disk full on web-1');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
    expect(clip('abcdefghij', 4)).toBe('abcd… [6 more characters]');
    expect(clip('abc', 4)).toBe('abc');
  });

  it('turns a port failure into ToolFailedError, a missing configuration into a refusal, and passes anything else', async () => {
    class PortError extends Error {
      retryable = true;
      status = 429;
      retryAfterMs = 5_000;
    }
    const classify = (err: unknown) => (err instanceof PortError ? err : null);
    const failed = await translateFailures(() => Promise.reject(new PortError('rate limited')), classify).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ToolFailedError);
    expect(failed).toMatchObject({ message: 'rate limited', retryable: true, status: 429, retryAfterMs: 5_000 });
    const refused = await translateFailures(() => Promise.reject(new IntegrationNotConfiguredError('jira')), classify).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ToolRefusedError);
    expect(refused).toMatchObject({
      reason: 'not_configured',
      message: 'jira is not configured: PUT /api/v1/integrations/jira/config first',
    });
    const bug = new TypeError('x is undefined');
    await expect(translateFailures(() => Promise.reject(bug), classify)).rejects.toBe(bug);
    await expect(translateFailures(() => Promise.resolve(7), classify)).resolves.toBe(7);
  });
});
