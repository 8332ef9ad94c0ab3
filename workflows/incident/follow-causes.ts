import { nextFollowUp, type CauseLink } from '../../core/planner.js';
import type { Analysis, RemediationPlan } from '../../core/remediation.js';
import { hostReadSteps, reasoningSteps } from './activities.js';
import type { IncidentRun } from './run-state.js';

/**
 * Compound faults: when the incident's runbook finds a symptom whose cause another runbook covers
 * (a disk full because a log grew), follow the cause — plan that runbook's read-only diagnostics,
 * run them, analyse them — up to MAX_CAUSE_DEPTH and never into a runbook already in the chain,
 * then combine the chain into one analysis (cause fixed first; one plan hash over every action).
 * Returns the first analysis unchanged when it names no cause.
 */
export async function followCauses(run: IncidentRun, plan: RemediationPlan, first: Analysis): Promise<Analysis> {
  const { state, targetRef } = run;
  if (!plan.runbookId || !first.followUps?.length) return first;
  const chain: CauseLink[] = [
    { runbookId: plan.runbookId, title: plan.runbookTitle ?? plan.runbookId, depth: 0, via: null, analysis: first },
  ];
  for (let next = nextFollowUp(chain); next; next = nextFollowUp(chain)) {
    const { followUp, depth } = next;
    state.findings.push(`Following the cause: ${followUp.because} → runbook '${followUp.runbookId}'.`);
    const followed = await run.step('planFollowUp', () => reasoningSteps.planFollowUp({ ...targetRef, followUp }));
    for (const refused of followed.refused)
      state.findings.push(`${followed.runbookId}: diagnostic ${refused.id} will not run: ${refused.reason}.`);
    const commands = followed.diagnostics.map((d) => ({ id: d.id, command: d.command }));
    const runs = commands.length ? await run.step('runDiagnostics', () => hostReadSteps.runDiagnostics({ ...targetRef, commands })) : [];
    state.commands!.push(...runs);
    const analysis = await run.step('analyseDiagnostics', () =>
      reasoningSteps.analyseDiagnostics({
        ...targetRef,
        incidentId: run.input.incidentId,
        runbookId: followed.runbookId,
        parameters: followed.parameters,
        runs,
        followed: true,
      }),
    );
    chain.push({ runbookId: followed.runbookId, title: followed.runbookTitle, depth, via: followUp, analysis });
  }
  return run.step('combineCauseChain', () => reasoningSteps.combineCauseChain({ chain }));
}
