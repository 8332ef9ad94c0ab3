import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { IncidentActivities } from '../activities/incident.js';
import type { RemediationActivities } from '../activities/remediation.js';
import { approvalUpdate, DEFAULT_REMEDIATION_SETTINGS, type ApprovalState, type ProposedAction } from '../core/remediation.js';
import type { IncidentStatus } from '../core/incident.js';
import {
  addIncidentContextSignal,
  incidentStateQuery,
  SEARCH_ATTRIBUTES,
  type IncidentStepName,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../core/incident-workflow.js';
import { LEASE_WAIT_STEP, LLM_STEP, NOTIFY_STEP, SSH_CHANGE_STEP, SSH_REMEDIATION_READ_STEP, STORE_STEP } from './activity-options.js';
import type { createNotifyActivities } from '../activities/notify.js';

const { recordIncident, lookupCmdbItem, writeIncidentResult } = proxyActivities<IncidentActivities>(STORE_STEP);
const { setIncidentStatus, releaseHostLease, queryMetrics } = proxyActivities<RemediationActivities>(STORE_STEP);
// Planning and analysis may ask the LLM: they get its patience (and its retry of rate limits).
const { planRemediation, analyseDiagnostics } = proxyActivities<RemediationActivities>(LLM_STEP);
const { runDiagnostics, verifyRemediation } = proxyActivities<RemediationActivities>(SSH_REMEDIATION_READ_STEP);
const { applyRemediationAction } = proxyActivities<RemediationActivities>(SSH_CHANGE_STEP);
const { acquireHostLease } = proxyActivities<RemediationActivities>(LEASE_WAIT_STEP);
type NotifyActivities = ReturnType<typeof createNotifyActivities>;
const { listNotifiers } = proxyActivities<NotifyActivities>(STORE_STEP);
const { notifyIncident } = proxyActivities<NotifyActivities>(NOTIFY_STEP);

/**
 * The incident run: record → CMDB lookup → plan (runbook + knowledge) → read-only diagnostics over
 * SSH → analysis (root cause, proposed fixes rated by the policy) → approval gate (low-risk runbook
 * fixes run on their own; anything else waits for a human, bound to the exact commands) → host lease
 * → fixes (guarded) → verification → result write; escalation whenever a step cannot go on.
 * Its state is queryable at any time, its status mirrors into the IncidentStatus search attribute,
 * and a cancellation still writes a `cancelled` result before the run ends.
 */
export async function remediateIncident(input: RemediateIncidentInput): Promise<IncidentWorkflowState> {
  const ref = { tenantId: input.tenantId, incidentId: input.incidentId };
  const state: IncidentWorkflowState = {
    incidentId: input.incidentId,
    status: 'open',
    currentStep: null,
    steps: [],
    target: null,
    findings: [],
    context: [],
    summary: null,
    error: null,
  };

  setHandler(incidentStateQuery, () => state);
  setHandler(addIncidentContextSignal, ({ note, author }) => {
    state.context.push({ note: note.slice(0, 2000), author: author.slice(0, 200), at: new Date().toISOString() });
  });

  function setStatus(status: IncidentStatus): void {
    state.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.incidentStatus, value: status }]);
  }

  async function step<T>(name: IncidentStepName, run: () => Promise<T>): Promise<T> {
    const entry = { name, status: 'running' as const, startedAt: new Date().toISOString(), finishedAt: null, detail: null };
    state.steps.push(entry);
    state.currentStep = name;
    const index = state.steps.length - 1;
    try {
      const value = await run();
      state.steps[index] = { ...entry, status: 'completed', finishedAt: new Date().toISOString() };
      return value;
    } catch (err) {
      const detail = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      state.steps[index] = { ...entry, status: 'failed', finishedAt: new Date().toISOString(), detail };
      throw err;
    } finally {
      state.currentStep = null;
    }
  }

  async function finish(status: IncidentStatus, summary: string, details: Record<string, unknown>): Promise<void> {
    state.summary = summary;
    await step('writeIncidentResult', () => writeIncidentResult({ ...ref, status, summary, details }));
    setStatus(status);
    if (patched('notifications') && (status === 'resolved' || status === 'escalated' || status === 'failed' || status === 'cancelled'))
      await notify(status, summary);
  }

  /** Posts the outcome to each configured tool; a tool that stays down is recorded, not fatal. */
  async function notify(status: 'resolved' | 'escalated' | 'failed' | 'cancelled', summary: string): Promise<void> {
    const names = await listNotifiers();
    const actions = (state.commands ?? [])
      .filter((c) => c.phase === 'fix')
      .map((c) => ({ command: c.command, outcome: c.exitCode === 0 ? 'applied' : `exit ${c.exitCode ?? 'none'}` }));
    state.notifications = [];
    for (const notifier of names) {
      try {
        state.notifications.push(await notifyIncident({ ...ref, notifier, status, summary, rootCause: state.rootCause ?? null, actions }));
      } catch (err) {
        state.notifications.push({ notifier, delivered: false, detail: failureMessage(err) });
      }
    }
  }

  const settings = input.settings ?? DEFAULT_REMEDIATION_SETTINGS;
  const targetRef = { tenantId: input.tenantId, tagId: input.tagId };
  state.commands = [];
  state.proposedActions = [];
  state.approval = null;

  setHandler(
    approvalUpdate,
    (decision) => {
      const approval = state.approval!;
      Object.assign(approval, {
        decision: decision.decision === 'approve' ? 'approved' : 'rejected',
        by: decision.by.slice(0, 200),
        comment: decision.comment?.slice(0, 2000) ?? null,
        decidedAt: new Date().toISOString(),
      } satisfies Partial<ApprovalState>);
      return approval;
    },
    {
      // Rejected before it reaches history: nothing waits, or the approver saw another plan.
      validator: (decision) => {
        if (state.approval?.decision !== 'pending') throw new Error('No plan is waiting for approval.');
        if (decision.planHash && decision.planHash !== state.approval.planHash) {
          throw new Error(`The plan changed: approve plan ${state.approval.planHash}, not ${decision.planHash}.`);
        }
      },
    },
  );

  async function markStatus(status: 'awaiting_approval' | 'remediating' | 'verifying'): Promise<void> {
    setStatus(status);
    await step('setIncidentStatus', () => setIncidentStatus({ ...ref, status }));
  }

  function outcomeDetails(): Record<string, unknown> {
    return {
      target: state.target,
      plan: state.plan,
      metrics: state.metrics ?? null,
      findings: state.findings,
      rootCause: state.rootCause ?? null,
      proposedActions: state.proposedActions,
      approval: state.approval,
      commands: state.commands,
      verification: state.verification ?? null,
      context: state.context,
    };
  }

  async function remediate(target: NonNullable<IncidentWorkflowState['target']>): Promise<void> {
    const plan = await step('planRemediation', () => planRemediation({ ...targetRef, incidentId: input.incidentId }));
    state.plan = plan;
    state.findings.push(
      plan.runbookId
        ? `Runbook '${plan.runbookTitle}' matches the incident (confidence ${plan.confidence}).`
        : 'No runbook matches the incident text; collecting baseline evidence only.',
    );

    // What the metrics datasource says about the target, when one is configured.
    const metrics = await step('queryMetrics', () => queryMetrics(targetRef));
    state.metrics = metrics;
    for (const query of metrics?.queries ?? []) {
      for (const sample of query.samples.slice(0, 5)) {
        const labels = Object.entries(sample.labels)
          .filter(([name]) => name !== '__name__')
          .map(([name, value]) => `${name}="${value}"`)
          .join(',');
        state.findings.push(`Metrics: ${query.name}${labels ? ` {${labels}}` : ''} = ${sample.value}`);
      }
    }
    for (const note of metrics?.notes ?? []) state.findings.push(`Metrics unavailable: ${note}`);

    const diagnostics = plan.diagnostics.map((d) => ({ id: d.id, command: d.command }));
    let runs: Awaited<ReturnType<typeof runDiagnostics>> = [];
    try {
      runs = diagnostics.length ? await step('runDiagnostics', () => runDiagnostics({ ...targetRef, commands: diagnostics })) : [];
    } catch (err) {
      // A host we cannot reach or log in to is a human's job; a changed host key is a failure (below).
      const type = failureType(err);
      if (!type || !UNREACHABLE_HOST_FAILURES.has(type)) throw err;
      state.findings.push(`Diagnostics could not run on ${target.hostname}: ${failureMessage(err)}`);
      await finish(
        'escalated',
        `Cannot run diagnostics on ${target.hostname} (${type}): escalated to on-call; nothing was changed.`,
        outcomeDetails(),
      );
      return;
    }
    state.commands!.push(...runs);

    const analysis = await step('analyseDiagnostics', () =>
      analyseDiagnostics({ ...targetRef, incidentId: input.incidentId, runbookId: plan.runbookId, parameters: plan.parameters, runs }),
    );
    state.analysis = { findings: analysis.findings, refused: analysis.refused, planHash: analysis.planHash, rollback: analysis.rollback };
    state.rootCause = analysis.rootCause;
    state.proposedActions = analysis.actions;
    for (const finding of analysis.findings) state.findings.push(`${finding.finding} (${finding.diagnostic}): ${finding.evidence}`);
    for (const refused of analysis.refused) state.findings.push(`Fix ${refused.id} will not run: ${refused.reason}.`);

    if (analysis.actions.length === 0 || !analysis.planHash) {
      const summary = !plan.runbookId
        ? 'No runbook covers this incident: escalated to on-call with the evidence gathered.'
        : `${plan.runbookTitle}: ${analysis.findings.length === 0 ? 'the diagnostics established no known cause' : 'no safe fix applies to what the diagnostics found'}; escalated to on-call with the evidence.`;
      await finish('escalated', summary, outcomeDetails());
      return;
    }

    // Only low-risk fixes of a matched runbook run on their own; an LLM's proposals always wait.
    const autoRun = settings.autoApproveLowRisk && analysis.actions.every((a) => a.risk === 'low' && a.source === 'runbook');
    const now = new Date().toISOString();
    let allowedBy: string;
    if (autoRun) {
      state.approval = {
        decision: 'auto',
        planHash: analysis.planHash,
        requestedAt: now,
        deadline: null,
        by: 'policy:auto-low-risk',
        comment: null,
        decidedAt: now,
      };
      allowedBy = 'policy:auto-low-risk';
    } else {
      state.approval = {
        decision: 'pending',
        planHash: analysis.planHash,
        requestedAt: now,
        deadline: new Date(Date.now() + settings.approvalTimeoutMs).toISOString(),
        by: null,
        comment: null,
        decidedAt: null,
      };
      await markStatus('awaiting_approval');
      // A durable timer: the wait survives worker and server restarts.
      const decided = await condition(() => state.approval?.decision !== 'pending', settings.approvalTimeoutMs);
      if (!decided) {
        state.approval.decision = 'timed_out';
        state.approval.decidedAt = new Date().toISOString();
        await finish(
          'escalated',
          `No approval within ${Math.round(settings.approvalTimeoutMs / 1000)} s: escalated to on-call; nothing was changed.`,
          outcomeDetails(),
        );
        return;
      }
      if (state.approval.decision === 'rejected') {
        await finish(
          'escalated',
          `Plan rejected by ${state.approval.by ?? 'an operator'}${state.approval.comment ? `: ${state.approval.comment}` : ''}; escalated, nothing was changed.`,
          outcomeDetails(),
        );
        return;
      }
      allowedBy = `approval:${state.approval.by ?? 'unknown'}`;
    }

    // One run changes a host at a time; a second incident for the same host waits here for its turn.
    try {
      await step('acquireHostLease', () => acquireHostLease({ tenantId: input.tenantId, host: target.address }));
    } catch (err) {
      if (isCancellation(err)) throw err;
      await finish(
        'escalated',
        `${target.hostname} stayed busy with another remediation (or the tenant at its limit) for 30 minutes; escalated, nothing was changed.`,
        outcomeDetails(),
      );
      return;
    }
    try {
      await markStatus('remediating');
      const outcomes: { action: ProposedAction; outcome: string }[] = [];
      for (const action of analysis.actions) {
        const applied = await step('applyRemediationAction', () => applyRemediationAction({ ...targetRef, action, allowedBy }));
        state.commands!.push(...applied.runs);
        outcomes.push({ action, outcome: applied.outcome });
        if (applied.outcome === 'failed') break;
      }
      await markStatus('verifying');
      const checks = analysis.verification.map((v) => ({ id: v.id, command: v.command, expect: v.expect }));
      const verified = await step('verifyRemediation', () => verifyRemediation({ ...targetRef, checks }));
      state.commands!.push(...verified.runs);
      state.verification = { passed: verified.passed, failures: verified.failures };
      const applied = outcomes.map((o) => `${o.action.id}: ${o.outcome}`).join(', ');
      if (verified.passed) {
        await finish(
          'resolved',
          `${plan.runbookTitle ?? 'LLM plan'}: ${state.rootCause ?? 'cause found'} Fixed (${applied}) and verified.`,
          outcomeDetails(),
        );
      } else {
        const rollback = analysis.rollback ? ` Rollback guidance: ${analysis.rollback}` : '';
        await finish(
          'escalated',
          `${plan.runbookTitle ?? 'LLM plan'}: fix applied (${applied}) but verification failed (${verified.failures.join('; ')}); escalated.${rollback}`,
          outcomeDetails(),
        );
      }
    } finally {
      await CancellationScope.nonCancellable(() =>
        step('releaseHostLease', () => releaseHostLease({ tenantId: input.tenantId, host: target.address })),
      );
    }
  }

  try {
    await step('recordIncident', () => recordIncident(ref));
    setStatus('investigating');

    const target = await step('lookupCmdbItem', () => lookupCmdbItem({ ...ref, tagId: input.tagId }));
    if (!target) {
      state.findings.push(`CMDB item '${input.tagId}' no longer exists; the target cannot be reached.`);
      await finish('escalated', `CMDB item '${input.tagId}' not found: escalated to on-call.`, {
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
      await finish('escalated', `Target ${target.hostname} identified; no automated remediation stage is enabled, escalated to on-call.`, {
        target,
        findings: state.findings,
        context: state.context,
      });
      return state;
    }
    await remediate(target);
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        finish('cancelled', 'Cancelled by request before the run finished.', {
          ...outcomeDetails(),
          findings: state.findings,
          context: state.context,
        }),
      );
      throw err;
    }
    state.error = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
    if (isIncidentGone(err)) {
      throw ApplicationFailure.nonRetryable(`Incident run failed: ${state.error}`, 'IncidentNotFound');
    }
    await CancellationScope.nonCancellable(() =>
      finish('failed', `Run failed: ${state.error}`, { ...outcomeDetails(), error: state.error }),
    ).catch(() => undefined);
    throw ApplicationFailure.nonRetryable(`Incident run failed: ${state.error}`, 'IncidentRunFailed');
  }
}

/** Failures that mean "this host cannot be worked on from here": the incident escalates. */
const UNREACHABLE_HOST_FAILURES = new Set([
  'CredentialNotFound',
  'SshAuthenticationFailed',
  'HostUnreachable',
  'HostAccessUnavailable',
  'TargetGone',
]);

function failureType(err: unknown): string | null {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? null) : null;
}

function failureMessage(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
}

function isIncidentGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'IncidentNotFound';
}
