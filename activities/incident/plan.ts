import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { completeStructured } from '../../adapters/llm/port.js';
import { MetricsQueryError, MetricsUnavailableError } from '../../adapters/metrics/port.js';
import { classifyCommand } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { CmdbItem } from '../../core/incident.js';
import {
  baselineDiagnostics,
  classify,
  planContextFor,
  planFollowUp,
  planFromRunbook,
  type FollowUp,
  type FollowUpPlan,
} from '../../core/planner.js';
import { redactText } from '../../core/redact.js';
import type { MetricsSnapshot, RemediationPlan } from '../../core/remediation.js';
import type { IncidentRunDeps, TargetRef } from './deps.js';
import type { HostSessions } from './host-session.js';
import { LLM_SYSTEM_PROMPT, llmFailure, usageOf } from './llm-support.js';

// Plan step group: knowledge and runbook retrieval into a read-only diagnostic plan, and the
// metrics datasource's view of the target.

/** Label matcher for a host: its address with or without a port (Prometheus `instance` labels carry one). */
const instanceMatcher = (address: string) => `instance=~"${address.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')}(:[0-9]+)?"`;

/** The questions asked of the datasource for every target: is it scraped up, and node exporter basics when present. */
function metricQueries(item: CmdbItem): { name: string; query: string }[] {
  const instance = item.tags.prometheusInstance
    ? `instance="${item.tags.prometheusInstance.replace(/["\\]/g, '')}"`
    : instanceMatcher(item.address);
  return [
    { name: 'scrape targets up', query: `up{${instance}}` },
    { name: 'cpu busy %', query: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",${instance}}[5m])))` },
    { name: 'memory used %', query: `100 * (1 - node_memory_MemAvailable_bytes{${instance}} / node_memory_MemTotal_bytes{${instance}})` },
    {
      name: 'filesystem used %',
      query: `100 * (1 - node_filesystem_avail_bytes{${instance},fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{${instance},fstype!~"tmpfs|overlay|squashfs"})`,
    },
  ];
}

const LlmPlanSchema = z
  .object({
    diagnostics: z
      .array(
        z
          .object({ id: z.string().regex(/^[a-z0-9-]{1,40}$/), command: z.string().min(1).max(500), description: z.string().max(300) })
          .strict(),
      )
      .max(8),
  })
  .strict();

export function createPlanActivities(
  { store, knowledge, runbooks, llm = null, metrics = null, commandPolicy = {} }: IncidentRunDeps,
  { itemOf }: Pick<HostSessions, 'itemOf'>,
) {
  return {
    /**
     * Knowledge and runbook retrieval, then the diagnostic plan. The incident's text only selects
     * a bundled runbook and fills its parameters; every planned command passes the policy.
     */
    async planRemediation({ tenantId, incidentId, tagId }: TargetRef & { incidentId: string }): Promise<RemediationPlan> {
      const incident = await store.incidents.get(tenantId, incidentId);
      if (!incident) throw ApplicationFailure.nonRetryable(`Incident ${incidentId} does not exist`, FAILURE.IncidentNotFound);
      const item = await itemOf({ tenantId, tagId });
      const text = redactText(`${incident.title}\n${incident.description ?? ''}`).slice(0, 20_000);
      const hits = await knowledge.search(tenantId, text, { k: 5 });
      const match = classify(text, runbooks).find((m) => runbooks.find((r) => r.id === m.runbookId)?.kind !== 'kubernetes');
      const runbook = match ? runbooks.find((r) => r.id === match.runbookId) : undefined;
      const plan: RemediationPlan = {
        source: 'planner',
        runbookId: runbook?.id ?? null,
        runbookTitle: runbook?.title ?? null,
        confidence: match ? Math.round(match.confidence * 100) / 100 : 0,
        parameters: {},
        diagnostics: [],
        knowledge: hits.map((h) => ({ docId: h.docId, title: h.title, section: h.section })),
        refused: [],
      };
      const admit = (id: string, command: string, description: string) => {
        if (plan.diagnostics.some((d) => d.command === command)) return;
        const verdict = classifyCommand(command, commandPolicy);
        if (verdict.risk === 'read-only') plan.diagnostics.push({ id, command, description });
        else plan.refused.push({ id, command, reason: `not read-only (${verdict.risk}: ${verdict.reasons.join('; ')})` });
      };
      if (runbook && match) {
        const rendered = planFromRunbook(runbook, planContextFor(item, match.parameters));
        plan.parameters = rendered.parameters;
        for (const diagnostic of rendered.diagnostics) {
          if (!diagnostic.command)
            plan.refused.push({
              id: diagnostic.id,
              command: null,
              reason: `no variant for service manager '${item.serviceManager ?? 'unknown'}'`,
            });
          else if (diagnostic.unresolved.length)
            plan.refused.push({
              id: diagnostic.id,
              command: diagnostic.command,
              reason: `no value for ${diagnostic.unresolved.join(', ')}`,
            });
          else admit(diagnostic.id, diagnostic.command, diagnostic.description);
        }
      } else {
        // No runbook: gather the evidence a human will want before escalating (or the LLM analyses).
        for (const baseline of baselineDiagnostics(item)) admit(baseline.id, baseline.command, baseline.description);
      }
      if (llm) {
        // The LLM may add read-only diagnostics; the policy decides what runs, as for the planner's.
        const evidence = {
          incident: { title: incident.title, description: incident.description },
          host: { hostname: item.hostname, os: item.os, serviceManager: item.serviceManager, tags: item.tags },
          matchedRunbook: runbook ? { id: runbook.id, title: runbook.title } : null,
          plannedDiagnostics: plan.diagnostics,
          knowledge: hits.slice(0, 3).map((h) => ({ title: h.title, excerpt: h.text.slice(0, 600) })),
        };
        try {
          const { value, responses } = await completeStructured(
            llm,
            [
              { role: 'system', content: LLM_SYSTEM_PROMPT },
              {
                role: 'user',
                content: `Propose up to 8 read-only diagnostic commands beyond plannedDiagnostics for this incident.\n<data>\n${JSON.stringify(evidence, null, 2)}\n</data>`,
              },
            ],
            LlmPlanSchema,
            'diagnostic_plan',
          );
          plan.llm = usageOf(llm, responses);
          plan.source = 'llm';
          for (const diagnostic of value.diagnostics) admit(`llm-${diagnostic.id}`, diagnostic.command, diagnostic.description);
        } catch (err) {
          plan.llmError = llmFailure(err);
        }
      }
      return plan;
    },

    /** The metrics datasource's view of the target (Prometheus instant queries), when one is configured. */
    async queryMetrics(ref: TargetRef): Promise<MetricsSnapshot | null> {
      if (!metrics) return null;
      const item = await itemOf(ref);
      const snapshot: MetricsSnapshot = { datasource: metrics.name, queries: [], notes: [] };
      for (const { name, query } of metricQueries(item)) {
        try {
          const samples = await metrics.query(query);
          snapshot.queries.push({
            name,
            query,
            samples: samples.slice(0, 20).map((sample) => ({ labels: sample.labels, value: Math.round(sample.value * 100) / 100 })),
          });
        } catch (err) {
          // A datasource that is down or refuses one query degrades the evidence, not the run.
          if (err instanceof MetricsUnavailableError || err instanceof MetricsQueryError) {
            snapshot.notes.push(`${name}: ${err.message}`);
            if (err instanceof MetricsUnavailableError) break;
            continue;
          }
          throw err;
        }
      }
      return snapshot;
    },

    /**
     * The read-only diagnostics of the runbook that covers a cause the analysis found (a disk full
     * because a log grew → log-growth), rendered for the same host with the values the finding
     * carried; every command passes the policy, as for the incident's own plan.
     */
    async planFollowUp(input: TargetRef & { followUp: FollowUp }): Promise<FollowUpPlan> {
      const runbook = runbooks.find((r) => r.id === input.followUp.runbookId);
      if (!runbook) throw ApplicationFailure.nonRetryable(`Runbook '${input.followUp.runbookId}' is not loaded`, FAILURE.RunbookMissing);
      const item = await itemOf(input);
      const plan = planFollowUp(runbook, item, input.followUp);
      const admitted: FollowUpPlan['diagnostics'] = [];
      for (const diagnostic of plan.diagnostics) {
        const verdict = classifyCommand(diagnostic.command, commandPolicy);
        if (verdict.risk === 'read-only') admitted.push(diagnostic);
        else
          plan.refused.push({
            id: diagnostic.id,
            command: diagnostic.command,
            reason: `not read-only (${verdict.risk}: ${verdict.reasons.join('; ')})`,
          });
      }
      return { ...plan, diagnostics: admitted };
    },
  };
}
