import { describe, expect, it } from 'vitest';
import { createServiceNowClient } from '../../adapters/servicenow/create.js';
import { ServiceNowError, ServiceNowNotFoundError } from '../../adapters/servicenow/port.js';
import { createToolRegistry } from '../../tools/registry.js';
import { createServiceNowTools } from '../../tools/servicenow.js';
import { toolContext } from '../support/tool-context.js';

// The ServiceNow client and tools against a real instance (a personal developer instance does),
// read-only: it lists and gets incidents and changes nothing. Runs only when
// SERVICENOW_INSTANCE_URL, SERVICENOW_USERNAME and SERVICENOW_PASSWORD are set; skipped otherwise,
// CI included (no credentials there).
const env = process.env;
const settings =
  env.SERVICENOW_INSTANCE_URL?.trim() && env.SERVICENOW_USERNAME?.trim() && env.SERVICENOW_PASSWORD
    ? { instanceUrl: env.SERVICENOW_INSTANCE_URL.trim(), username: env.SERVICENOW_USERNAME.trim(), password: env.SERVICENOW_PASSWORD }
    : null;

describe.skipIf(!settings)('ServiceNow Table API (live, read-only)', () => {
  const live = settings!;

  it('lists incidents a page at a time with the total, and gets one by number and by sys_id', async () => {
    const client = createServiceNowClient(live);
    const page = await client.listIncidents({ limit: 3 });
    expect(page.total).toBeGreaterThanOrEqual(page.incidents.length);
    expect(page.incidents.length).toBeLessThanOrEqual(3);
    const first = page.incidents[0];
    if (first) {
      expect(first.number).toMatch(/^[A-Z]+\d+$/);
      expect(first.state.label).not.toBe('');
      expect(await client.getIncident(first.number)).toMatchObject({ sysId: first.sysId, number: first.number });
      expect((await client.getIncident(first.sysId)).number).toBe(first.number);
      if (page.more) {
        const next = await client.listIncidents({ limit: 3, offset: 3 });
        expect(next.incidents.map((i) => i.sysId)).not.toContain(first.sysId);
      }
    }
    await expect(client.getIncident('INC9999999999')).rejects.toBeInstanceOf(ServiceNowNotFoundError);
    const open = await client.listIncidents({ active: true, states: ['new', 'in_progress', 'on_hold'], text: 'a', limit: 2 });
    expect(open.incidents.every((i) => i.active)).toBe(true);
  });

  it('reports rejected credentials as not retryable, without the password', async () => {
    const wrong = createServiceNowClient({ ...live, password: `${live.password}-not` });
    const err = await wrong.listIncidents({ limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceNowError);
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect((err as Error).message).not.toContain(live.password);
  });

  it('answers servicenow_list_incidents through the registry', async () => {
    const registry = createToolRegistry(createServiceNowTools());
    const caller = { tenantId: 't', userId: 'live', role: 'viewer' as const };
    const call = await registry.prepare('servicenow_list_incidents', { limit: 5 }, caller);
    const result = await registry.run(call, toolContext({ servicenow: live }, { caller }));
    expect(result.content).toMatch(/^(ServiceNow incidents 1–\d+ of \d+|No ServiceNow incident matches\.)/);
  });
});
