import { describe, expect, it } from 'vitest';
import { createPagerDutyClient } from '../../adapters/pagerduty/create.js';
import { PagerDutyError, PagerDutyNotFoundError } from '../../adapters/pagerduty/port.js';
import { createPagerDutyTools } from '../../tools/pagerduty.js';
import { createToolRegistry } from '../../tools/registry.js';
import { toolContext } from '../support/tool-context.js';

// The PagerDuty client and tools against the real REST API v2, read-only: it lists and gets
// incidents and acknowledges or resolves nothing. Runs only when PAGERDUTY_API_TOKEN (or _API_KEY) and
// PAGERDUTY_FROM_EMAIL are set (PAGERDUTY_API_BASE_URL for the EU service region); skipped
// otherwise, CI included (no credentials there).
const env = process.env;
// The notifier's live test names the same token PAGERDUTY_API_KEY: either runs this one.
const token = (env.PAGERDUTY_API_TOKEN ?? env.PAGERDUTY_API_KEY)?.trim();
const settings =
  token && env.PAGERDUTY_FROM_EMAIL?.trim()
    ? {
        apiToken: token,
        fromEmail: env.PAGERDUTY_FROM_EMAIL.trim(),
        baseUrl: env.PAGERDUTY_API_BASE_URL?.trim() || 'https://api.pagerduty.com',
      }
    : null;

describe.skipIf(!settings)('PagerDuty REST API v2 (live, read-only)', () => {
  const live = settings!;

  it('lists incidents by status a page at a time, and gets one', async () => {
    const client = createPagerDutyClient(live);
    const page = await client.listIncidents({ statuses: ['triggered', 'acknowledged', 'resolved'], limit: 3 });
    expect(page.limit).toBe(3);
    expect(page.incidents.length).toBeLessThanOrEqual(3);
    expect(page.total === null || page.total >= page.incidents.length).toBe(true);
    const first = page.incidents[0];
    if (first) {
      expect(await client.getIncident(first.id)).toMatchObject({ id: first.id, number: first.number, status: first.status });
      expect(first.url).toMatch(/^https:\/\/.+\/incidents\//);
    }
    const open = await client.listIncidents({ limit: 5 });
    expect(open.incidents.every((i) => i.status !== 'resolved')).toBe(true);
    await expect(client.getIncident('QNOSUCHINCIDENT0')).rejects.toBeInstanceOf(PagerDutyNotFoundError);
  });

  it('reports a rejected token as not retryable, without the token', async () => {
    const wrong = createPagerDutyClient({ ...live, apiToken: `${live.apiToken}x` });
    const err = await wrong.listIncidents({ limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PagerDutyError);
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect((err as Error).message).not.toContain(live.apiToken);
  });

  it('answers pagerduty_list_incidents through the registry', async () => {
    const registry = createToolRegistry(createPagerDutyTools());
    const caller = { tenantId: 't', userId: 'live', role: 'viewer' as const };
    const call = await registry.prepare('pagerduty_list_incidents', { limit: 5 }, caller);
    const result = await registry.run(call, toolContext({ pagerduty: live }, { caller }));
    expect(result.content).toMatch(/^(PagerDuty incidents 1–\d+|No triggered or acknowledged PagerDuty incident matches\.)/);
  });
});
