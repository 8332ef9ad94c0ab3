// The built-in chat tools over InfraAI's own data (tools/builtin/): their names and the shape of the
// structured `data` each returns. Plain types only, so the offline planner (core/chat/offline-planner.ts)
// reads tool results without loading the tools, the store or zod.

import type { Environment, IncidentStatus, Severity } from '../incident.js';

export const BUILTIN_TOOL = {
  knowledgeSearch: 'knowledge_search',
  cmdbLookup: 'cmdb_lookup',
  cmdbGetItem: 'cmdb_get_item',
  incidentsList: 'incidents_list',
  incidentsGet: 'incidents_get',
  incidentsStartRemediation: 'incidents_start_remediation',
  automationRunsList: 'automation_runs_list',
  automationRunGet: 'automation_run_get',
  automationStartRun: 'automation_start_run',
  hostDiagnose: 'host_diagnose',
} as const;

/** Tools other parts provide that the offline planner knows how to call when they are registered. */
export const KNOWN_INTEGRATION_TOOL = {
  /** Arguments `{ query: string }`: a PromQL instant query. */
  prometheusQuery: 'prometheus_query',
} as const;

/** `incidents_list`'s status filter: one status, or `active` for every status before the end. */
export type IncidentStatusFilter = IncidentStatus | 'active';

export interface KnowledgeSearchData {
  query: string;
  hits: { docId: string; title: string; section: string; kind: string; score: number; excerpt: string; global: boolean }[];
}

export interface CmdbItemSummary {
  tagId: string;
  hostname: string;
  address: string;
  environment: Environment;
  os: string | null;
  serviceManager: string | null;
  owner: string | null;
  description: string | null;
  tags: Record<string, string>;
}

export interface CmdbLookupData {
  items: CmdbItemSummary[];
  nextCursor: string | null;
}

export interface CmdbItemData {
  item: CmdbItemSummary;
}

export interface IncidentSummary {
  id: string;
  number: number;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  tagId: string;
  targetHost: string | null;
  summary: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

export interface IncidentsListData {
  items: IncidentSummary[];
  nextCursor: string | null;
  /** The filters applied, host resolved to its CMDB tagId. */
  filter: { status: IncidentStatusFilter | null; tagId: string | null; since: string | null; severity: Severity | null };
}

export interface IncidentDetailData {
  incident: IncidentSummary & { description: string; workflowId: string };
  /** The run as its projection last showed it; null before the run wrote one. */
  run: {
    status: IncidentStatus;
    currentStep: string | null;
    rootCause: string | null;
    findings: string[];
    runbookTitle: string | null;
    /** Set while the run waits for an operator to approve its fix commands. */
    awaitingApproval: boolean;
    workflowStatus: string;
  } | null;
  /** The latest result the run (or an operator) recorded. */
  result: { status: IncidentStatus; summary: string; createdAt: string } | null;
}

export interface AutomationRunSummary {
  id: string;
  number: number;
  request: string;
  targets: string[];
  checkMode: boolean;
  status: string;
  summary: string | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface AutomationRunsListData {
  items: AutomationRunSummary[];
  nextCursor: string | null;
}

export interface AutomationRunData {
  run: AutomationRunSummary & {
    currentStep: string | null;
    /** The artifacts hash the run waits on for approval, when it does. */
    awaitingApprovalOf: string | null;
    /** Per host: ok, changed, failed, unreachable counts from the recap. */
    recap: Record<string, { ok: number; changed: number; failed: number; unreachable: number }> | null;
  };
}

export interface RemediationStartedData {
  incident: IncidentSummary;
  /** False when this call had already started it (a repeated call key). */
  created: boolean;
  workflowId: string;
}

export interface AutomationStartedData {
  run: AutomationRunSummary;
  created: boolean;
  workflowId: string;
}

export interface HostDiagnosisData {
  workflowId: string;
  category: string;
  rootCause: string;
  confidence: number;
  escalate: boolean;
  target: { tagId: string; hostname: string } | null;
  fixCommands: { command: string | null; risk: string; description: string }[];
  findings: string[];
  runbooks: string[];
}
