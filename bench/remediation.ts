import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadRunbooks } from '../adapters/knowledge/runbook-files.js';
import { openSshSession } from '../adapters/ssh/ssh-executor.js';
import { type SshSession } from '../adapters/ssh/port.js';
import { analyse, planFromRunbook } from '../core/planner.js';
import { cmdbItemFor } from '../lab/cli.js';
import { FAULT_SPECS, injectFault, resetHost, type FaultName } from '../lab/faults.js';
import { labPrerequisites, startLab } from '../lab/lab.js';
import { freePort, machineDescription, median, round, startStack, writeReport } from './lib.js';
import { formatProfile, profileHistory } from './remediation-profile.js';

// `npm run bench:remediation`: for each lab fault, N incidents raised over HTTP against `npm start`
// (runbook planner, no LLM): time from the API call to a verified fix, success by the lab's own
// health check, commands run on the host. Risky fixes are approved by the benchmark the moment the
// run asks. Baseline, measured in the same run: the same runbook's commands typed over one SSH
// session with no orchestration (what a careful script would do). Overhead: the run's time without
// its approval wait (from the run's Temporal history) minus that baseline.
// BENCH_REMEDIATION_PROFILE=1 prints each run's steps (queue and run time of every activity).

const RUNS = Number(process.env.BENCH_REMEDIATION_RUNS ?? 3);
const PROFILE = process.env.BENCH_REMEDIATION_PROFILE === '1';
const API_KEY = 'bench-admin-key-0123456789abcdef';
const FIXABLE: FaultName[] = ['service-crashed', 'disk-full', 'runaway-cpu', 'log-growth', 'bad-config', 'port-in-use'];
const FAULTS: FaultName[] = [...FIXABLE, 'unknown'];

const INCIDENT_TEXT: Record<FaultName, { title: string; description: string }> = {
  'service-crashed': { title: 'labsvc is down', description: 'health check failing: connection refused' },
  'disk-full': { title: 'No space left on device', description: 'labsvc cannot write /var/lib/labsvc' },
  'runaway-cpu': { title: 'CPU usage above 95%', description: 'a process spins at 100% CPU' },
  'log-growth': { title: 'Log file growing without bound', description: 'debug logging left on under /var/log/labsvc' },
  'bad-config': { title: 'labsvc fails after config change', description: 'parse error in /etc/labsvc/labsvc.conf' },
  'port-in-use': { title: 'labsvc cannot start', description: 'bind: address already in use' },
  unknown: { title: 'labsvc health check failing', description: 'GET /health answers 500' },
  // Compound faults (not benchmarked yet: the run follows causes once the workflow is wired for it).
  'disk-full-by-log': { title: 'Filesystem at 97%', description: 'writes failing: No space left on device' },
  'service-down-by-disk-full': { title: 'labsvc is down', description: 'health check failing: connection refused' },
  'service-down-by-old-instance': { title: 'labsvc is down', description: 'supervisor shows labsvc FATAL' },
};

/** Which bundled runbook the baseline follows for each fault. */
const RUNBOOK_OF: Partial<Record<FaultName, string>> = {
  'service-crashed': 'service-down',
  'disk-full': 'disk-full',
  'runaway-cpu': 'runaway-cpu',
  'log-growth': 'log-growth',
  'bad-config': 'bad-config',
  'port-in-use': 'port-in-use',
};

