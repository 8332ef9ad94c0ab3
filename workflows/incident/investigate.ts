import { UNREACHABLE_HOST_FAILURES, type FailureType } from '../../core/contracts/failures.js';
import type { IncidentTarget } from '../../core/contracts/incident.js';
import type { Analysis, HostCommandRun, MetricsSnapshot, RemediationPlan } from '../../core/remediation.js';
import { patched } from '@temporalio/workflow';
import { hostReadSteps, reasoningSteps, storeSteps } from './activities.js';
import { followCauses } from './follow-causes.js';
import { failureMessage, failureType } from '../runs/failures.js';
import type { IncidentRun } from './run-state.js';

/**
 * Plan (runbook + knowledge; the LLM when configured) → metrics → read-only diagnostics over SSH →
 * analysis (root cause, proposed fixes rated by the policy). Returns the plan and the analysis with
 * fixes to apply, or null when the run has escalated (an unreachable host, nothing safe to do).
 */
export async function investigate(run: IncidentRun, target: IncidentTarget): Promise<{ plan: RemediationPlan; analysis: Analysis } | null> {
  const { state, targetRef } = run;
  // Checkpoints (resolvedElsewherePending) between the steps: an incident resolved in PagerDuty meanwhile ends the run here.
  if (run.resolvedElsewherePending) return run.stopResolvedElsewhere('investigating').then(() => null);
  const plan = await run.step('planRemediation', () => reasoningSteps.planRemediation({ ...targetRef, incidentId: run.input.incidentId }));
  state.plan = plan;
  state.findings.push(
    plan.runbookId
      ? `Runbook '${plan.runbookTitle}' matches the incident (confidence ${plan.confidence}).`
      : 'No runbook matches the incident text; collecting baseline evidence only.',
  );

  // What the metrics datasource says about the target, when one is configured.
  const metrics = await run.step('queryMetrics', () => storeSteps.queryMetrics(targetRef));
  state.metrics = metrics;
  state.findings.push(...metricFindings(metrics));
  if (run.resolvedElsewherePending) return run.stopResolvedElsewhere('investigating').then(() => null);

  const diagnostics = plan.diagnostics.map((d) => ({ id: d.id, command: d.command }));
  let runs: HostCommandRun[] = [];
  try {
    runs = diagnostics.length
      ? await run.step('runDiagnostics', () => hostReadSteps.runDiagnostics({ ...targetRef, commands: diagnostics }))
      : [];
  } catch (err) {
    // A host we cannot reach or log in to is a human's job; a changed host key is a failure (the caller's).
    const type = failureType(err);
    if (!type || !UNREACHABLE_HOST_FAILURES.includes(type as FailureType)) throw err;
    state.findings.push(`Diagnostics could not run on ${target.hostname}: ${failureMessage(err)}`);
    await run.finish('escalated', `Cannot run diagnostics on ${target.hostname} (${type}): escalated to on-call; nothing was changed.`);
    return null;
  }
  state.commands!.push(...runs);
  if (run.resolvedElsewherePending) return run.stopResolvedElsewhere('running read-only diagnostics').then(() => null);

  const analysed = await run.step('analyseDiagnostics', () =>
    reasoningSteps.analyseDiagnostics({
      ...targetRef,
      incidentId: run.input.incidentId,
      runbookId: plan.runbookId,
      parameters: plan.parameters,
      runs,
    }),
  );
  // Runs recorded before cause chains existed replay without following them.
  const analysis = patched('follow-causes') ? await followCauses(run, plan, analysed) : analysed;
  state.analysis = {
    findings: analysis.findings,
    refused: analysis.refused,
    planHash: analysis.planHash,
    rollback: analysis.rollback,
    ...(analysis.chain ? { chain: analysis.chain } : {}),
  };
  state.rootCause = analysis.rootCause;
  state.proposedActions = analysis.actions;
  for (const finding of analysis.findings) state.findings.push(`${finding.finding} (${finding.diagnostic}): ${finding.evidence}`);
  for (const refused of analysis.refused) state.findings.push(`Fix ${refused.id} will not run: ${refused.reason}.`);
  if (run.resolvedElsewherePending) return run.stopResolvedElsewhere('analysing the diagnostics').then(() => null);

  if (analysis.actions.length === 0 || !analysis.planHash) {
    const summary = !plan.runbookId
      ? 'No runbook covers this incident: escalated to on-call with the evidence gathered.'
      : `${plan.runbookTitle}: ${analysis.findings.length === 0 ? 'the diagnostics established no known cause' : 'no safe fix applies to what the diagnostics found'}; escalated to on-call with the evidence.`;
    await run.finish('escalated', summary);
    return null;
  }
  return { plan, analysis };
}

function metricFindings(metrics: MetricsSnapshot | null): string[] {
  const findings: string[] = [];
  for (const query of metrics?.queries ?? []) {
    for (const sample of query.samples.slice(0, 5)) {
      const labels = Object.entries(sample.labels)
        .filter(([name]) => name !== '__name__')
        .map(([name, value]) => `${name}="${value}"`)
        .join(',');
      findings.push(`Metrics: ${query.name}${labels ? ` {${labels}}` : ''} = ${sample.value}`);
    }
  }
  for (const note of metrics?.notes ?? []) findings.push(`Metrics unavailable: ${note}`);
  return findings;
}
