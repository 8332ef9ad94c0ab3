import { FAILURE } from '../../core/contracts/failures.js';
import type { Analysis, ProposedAction, RemediationPlan } from '../../core/remediation.js';
import { hostChangeSteps, hostReadSteps } from './activities.js';
import { failureMessage, failureType } from '../runs/failures.js';
import type { IncidentRun } from './run-state.js';

/**
 * The change itself, inside the host lease: each fix in order (guarded, so a retry applies nothing
 * twice; the first failure stops the rest), then the verification checks, then the result. A fix
 * whose outcome is unknown after a crash ends the run escalated (it is never run again blindly);
 * so does a lost host lease, even when verification passes: another run may have worked on the host.
 */
export async function applyFixesAndVerify(run: IncidentRun, plan: RemediationPlan, analysis: Analysis, allowedBy: string): Promise<void> {
  const { state, targetRef } = run;
  const title = plan.runbookTitle ?? 'LLM plan';
  await run.markStatus('remediating');
  const outcomes: { action: ProposedAction; outcome: string }[] = [];
  for (const action of analysis.actions) {
    if (run.hostLeaseLost) break;
    let applied;
    try {
      applied = await run.step('applyRemediationAction', () =>
        hostChangeSteps.applyRemediationAction({ ...targetRef, incidentId: run.input.incidentId, action, allowedBy }),
      );
    } catch (err) {
      if (failureType(err) !== FAILURE.FixOutcomeUnknown) throw err;
      state.findings.push(`Fix ${action.id} ('${action.command}'): ${failureMessage(err)}`);
      const before = outcomes.length ? ` after ${outcomes.map((o) => `${o.action.id}: ${o.outcome}`).join(', ')}` : '';
      await run.finish(
        'escalated',
        `${title}: the outcome of fix ${action.id} ('${action.command}') is unknown${before}: an attempt started it and was lost, and it has no guard to tell whether it took effect. Nothing was re-run; escalated to check the host.`,
      );
      return;
    }
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
  if (run.hostLeaseLost) {
    await run.finish(
      'escalated',
      `${title}: the host lease was lost while fixing (${run.hostLeaseLost}); fixes ${applied || 'none'} ran, verification ${verified.passed ? 'passed' : 'failed'}, but another run may have changed the host too: escalated.`,
    );
  } else if (verified.passed) {
    await run.finish('resolved', `${title}: ${state.rootCause ?? 'cause found'} Fixed (${applied}) and verified.`);
  } else {
    const rollback = analysis.rollback ? ` Rollback guidance: ${analysis.rollback}` : '';
    await run.finish(
      'escalated',
      `${title}: fix applied (${applied}) but verification failed (${verified.failures.join('; ')}); escalated.${rollback}`,
    );
  }
}