interface RunRecord {
  fault: FaultName;
  ms: number;
  /** Time the run waited for the benchmark's approval (0 when auto-approved). */
  approvalWaitMs: number;
  /** Per step kind: total activity run time and queue time, and workflow-task time, in ms. */
  profile: {
    activitiesRunMs: Record<string, number>;
    queueMs: number;
    workflowTasksMs: number;
    apiToStartMs: number;
    closeToSeenMs: number;
  };
  status: string;
  healthy: boolean;
  commands: number;
  approval: string | null;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const problems = labPrerequisites();
  if (problems.length) throw new Error(`the lab cannot run here: ${problems.join('; ')}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-rem-'));
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const lab = await startLab({ hosts: 1 });
  const host = lab.hosts[0]!;
  const stack = await startStack({
    PORT: String(apiPort),
    INFRAAI_DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_DEV_UI_PORT: String(uiPort),
    INFRAAI_API_KEY: API_KEY,
    INFRAAI_LLM_PROVIDER: 'none',
  });
  const temporalConnection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  const temporal = new Client({ connection: temporalConnection, namespace: 'infraai' });
  const api = `http://127.0.0.1:${apiPort}`;
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  const privateKey = await readFile(lab.clientKeyPath, 'utf8');
  const runbooks = await loadRunbooks();
  const runs: RunRecord[] = [];
  const baseline: Record<string, number[]> = {};

  try {
    if ((await call('POST', '/api/v1/credentials/ssh', { name: 'lab', username: 'root', privateKey })).status !== 201)
      throw new Error('credential not stored');
    if ((await call('POST', '/api/v1/cmdb', cmdbItemFor(host))).status !== 201) throw new Error('CMDB item not stored');

    for (const fault of FAULTS) {
      for (let i = 0; i < RUNS; i += 1) {
        await resetHost(host);
        await injectFault(host, fault);
        const text = INCIDENT_TEXT[fault];
        const started = performance.now();
        const startedWall = Date.now();
        const created = await call('POST', '/api/v1/incidents', {
          title: `${text.title} on ${host.name}`,
          description: text.description,
          severity: 'high',
          tagId: host.name,
        });
        const id = String(created.body?.id);
        let incident: Record<string, unknown> | null = null;
        for (;;) {
          incident = (await call('GET', `/api/v1/incidents/${id}`)).body;
          const status = String(incident?.status);
          if (status === 'awaiting_approval') {
            const approval = incident?.approval as { planHash: string } | null;
            await call('POST', `/api/v1/incidents/${id}/approve`, { planHash: approval?.planHash, comment: 'benchmark' });
          }
          if (['resolved', 'escalated', 'failed', 'cancelled'].includes(status)) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const ms = performance.now() - started;
        const seenWall = Date.now();
        const health = await FAULT_SPECS[fault].check(host);
        const history = await temporal.workflow.getHandle(`incident-${id}`).fetchHistory();
        const profile = profileHistory(history);
        const activitiesRunMs: Record<string, number> = {};
        for (const a of profile.activities) activitiesRunMs[a.name] = (activitiesRunMs[a.name] ?? 0) + a.runMs;
        const apiToStartMs = profile.startedAt - startedWall;
        const closeToSeenMs = seenWall - profile.closedAt;
        if (PROFILE) console.log(formatProfile(profile, apiToStartMs, closeToSeenMs));
        runs.push({
          fault,
          ms,
          approvalWaitMs: profile.approvalWaitMs,
          profile: {
            activitiesRunMs,
            queueMs: profile.activities.reduce((sum, a) => sum + a.queueMs, 0),
            workflowTasksMs: profile.workflowTasksMs,
            apiToStartMs,
            closeToSeenMs,
          },
          status: String(incident?.status),
          healthy: health.healthy,
          commands: ((incident?.commands as unknown[]) ?? []).length,
          approval: (incident?.approval as { decision: string } | null)?.decision ?? null,
        });
        console.log(`${fault} #${i + 1}: ${String(incident?.status)} in ${Math.round(ms)} ms, healthy ${health.healthy}`);
      }

      // Baseline: the same runbook followed over one SSH session, no workflow, no API, no store.
      const runbookId = RUNBOOK_OF[fault];
      if (!runbookId) continue;
      const runbook = runbooks.find((r) => r.id === runbookId)!;
      const item = cmdbItemFor(host);
      for (let i = 0; i < RUNS; i += 1) {
        await resetHost(host);
        await injectFault(host, fault);
        const started = performance.now();
        const session = await openSshSession({ host: host.address, port: host.port, username: 'root', privateKey }, async () => undefined);
        try {
          await followRunbook(session, runbook, item.tags);
        } finally {
          session.close();
        }
        (baseline[fault] ??= []).push(performance.now() - started);
      }
    }
  } finally {
    await resetHost(host).catch(() => undefined);
    await temporalConnection.close();
    await stack.stop();
    await lab.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const rows = FAULTS.map((fault) => {
    const mine = runs.filter((r) => r.fault === fault);
    const times = mine.map((r) => r.ms);
    const expected = fault === 'unknown' ? 'escalated' : 'resolved';
    const ok = mine.filter((r) => r.status === expected && (fault === 'unknown' ? !r.healthy : r.healthy)).length;
    const base = baseline[fault] ? median(baseline[fault]) : Number.NaN;
    const withoutApproval = median(mine.map((r) => r.ms - r.approvalWaitMs));
    return {
      fault,
      expected,
      approval: mine[0]?.approval ?? '—',
      medianMs: round(median(times), 0),
      p90Ms: round(percentile(times, 90), 0),
      success: `${ok}/${mine.length}`,
      commandsMedian: median(mine.map((r) => r.commands)),
      baselineMedianMs: Number.isNaN(base) ? null : round(base, 0),
      ratio: Number.isNaN(base) ? null : round(median(times) / base, 2),
      approvalWaitMedianMs: round(median(mine.map((r) => r.approvalWaitMs)), 0),
      /** Median run time without the approval wait, minus the bare runbook's median. */
      overheadMs: Number.isNaN(base) ? null : round(withoutApproval - base, 0),
    };
  });
  await writeReport(
    'remediation',
    { machine: machineDescription(), runsPerFault: RUNS, rows, runs, baseline },
    [
      {
        title: `Remediation on a lab host, ${RUNS} runs per fault (API call → verified fix; planner, no LLM)`,
        columns: [
          'fault',
          'expected end',
          'approval',
          'median',
          'p90',
          'success',
          'commands run (median)',
          'bare SSH runbook (median)',
          'ratio',
          'approval wait (median)',
          'overhead (median, approval wait excluded)',
        ],
        rows: rows.map((r) => [
          r.fault,
          r.expected,
          r.approval,
          `${r.medianMs} ms`,
          `${r.p90Ms} ms`,
          r.success,
          r.commandsMedian,
          r.baselineMedianMs === null ? '—' : `${r.baselineMedianMs} ms`,
          r.ratio === null ? '—' : `${r.ratio}×`,
          `${r.approvalWaitMedianMs} ms`,
          r.overheadMs === null ? '—' : `${r.overheadMs} ms`,
        ]),
      },
    ],
    [
      `Machine: ${machineDescription()}.`,
      'Success: the run ended as expected and the lab’s independent health check agrees (healthy after a fix; still unhealthy for the uncovered fault, which must escalate without changes).',
      'Approval-gated fixes (high risk) were approved by the benchmark as soon as the run asked; their time includes that wait.',
      'Baseline: the same runbook’s diagnostics, fix and verification typed over one SSH session by a script, without API, workflow, store or policy checks.',
      'Overhead: median of (run time minus its approval wait, taken from the run’s Temporal history) minus the baseline’s median.',
    ],
  );
}

/** The runbook by hand: diagnostics, then the fixes their findings call for, then verification. */
async function followRunbook(
  session: SshSession,
  runbook: Awaited<ReturnType<typeof loadRunbooks>>[number],
  tags: Record<string, string>,
): Promise<void> {
  const context = { serviceManager: 'supervisor' as const, tags, parameters: {} };
  const plan = planFromRunbook(runbook, context);
  const diagnostics = plan.diagnostics.filter((d) => d.command && !d.unresolved.length);
  const outcomes = await session.run(
    diagnostics.map((d) => d.command!),
    { timeoutMs: 15_000, maxOutputBytes: 256 * 1024, concurrency: 4 },
  );
  const analysis = analyse(runbook, Object.fromEntries(outcomes.map((o, i) => [diagnostics[i]!.id, `${o.stdout}\n${o.stderr}`])), context);
  for (const fix of analysis.fixes) {
    if (!fix.command || fix.unresolved.length) continue;
    if (fix.guard && (await session.run([fix.guard], { timeoutMs: 15_000, maxOutputBytes: 65_536 }))[0]!.exitCode === 0) continue;
    await session.run([fix.command], { timeoutMs: 120_000, maxOutputBytes: 65_536 });
  }
  const verification = planFromRunbook(runbook, { ...context, parameters: analysis.parameters }).verification.filter(
    (v) => v.command && !v.unresolved.length,
  );
  await session.run(
    verification.map((v) => v.command!),
    { timeoutMs: 15_000, maxOutputBytes: 65_536 },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
