import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { completeStructured } from '../../adapters/llm/port.js';
import { classifyCommand, maxRisk, policyForItem } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { CmdbItem } from '../../core/incident.js';
import { analyse, combineAnalyses, planContextFor, planFromRunbook, type CauseLink } from '../../core/planner.js';
import type { Analysis, HostCommandRun, ProposedAction } from '../../core/remediation.js';
import type { IncidentRunDeps, TargetRef } from './deps.js';
import type { HostSessions } from './host-session.js';
import { LLM_SYSTEM_PROMPT, llmFailure, usageOf } from './llm-support.js';

// Analysis step: the runbook's rules over the diagnostics' output, each proposed fix rated by the
// policy; the LLM proposes when one is configured and the rules found nothing to do.

/** The exact commands (and guards) of a proposal, hashed: an approval is bound to this value. */
export function planHashOf(actions: readonly Pick<ProposedAction, 'id' | 'command' | 'guard'>[]): string {
  return createHash('sha256')
    .update(JSON.stringify(actions.map((a) => [a.id, a.command, a.guard])))
    .digest('hex');
}

const LlmAnalysisSchema = z
  .object({
    rootCause: z.string().min(3).max(1000).nullable(),
    actions: z
      .array(z.object({ command: z.string().min(1).max(500), risk: z.enum(['low', 'high']), reason: z.string().max(500) }).strict())
      .max(5),
    verification: z.array(z.object({ command: z.string().min(1).max(500), expect: z.string().min(1).max(200) }).strict()).max(5),
  })
  .strict();

const isValidRegex = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

