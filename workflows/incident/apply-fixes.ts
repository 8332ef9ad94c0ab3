import type { Analysis, ProposedAction, RemediationPlan } from '../../core/remediation.js';
import { hostChangeSteps, hostReadSteps } from './activities.js';
import type { IncidentRun } from './run-state.js';

/**
 * The change itself, inside the host lease: each fix in order (guarded, so a retry applies nothing
 * twice; the first failure stops the rest), then the verification checks, then the result.
 */
export async function applyFixesAndVerify(run: IncidentRun, plan: RemediationPlan, analysis: Analysis, allowedBy: string): Promise<void> {
  const { state, targetRef } = run;
  await run.markStatus('remediating');
  const outcomes: { action: ProposedAction; outcome: string }[] = [];
  for (const action of analysis.actions) {
    const applied = await run.step('applyRemediationAction', () =>
      hostChangeSteps.applyRemediationAction({ ...targetRef, action, allowedBy }),
    );
    state.commands!.push(...applied.runs);
    outcomes.push({ action, outcome: applied.outcome });
    if (applied.outcome === 'failed') break;
  }
  await run.markStatus('verifying');
  const checks = analysis.verification.map((v) => ({ id: v.id, command: v.command, expect: v.expect }));
  const verified = await run.step('verifyRemediation', () => hostReadSteps.verifyRemediation({ ...targetRef, checks }));
  state.commands!.push(...verified.runs);
  state.verification = { passed: verified.passed, failures: verified.failures };
  const applied = outcomes.map((o) => `${o.action.id}: ${o.outcome}`).join(', ');
  const title = plan.runbookTitle ?? 'LLM plan';
  if (verified.passed) {
    await run.finish('resolved', `${title}: ${state.rootCause ?? 'cause found'} Fixed (${applied}) and verified.`);
  } else {
    const rollback = analysis.rollback ? ` Rollback guidance: ${analysis.rollback}` : '';
    await run.finish(
      'escalated',
      `${title}: fix applied (${applied}) but verification failed (${verified.failures.join('; ')}); escalated.${rollback}`,
    );
  }
}
