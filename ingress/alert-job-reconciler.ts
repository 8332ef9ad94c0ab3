import type { PolicyJob, Store } from '../adapters/store/port.js';
import { alertWorkflowId } from '../core/contracts/alerts.js';

// A policy job is closed by its alert run, in a `finally` that survives cancellation. A run that is
// terminated (an operator in the Web UI, `temporal workflow terminate`, a reset gone wrong) or times
// out runs no code at all, and its job would stay queued or running for good: its policy's
// concurrency and its host (`host_busy`) stay taken. The reconciler finds jobs that have not moved
// for a while, asks Temporal about their run, and ends the ones whose run has closed — as failed,
// with the reason, through the same `finishRun` (idempotent: a job the run closed meanwhile is
// answered unchanged, and two reconcilers at once never count a failure twice).

/** Where a job's run stands in Temporal. */
export type AlertRunStatus = { state: 'open' } | { state: 'closed'; status: string } | { state: 'not_found' };

export interface AlertJobReconcilerDeps {
  store: Pick<Store, 'policyJobs'>;
  runStatus(workflowId: string): Promise<AlertRunStatus>;
  now?: () => Date;
}

export interface ReconcileReport {
  checked: number;
  closed: { tenantId: string; jobId: string; workflowId: string; runStatus: string }[];
}

/** Jobs younger than this are left alone: their run may not have written its first step yet. */
export const RECONCILE_GRACE_MS = 2 * 60_000;
const BATCH = 200;

/** The run a job belongs to: recorded when it started, else the alert run's id (claims happen inside that run). */
export function jobWorkflowId(job: Pick<PolicyJob, 'workflowId' | 'fingerprint' | 'startsAt'>): string {
  return job.workflowId ?? alertWorkflowId({ fingerprint: job.fingerprint, startsAt: job.startsAt });
}

/** One pass: every unfinished job unchanged for the grace period whose run is closed or gone is ended `failed`. */
export async function reconcileAlertJobs(deps: AlertJobReconcilerDeps): Promise<ReconcileReport> {
  const now = deps.now?.() ?? new Date();
  const jobs = await deps.store.policyJobs.unfinished(new Date(now.getTime() - RECONCILE_GRACE_MS), BATCH);
  const report: ReconcileReport = { checked: jobs.length, closed: [] };
  for (const job of jobs) {
    const workflowId = jobWorkflowId(job);
    const run = await deps.runStatus(workflowId);
    if (run.state === 'open') continue;
    const runStatus = run.state === 'closed' ? run.status.toLowerCase() : 'not found';
    const detail = `its run ${workflowId} ended (${runStatus}) without closing the job; closed by the reconciler`;
    const end = await deps.store.policyJobs.finishRun(job.tenantId, job.id, { succeeded: false, detail }, now);
    if (end && end.job.finishedAt && end.job.detail === detail) {
      report.closed.push({ tenantId: job.tenantId, jobId: job.id, workflowId, runStatus });
    }
  }
  return report;
}

/**
 * Runs `reconcileAlertJobs` every `everyMs` until stopped; a pass that fails (store or Temporal
 * down) is reported and the next one tries again.
 */
export function startAlertJobReconciler(
  deps: AlertJobReconcilerDeps,
  options: { everyMs: number; onReport?: (report: ReconcileReport) => void; onError?: (err: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const pass = () => {
    if (running) return;
    running = reconcileAlertJobs(deps)
      .then((report) => options.onReport?.(report))
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(pass, options.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
