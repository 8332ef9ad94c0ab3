import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import {
  SEARCH_ATTRIBUTES,
  type IncidentTarget,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import { DEFAULT_REMEDIATION_SETTINGS } from '../../core/remediation.js';
import { applyFixesAndVerify } from './apply-fixes.js';
import { awaitApproval, installApprovalHandler } from './approval-gate.js';
import { failureMessage, failureType } from '../runs/failures.js';
import { withHostLease } from './host-lease.js';
import { investigate } from './investigate.js';
import { IncidentRun } from './run-state.js';

/**
 * The incident run: record → CMDB lookup → investigate (plan, metrics, read-only diagnostics,
 * analysis) → approval gate → host lease → guarded fixes → verification → result write →
 * notifications; escalation whenever a step cannot go on. Its state is queryable at any time, its
 * status mirrors into the IncidentStatus search attribute, and a cancellation still writes a
 * `cancelled` result before the run ends.
 */
export async function remediateIncident(input: RemediateIncidentInput): Promise<IncidentWorkflowState> {
  return runIncident(input, remediate);
}

/**
 * The run around its remediation stages (record, target, the pre-remediation patch, the result of
 * a cancellation or a failure). The stages are a parameter so that the replay tests can build a
 * variant with them rearranged from the same helpers and prove that replay catches it.
 */
export async function runIncident(
  input: RemediateIncidentInput,
  stages: (run: IncidentRun, target: IncidentTarget) => Promise<void>,
): Promise<IncidentWorkflowState> {
  const run = new IncidentRun(input);
  const { state } = run;
  state.commands = [];
  state.proposedActions = [];
  state.approval = null;
  installApprovalHandler(run);

  try {
    await run.step('recordIncident', () => run.store.recordIncident(run.ref));
    run.setStatus('investigating');
    const target = await run.step('lookupCmdbItem', () => run.store.lookupCmdbItem({ ...run.ref, tagId: input.tagId }));
    if (!target) {
      state.findings.push(`CMDB item '${input.tagId}' no longer exists; the target cannot be reached.`);
      await run.finish('escalated', `CMDB item '${input.tagId}' not found: escalated to on-call.`, {
        findings: state.findings,
        context: state.context,
      });
      return state;
    }
    state.target = target;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.targetHost, value: target.hostname }]);
    state.findings.push(
      `Target ${target.hostname} (${target.address}:${target.port}, ${target.environment}) resolved from CMDB item '${target.tagId}'.`,
    );

    // Runs recorded before the remediation stages existed replay as they ran: triage, then escalate.
    if (!patched('remediation-pipeline')) {
      await run.finish(
        'escalated',
        `Target ${target.hostname} identified; no automated remediation stage is enabled, escalated to on-call.`,
        {
          target,
          findings: state.findings,
          context: state.context,
        },
      );
      return state;
    }
    await stages(run, target);
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.finish('cancelled', 'Cancelled by request before the run finished.'));
      throw err;
    }
    state.error = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
    if (failureType(err) === FAILURE.IncidentNotFound) {
      throw ApplicationFailure.nonRetryable(`Incident run failed: ${state.error}`, FAILURE.IncidentNotFound);
    }
    await CancellationScope.nonCancellable(() =>
      run.finish('failed', `Run failed: ${state.error}`, { ...run.outcomeDetails(), error: state.error }),
    ).catch(() => undefined);
    throw ApplicationFailure.nonRetryable(`Incident run failed: ${failureMessage(err)}`, FAILURE.IncidentRunFailed);
  } finally {
    await CancellationScope.nonCancellable(() => run.end());
  }
}

/** Investigate, then — when a safe fix applies and is allowed — change the host under its lease. */
async function remediate(run: IncidentRun, target: IncidentTarget): Promise<void> {
  const investigated = await investigate(run, target);
  if (!investigated) return;
  const allowedBy = await awaitApproval(run, investigated.analysis, run.input.settings ?? DEFAULT_REMEDIATION_SETTINGS);
  if (!allowedBy) return;
  await withHostLease(run, target, async () => {
    // Resolved elsewhere while this run waited for the host: nothing has been changed yet, so nothing is.
    if (run.resolvedElsewherePending) return run.stopResolvedElsewhere('waiting for the host lease');
    // From here the change goes to its end (never half-applied), whatever PagerDuty reports.
    run.changingHost = true;
    await applyFixesAndVerify(run, investigated.plan, investigated.analysis, allowedBy);
  });
}
