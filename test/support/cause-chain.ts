import { planHashOf } from '../../activities/incident/analysis.js';
import type { CmdbItem } from '../../core/incident.js';
import {
  analyse,
  MAX_CAUSE_DEPTH,
  nextFollowUp,
  planContextFor,
  planFollowUp,
  planFromRunbook,
  type CauseLink,
} from '../../core/planner.js';
import type { Analysis } from '../../core/remediation.js';
import type { Runbook } from '../../core/runbook.js';

// A cause chain followed as the workflow follows it (analyse → next follow-up → its diagnostics →
// analyse …), without Temporal: for unit tests over recorded output and lab tests over SSH.

type Item = Pick<CmdbItem, 'serviceManager' | 'tags'>;

/** What the analysis activity makes of one runbook's diagnostic output (command policy aside). */
export function remediationAnalysisOf(
  runbook: Runbook,
  outputs: Record<string, string>,
  item: Item,
  catalogue: readonly Runbook[],
  parameters: Record<string, string> = {},
): Analysis {
  const context = planContextFor(item, parameters);
  const result = analyse(runbook, outputs, context, catalogue);
  const plan = planFromRunbook(runbook, { ...context, parameters: result.parameters });
  const actions = result.fixes.flatMap((fix) =>
    fix.command && fix.unresolved.length === 0
      ? [
          {
            id: fix.id,
            source: 'runbook' as const,
            command: fix.command,
            guard: fix.guard,
            risk: fix.risk,
            reason: fix.description,
            policyReasons: [],
            rollback: fix.rollback,
          },
        ]
      : [],
  );
  return {
    findings: result.findings,
    rootCause: result.rootCauses.length ? result.rootCauses.join(' And: ') : null,
    actions,
    refused: [],
    planHash: actions.length ? planHashOf(actions) : null,
    verification: plan.verification.flatMap((v) =>
      v.command && v.unresolved.length === 0 ? [{ id: v.id, command: v.command, expect: v.expect, description: v.description }] : [],
    ),
    rollback: plan.rollback,
    followUps: result.followUps,
  };
}

/** Runs read-only diagnostics somewhere and returns their output by diagnostic id. */
export type Diagnose = (runbookId: string, diagnostics: { id: string; command: string }[]) => Promise<Record<string, string>>;

/** Follows the incident's runbook and the causes its findings name, as the workflow will. */
export async function followCauseChain(options: {
  runbooks: readonly Runbook[];
  item: Item;
  first: string;
  diagnose: Diagnose;
  maxDepth?: number;
}): Promise<CauseLink[]> {
  const { runbooks, item, first, diagnose, maxDepth = MAX_CAUSE_DEPTH } = options;
  const find = (id: string) => {
    const runbook = runbooks.find((r) => r.id === id);
    if (!runbook) throw new Error(`runbook ${id} is not loaded`);
    return runbook;
  };
  const runbook = find(first);
  const planned = planFromRunbook(runbook, planContextFor(item)).diagnostics.flatMap((d) =>
    d.command && d.unresolved.length === 0 ? [{ id: d.id, command: d.command }] : [],
  );
  const chain: CauseLink[] = [
    {
      runbookId: first,
      title: runbook.title,
      depth: 0,
      via: null,
      analysis: remediationAnalysisOf(runbook, await diagnose(first, planned), item, runbooks),
    },
  ];
  for (let next = nextFollowUp(chain, maxDepth); next; next = nextFollowUp(chain, maxDepth)) {
    const { followUp, depth } = next;
    const cause = find(followUp.runbookId);
    const plan = planFollowUp(cause, item, followUp);
    const outputs = await diagnose(cause.id, plan.diagnostics);
    chain.push({
      runbookId: cause.id,
      title: plan.runbookTitle,
      depth,
      via: followUp,
      analysis: remediationAnalysisOf(cause, outputs, item, runbooks, plan.parameters),
    });
  }
  return chain;
}
