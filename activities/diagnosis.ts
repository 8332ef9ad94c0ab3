import type { KnowledgeBase } from '../adapters/knowledge/knowledge-base.js';
import type { CmdbItem } from '../core/incident.js';
import { classify, planFromRunbook } from '../core/planner.js';
import { redactText } from '../core/redact.js';
import type { Runbook, ServiceManager } from '../core/runbook.js';
import type { Store } from '../adapters/store/store.js';
import type { DiagnoseErrorInput, DiagnosisResult } from '../core/diagnosis.js';

export interface DiagnosisActivityDeps {
  store: Store;
  knowledge: KnowledgeBase;
  runbooks: readonly Runbook[];
}

const SERVICE_MANAGERS: readonly string[] = ['systemd', 'sysv', 'supervisor'];

/**
 * The planner's analysis of an error text: classify by runbook patterns, retrieve related
 * knowledge, and turn the best runbook into diagnostics and fixes. Text is data: it selects among
 * bundled runbooks and fills their parameters, it never becomes a command of its own.
 */
export function createDiagnosisActivities({ store, knowledge, runbooks }: DiagnosisActivityDeps) {
  return {
    async analyseErrorWithPlanner(input: DiagnoseErrorInput): Promise<DiagnosisResult> {
      const text = redactText(input.errorMessage).slice(0, 20_000);
      let item: CmdbItem | null = null;
      if (input.tagId) item = await store.cmdb.get(input.tenantId, input.tagId);
      const matches = classify(text, runbooks);
      const hits = await knowledge.search(input.tenantId, text, { k: 5 });
      const best = matches[0] ? runbooks.find((r) => r.id === matches[0]!.runbookId) : undefined;
      const related = [
        ...matches.slice(0, 3).map((m) => ({ id: m.runbookId, title: m.title, score: m.confidence, source: 'patterns' as const })),
        ...hits
          .filter((h) => h.kind === 'runbook' || h.kind === 'sop')
          .map((h) => ({ id: h.docId, title: h.title, score: h.score, source: 'knowledge' as const })),
      ].filter((entry, i, all) => all.findIndex((other) => other.title === entry.title) === i);

      if (!best || !matches[0]) {
        return {
          category: 'unknown',
          rootCause: 'No runbook pattern matches this error; escalate with the evidence below.',
          fixCommands: [],
          diagnosticCommands: [],
          prevention: [],
          runbooks: related.slice(0, 5),
          confidence: 0,
          mode: 'planner',
          escalate: true,
          parameters: {},
          target: item ? { tagId: item.tagId, hostname: item.hostname } : null,
        };
      }
      const manager = item?.serviceManager && SERVICE_MANAGERS.includes(item.serviceManager) ? (item.serviceManager as ServiceManager) : null;
      const parameters = {
        ...matches[0].parameters,
        ...(input.namespace ? { namespace: input.namespace } : {}),
        ...(input.pod ? { pod: input.pod } : {}),
      };
      const plan = planFromRunbook(best, { serviceManager: manager, parameters, tags: item?.tags ?? {} });
      return {
        category: best.id,
        rootCause: plan.hypotheses.map((h) => h.rootCause).join(' Or: '),
        fixCommands: plan.fixes.map((f) => ({ command: f.command, risk: f.risk, description: f.description, unresolved: f.unresolved })),
        diagnosticCommands: plan.diagnostics.map((d) => ({ command: d.command, description: d.description, unresolved: d.unresolved })),
        prevention: plan.prevention,
        runbooks: related.slice(0, 5),
        confidence: Math.round(matches[0].confidence * 100) / 100,
        mode: 'planner',
        escalate: plan.fixes.length === 0,
        parameters: plan.parameters,
        target: item ? { tagId: item.tagId, hostname: item.hostname } : null,
      };
    },
  };
}
