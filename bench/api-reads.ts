import autocannon from 'autocannon';
import type { Client } from '@temporalio/client';
import { round } from './lib.js';

// API reads under load (autocannon), each row against Hono's hello world measured the same way in
// the same pass: same Node, same server adapter, same client, connections and duration.

export interface LoadSettings {
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface LoadResult {
  /** Mean of autocannon's per-second samples. */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts: a row with any is flagged, never reported as fast. */
  errors: number;
  timeouts: number;
}

export interface ReadRow {
  endpoint: string;
  path: string;
  /** Null when the route is absent from this build (see `skipped`). */
  result: LoadResult | null;
  skipped?: string;
  /** req/s as a share of the bare Hono app's in the same pass. */
  vsBareHono: number | null;
  target?: { minRatio: number; maxP99Ms?: number; met: boolean | null };
}

export interface ReadsReport {
  incidentId: string;
  rows: ReadRow[];
}

async function load(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<LoadResult> {
  const result = await autocannon({ url, headers, connections, duration: seconds });
  return {
    rps: round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** A warm-up (not reported: JIT, caches, pools), then the measured run. */
async function measure(url: string, headers: Record<string, string>, settings: LoadSettings): Promise<LoadResult> {
  if (settings.warmupSeconds > 0) await load(url, headers, settings.warmupSeconds, settings.connections);
  return load(url, headers, settings.seconds, settings.connections);
}

export const failedRequests = (r: LoadResult) => r.non2xx + r.errors + r.timeouts;

/**
 * An incident whose run has ended: without a credential on its CMDB item the run escalates at its
 * diagnostics, a few seconds after the start.
 */
async function finishedIncident(api: string, headers: Record<string, string>, client: Client): Promise<string> {
  const tagId = 'bench-reads-host';
  const created = await fetch(`${api}/api/v1/cmdb`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ tagId, hostname: 'bench-reads-host.internal', address: '127.0.0.1', environment: 'test' }),
  });
  if (created.status !== 201 && created.status !== 409) throw new Error(`CMDB create failed: ${created.status} ${await created.text()}`);
  const posted = await fetch(`${api}/api/v1/incidents`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'bench read target', severity: 'low', tagId }),
  });
  if (posted.status !== 201) throw new Error(`incident create failed: ${posted.status} ${await posted.text()}`);
  const { id, workflowId } = (await posted.json()) as { id: string; workflowId: string };
  await client.workflow.getHandle(workflowId).result();
  return id;
}

export async function measureReads(options: {
  api: string;
  apiKey: string;
  bareHonoUrl: string;
  client: Client;
  settings: LoadSettings;
  log: (line: string) => void;
}): Promise<ReadsReport> {
  const { api, apiKey, bareHonoUrl, client, settings, log } = options;
  const auth = { authorization: `Bearer ${apiKey}` };
  const incidentId = await finishedIncident(api, { ...auth, 'content-type': 'application/json' }, client);

  const livez = await fetch(`${api}/livez`);
  await livez.arrayBuffer();

  const plan: { endpoint: string; path: string; url: string; skip?: string; target?: { minRatio: number; maxP99Ms?: number } }[] = [
    { endpoint: 'bare Hono `{ok:true}` (baseline)', path: '/', url: bareHonoUrl },
    { endpoint: 'GET /health', path: '/health', url: `${api}/health` },
    {
      endpoint: 'GET /livez',
      path: '/livez',
      url: `${api}/livez`,
      ...(livez.status === 404 ? { skip: 'no /livez route in this build (404)' } : {}),
    },
    { endpoint: 'GET /api/v1/me', path: '/api/v1/me', url: `${api}/api/v1/me`, target: { minRatio: 0.4 } },
    { endpoint: 'GET /api/v1/incidents?limit=20', path: '/api/v1/incidents?limit=20', url: `${api}/api/v1/incidents?limit=20` },
    {
      endpoint: 'GET /api/v1/incidents/{id} (finished run)',
      path: '/api/v1/incidents/{id}',
      url: `${api}/api/v1/incidents/${incidentId}`,
      target: { minRatio: 0.2, maxP99Ms: 10 },
    },
  ];

  const rows: ReadRow[] = [];
  let baselineRps: number | null = null;
  for (const step of plan) {
    if (step.skip) {
      rows.push({ endpoint: step.endpoint, path: step.path, result: null, skipped: step.skip, vsBareHono: null });
      log(`  ${step.endpoint}: skipped (${step.skip})`);
      continue;
    }
    const result = await measure(step.url, auth, settings);
    const failed = failedRequests(result) > 0;
    if (baselineRps === null) {
      if (failed)
        throw new Error(`the bare Hono baseline answered ${failedRequests(result)} requests with errors: no ratio can be computed`);
      baselineRps = result.rps;
    }
    const vsBareHono = failed ? null : round(result.rps / baselineRps, 3);
    const row: ReadRow = { endpoint: step.endpoint, path: step.path, result, vsBareHono };
    if (step.target) {
      const met =
        vsBareHono === null
          ? false
          : vsBareHono >= step.target.minRatio && (step.target.maxP99Ms === undefined || result.p99 <= step.target.maxP99Ms);
      row.target = { ...step.target, met };
    }
    rows.push(row);
    log(
      `  ${step.endpoint}: ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms${failed ? `, ${failedRequests(result)} FAILED` : ''}`,
    );
  }
  return { incidentId, rows };
}

function describeTarget(target: ReadRow['target']): string {
  if (!target) return '—';
  const wanted = `≥ ${target.minRatio}×${target.maxP99Ms !== undefined ? `, p99 ≤ ${target.maxP99Ms} ms` : ''}`;
  return `${wanted}: ${target.met ? 'met' : '**missed**'}`;
}

/** Table rows: a row with failed requests says so where its speed would be. */
export function readTableRows(report: ReadsReport): (string | number)[][] {
  return report.rows.map((row) => {
    if (!row.result) return [row.endpoint, '—', '—', '—', '—', '—', `skipped: ${row.skipped}`];
    const r = row.result;
    const failed = failedRequests(r);
    const failures = failed
      ? `**${failed} failed** (${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts) of ${r.requests}`
      : `0 of ${r.requests}`;
    return [
      row.endpoint,
      failed ? `(${r.rps}, not valid)` : r.rps,
      r.p50,
      r.p99,
      row.vsBareHono === null ? (failed ? '— (errors)' : '—') : row.path === '/' ? '1×' : `${row.vsBareHono}×`,
      failures,
      describeTarget(row.target),
    ];
  });
}

export const READ_TABLE_COLUMNS = ['endpoint', 'req/s', 'p50 (ms)', 'p99 (ms)', 'req/s vs bare Hono', 'failed requests', 'target'];
