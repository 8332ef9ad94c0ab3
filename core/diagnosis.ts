// Contract of the error diagnosis workflow (reference 003's classify → collect → analyse → suggest).
import type { Risk } from './runbook.js';

export const DIAGNOSIS_WORKFLOW_TYPE = 'diagnoseError';

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
  /** Why a source was not collected (e.g. no cluster configured). */
  notes: string[];
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
  /** Why the planner answered although an LLM is configured. */
  fallbackReason?: string;
}
