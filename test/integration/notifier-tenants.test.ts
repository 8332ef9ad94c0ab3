import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertAdapterActivities } from '../../activities/alerts/adapter-actions.js';
import { createNotifyActivities } from '../../activities/incident/notify.js';
import type { AlertNotice, IncidentNotice, Notifier, NotifyTenants } from '../../adapters/notify/port.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store, Tenant } from '../../adapters/store/port.js';
import { FAILURE } from '../../core/contracts/failures.js';

// The notifiers hold the deployment's credentials (one ServiceNow, one PagerDuty): they take the
// notices of the tenants INFRAAI_NOTIFY_TENANTS names only, so a tenant cannot have InfraAI note,
// resolve or open records in tools that belong to another. The activities on a real (PGlite) store
// with a notifier that records what reaches it.

let dataDir: string;
let store: Store;
let acme: Tenant;
let globex: Tenant;

const incidents: IncidentNotice[] = [];
const alerts: AlertNotice[] = [];
const pager: Notifier = {
  name: 'pagerduty',
  notify: async (notice) => {
    incidents.push(notice);
    return { delivered: true, detail: 'note added' };
  },
  notifyAlert: async (notice) => {
    alerts.push(notice);
    return { delivered: true, detail: 'event sent' };
  },
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'infraai-notifier-tenants-'));
  store = await createStore({ kind: 'pglite', dataDir });
  acme = await store.tenants.ensure('acme');
  globex = await store.tenants.ensure('globex');
});

afterAll(async () => {
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** An incident of the tenant naming a PagerDuty incident, as POST /api/v1/incidents lets any tenant do. */
async function incidentOf(tenant: Tenant): Promise<string> {
  const { incident } = await store.incidents.create(tenant.id, {
    id: randomUUID(),
    title: 'nginx down',
    description: '',
    severity: 'high',
    tagId: 'web-01',
    source: 'api',
    createdBy: null,
    external: { pagerdutyIncidentId: 'PABC123' },
  });
  return incident.id;
}

function notifyIncident(notifyTenants: NotifyTenants | undefined, tenant: Tenant, incidentId: string) {
  const activities = createNotifyActivities({ store, notifiers: [pager], ...(notifyTenants ? { notifyTenants } : {}) });
  return activities.notifyIncident({
    tenantId: tenant.id,
    incidentId,
    notifier: 'pagerduty',
    status: 'resolved',
    summary: 'restarted nginx',
    rootCause: null,
    actions: [],
  });
}

function notifyForAlert(notifyTenants: NotifyTenants, tenantId: string | undefined) {
  const activities = createAlertAdapterActivities({ store, hostAccess: null, notifiers: [pager], notifyTenants });
  return activities.notifyForAlert({
    ...(tenantId ? { tenantId } : {}),
    key: `policy-job:${randomUUID()}`,
    notifier: null,
    title: 'disk full',
    message: 'disk full on web-01',
    labels: { severity: 'critical' },
    jobPath: null,
  });
}

describe('incident outcomes and the tenants the notifiers serve', () => {
  it('posts the outcome of a served tenant’s incident', async () => {
    incidents.length = 0;
    const result = await notifyIncident(['acme'], acme, await incidentOf(acme));
    expect(result).toEqual({ notifier: 'pagerduty', delivered: true, detail: 'note added' });
    expect(incidents.map((n) => n.external)).toEqual([{ pagerdutyIncidentId: 'PABC123' }]);
  });

  it('sends nothing for another tenant’s incident, even one naming the served tenant’s PagerDuty incident', async () => {
    incidents.length = 0;
    const result = await notifyIncident(['acme'], globex, await incidentOf(globex));
    expect(result).toEqual({
      notifier: 'pagerduty',
      delivered: false,
      detail: "the deployment's notifiers do not serve tenant globex",
    });
    expect(incidents).toEqual([]);
  });

  it('serves no tenant when none is named (a worker built without INFRAAI_NOTIFY_TENANTS’s value)', async () => {
    incidents.length = 0;
    expect(await notifyIncident(undefined, acme, await incidentOf(acme))).toMatchObject({ delivered: false });
    expect(incidents).toEqual([]);
  });

  it('serves every tenant with *', async () => {
    incidents.length = 0;
    expect(await notifyIncident('*', acme, await incidentOf(acme))).toMatchObject({ delivered: true });
    expect(await notifyIncident('*', globex, await incidentOf(globex))).toMatchObject({ delivered: true });
    expect(incidents).toHaveLength(2);
  });
});

describe('alert notices and the tenants the notifiers serve', () => {
  it('sends a served tenant’s notice and every tenant’s with *', async () => {
    alerts.length = 0;
    expect(await notifyForAlert(['acme', 'initech'], acme.id)).toMatchObject({ delivered: 1 });
    expect(await notifyForAlert('*', globex.id)).toMatchObject({ delivered: 1 });
    expect(alerts).toHaveLength(2);
  });

  it('refuses, for good, the notice of a tenant not served, and one that names no tenant unless every tenant is served', async () => {
    alerts.length = 0;
    await expect(notifyForAlert(['acme'], globex.id)).rejects.toMatchObject({
      type: FAILURE.PolicyActionRefused,
      nonRetryable: true,
      message: "the deployment's notifiers do not serve tenant globex",
    });
    await expect(notifyForAlert(['acme'], undefined)).rejects.toMatchObject({
      type: FAILURE.PolicyActionRefused,
      nonRetryable: true,
    });
    expect(alerts).toEqual([]);
    expect(await notifyForAlert('*', undefined)).toMatchObject({ delivered: 1 });
  });
});