export function createAnalysisActivities(
  { store, runbooks, llm = null, commandPolicy = {} }: IncidentRunDeps,
  { itemOf }: Pick<HostSessions, 'itemOf'>,
) {
  async function runbookAnalysis(
    runbookId: string,
    item: CmdbItem,
    input: { parameters: Record<string, string>; runs: HostCommandRun[] },
  ): Promise<Analysis> {
    const runbook = runbooks.find((r) => r.id === runbookId);
    if (!runbook) throw ApplicationFailure.nonRetryable(`Runbook '${runbookId}' is not loaded`, FAILURE.RunbookMissing);
    const outputs = Object.fromEntries(input.runs.filter((r) => !r.timedOut).map((r) => [r.id, r.output]));
    const context = planContextFor(item, input.parameters);
    const result = analyse(runbook, outputs, context, runbooks);
    const plan = planFromRunbook(runbook, { ...context, parameters: result.parameters });
    const actions: ProposedAction[] = [];
    const refused: Analysis['refused'] = [];
    for (const fix of result.fixes) {
      if (!fix.command || fix.unresolved.length) {
        refused.push({
          id: fix.id,
          command: fix.command,
          reason: fix.command ? `no value for ${fix.unresolved.join(', ')}` : 'no variant for this service manager',
        });
        continue;
      }
      const verdict = classifyCommand(fix.command, policyForItem(commandPolicy, item));
      if (verdict.risk === 'forbidden') {
        refused.push({ id: fix.id, command: fix.command, reason: `forbidden: ${verdict.reasons.join('; ')}` });
        continue;
      }
      const guardVerdict = fix.guard ? classifyCommand(fix.guard, commandPolicy) : null;
      const guard = guardVerdict?.risk === 'read-only' ? fix.guard : null;
      // The riskier of the runbook's rating and the policy's decides.
      const risk = maxRisk(fix.risk, verdict.risk === 'read-only' ? 'low' : verdict.risk) as 'low' | 'high';
      actions.push({
        id: fix.id,
        source: 'runbook',
        command: fix.command,
        guard,
        risk,
        reason: fix.description,
        policyReasons: verdict.reasons,
        rollback: fix.rollback,
      });
    }
    const verification = plan.verification.flatMap((v) =>
      v.command && !v.unresolved.length && classifyCommand(v.command, commandPolicy).risk === 'read-only'
        ? [{ id: v.id, command: v.command, expect: v.expect, description: v.description }]
        : [],
    );
    return {
      findings: result.findings,
      rootCause: result.rootCauses.length ? result.rootCauses.join(' And: ') : null,
      actions,
      refused,
      planHash: actions.length ? planHashOf(actions) : null,
      verification,
      rollback: plan.rollback || null,
      followUps: result.followUps,
    };
  }

  return {
    /** The runbook's rules over the diagnostic output: findings, root cause, and the fixes they call for, each rated by the policy. */
    async analyseDiagnostics(
      input: TargetRef & {
        incidentId?: string;
        runbookId: string | null;
        parameters: Record<string, string>;
        runs: HostCommandRun[];
        /** Set for a runbook followed as another's cause: its rules alone analyse (the LLM sees the whole chain's outcome instead). */
        followed?: boolean;
      },
    ): Promise<Analysis> {
      const item = await itemOf(input);
      const planned: Analysis = input.runbookId
        ? await runbookAnalysis(input.runbookId, item, input)
        : { findings: [], rootCause: null, actions: [], refused: [], planHash: null, verification: [], rollback: null };
      // The LLM analyses when one is configured and the runbook rules found nothing to do, nor a cause to follow.
      if (!llm || input.followed || planned.actions.length > 0 || (planned.followUps?.length ?? 0) > 0) return planned;
      const incident = input.incidentId ? await store.incidents.get(input.tenantId, input.incidentId) : null;
      const evidence = {
        incident: incident ? { title: incident.title, description: incident.description } : null,
        host: { hostname: item.hostname, os: item.os, serviceManager: item.serviceManager, tags: item.tags },
        runbookFindings: planned.findings,
        diagnostics: input.runs.map((r) => ({ command: r.command, exitCode: r.exitCode, output: r.output.slice(0, 1500) })),
      };
      try {
        const { value, responses } = await completeStructured(
          llm,
          [
            { role: 'system', content: LLM_SYSTEM_PROMPT },
            {
              role: 'user',
              content:
                'From the diagnostics, give the root cause (or null), at most 5 fix commands with their risk, and read-only verification commands with a regex their output must match once fixed.\n' +
                `<data>\n${JSON.stringify(evidence, null, 2)}\n</data>`,
            },
          ],
          LlmAnalysisSchema,
          'remediation_analysis',
        );
        const actions: ProposedAction[] = [];
        const refused = [...planned.refused];
        value.actions.forEach((proposal, i) => {
          const verdict = classifyCommand(proposal.command, policyForItem(commandPolicy, item));
          if (verdict.risk === 'forbidden') {
            refused.push({ id: `llm-${i + 1}`, command: proposal.command, reason: `forbidden: ${verdict.reasons.join('; ')}` });
            return;
          }
          const risk = maxRisk(proposal.risk, verdict.risk === 'read-only' ? 'low' : verdict.risk) as 'low' | 'high';
          actions.push({
            id: `llm-${i + 1}`,
            source: 'llm',
            command: proposal.command,
            guard: null,
            risk,
            reason: proposal.reason,
            policyReasons: verdict.reasons,
            rollback: null,
          });
        });
        const verification = [
          ...planned.verification,
          ...value.verification.flatMap((v, i) =>
            classifyCommand(v.command, commandPolicy).risk === 'read-only' && isValidRegex(v.expect)
              ? [{ id: `llm-verify-${i + 1}`, command: v.command, expect: v.expect, description: 'proposed by the LLM' }]
              : [],
          ),
        ];
        return {
          ...planned,
          rootCause: value.rootCause ?? planned.rootCause,
          actions,
          refused,
          planHash: actions.length ? planHashOf(actions) : null,
          verification,
          llm: usageOf(llm, responses),
        };
      } catch (err) {
        return { ...planned, llmError: llmFailure(err) };
      }
    },

    /**
     * One plan for a cause chain (the incident's runbook and the runbooks covering the causes it
     * found): findings labelled per runbook, the cause first in the fixes, every link's checks,
     * and one plan hash over every action, so the approval rules are those of a single runbook.
     */
    async combineCauseChain({ chain }: { chain: CauseLink[] }): Promise<Analysis> {
      return combineAnalyses(chain, planHashOf);
    },
  };
}
