// Contract of the error diagnosis workflow (reference 003's classify → collect → analyse → suggest).
import type { Risk } from '../runbook.js';

export const DIAGNOSIS_WORKFLOW_TYPE = 'diagnoseError';

/** One diagnosis per request: its id is the request's own (a uuid), so a diagnosis is never deduplicated away. */
export const diagnosisWorkflowId = (requestUuid: string) => `diagnose-${requestUuid}`;

export interface DiagnoseErrorInput {
  tenantId: string;
  errorMessage: string;
  namespace?: string | undefined;
  pod?: string | undefined;
  tagId?: string | undefined;
  /** Filled by the collect step, not by callers. */
  facts?: CollectedFacts | null | undefined;
}

/** Read-only facts gathered before the analysis (redacted and size-capped). */
export interface CollectedFacts {
  kubernetes: {
    pod: { name: string; phase: string; ready: boolean; restarts: number; reason: string | null; exitCode: number | null } | null;
    events: { type: string; reason: string; message: string; count: number }[];
  } | null;
  /** Read-only commands run over SSH on the CMDB item's host (allowlisted, redacted, truncated). */
  host?: HostFacts | null | undefined;
  /** Why a source was not collected (e.g. no cluster configured). */
  notes: string[];
}

export interface HostFacts {
  tagId: string;
  address: string;
  /** The runbook whose diagnostics ran (chosen from the error text), or null for the baseline only. */
  runbookId: string | null;
  hostKeyFingerprint: string;
  commands: HostCommandFact[];
}

export interface HostCommandFact {
  /** Runbook diagnostic id, or `baseline-*` for the facts gathered on every host. */
  id: string;
  command: string;
  exitCode: number | null;
  output: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface DiagnosisResult {
  /** Runbook id of the matched category, or `unknown`. */
  category: string;
  rootCause: string;
  fixCommands: { command: string | null; risk: Exclude<Risk, 'read-only'>; description: string; unresolved: string[] }[];
  /** Read-only commands that confirm the diagnosis. */
  diagnosticCommands: { command: string | null; description: string; unresolved: string[] }[];
  prevention: string[];
  runbooks: { id: string; title: string; score: number; source: 'patterns' | 'knowledge' }[];
  confidence: number;
  mode: 'planner' | 'llm';
  escalate: boolean;
  parameters: Record<string, string>;
  target: { tagId: string; hostname: string } | null;
  /** Model and token use when an LLM answered. */
  llm?: { provider: string; model: string; calls: number; inputTokens: number; outputTokens: number };
  facts: CollectedFacts | null;
  /** What the runbook's signal rules established from the host's diagnostic output. */
  findings?: { finding: string; diagnostic: string; evidence: string }[];
  /** Why the planner answered although an LLM is configured. */
  fallbackReason?: string;
}
