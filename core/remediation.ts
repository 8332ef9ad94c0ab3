// Contract of the remediation stages of the incident workflow (workflow-safe: types and message
// definitions only). Commands are planned from bundled runbooks (or an LLM when configured),
// checked by the command policy, run over SSH by activities, and every run is kept in the state.

export type ActionRisk = 'low' | 'high';

/** A read-only command the plan wants to run, and why. */
export interface PlannedDiagnostic {
  id: string;
  command: string;
  description: string;
}

/** Model and token use of the LLM calls behind a step. */
export interface LlmUsage {
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

export interface RemediationPlan {
  source: 'planner' | 'llm';
  /** Present when an LLM contributed; `llmError` says why it could not. */
  llm?: LlmUsage | null;
  llmError?: string | null;
  runbookId: string | null;
  runbookTitle: string | null;
  /** How well the incident text matched the runbook (0..1). */
  confidence: number;
  parameters: Record<string, string>;
  diagnostics: PlannedDiagnostic[];
  /** Knowledge base documents that informed the plan. */
  knowledge: { docId: string; title: string; section: string }[];
  /** Commands the plan wanted that the policy refused or could not fill in. */
  refused: { id: string; command: string | null; reason: string }[];
}

/** What the metrics datasource said about the target before diagnostics (absent when none is configured). */
export interface MetricsSnapshot {
  datasource: string;
  queries: { name: string; query: string; samples: { labels: Record<string, string>; value: number }[] }[];
  notes: string[];
}

/** One command run on a host, as the timeline shows it. */
export interface HostCommandRun {
  phase: 'diagnostic' | 'guard' | 'fix' | 'verification' | 'rollback';
  id: string;
  command: string;
  /** Who or what allowed it: `policy:read-only`, `policy:auto-low-risk`, `approval:<who>`. */
  allowedBy: string;
  exitCode: number | null;
  /** Redacted and truncated. */
  output: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
  at: string;
}

export interface ProposedAction {
  /** Runbook fix id, or `llm-<n>` for an action the LLM proposed. */
  id: string;
  /** Runbook fixes may run on their own when low risk; an LLM's proposals always wait for a human. */
  source: 'runbook' | 'llm';
  command: string;
  /** Read-only check that says the fix is already in place (run first; exit 0 skips the fix). */
  guard: string | null;
  risk: ActionRisk;
  reason: string;
  /** Why the policy rated the command as it did. */
  policyReasons: string[];
  rollback: string | null;
}

export interface Analysis {
  /** `runbookId`: which runbook of a cause chain established it (absent for a single runbook). */
  findings: { finding: string; diagnostic: string; evidence: string; runbookId?: string }[];
  rootCause: string | null;
  actions: ProposedAction[];
  /** Fixes the policy refused (forbidden) or could not fill in; they never run. */
  refused: { id: string; command: string | null; reason: string }[];
  /** sha256 of the exact proposed commands: an approval is bound to it. */
  planHash: string | null;
  verification: { id: string; command: string; expect: string; description: string }[];
  rollback: string | null;
  llm?: LlmUsage | null;
  llmError?: string | null;
  /** Runbooks covering the causes of what was found, for the run to follow next (see core/planner.ts). */
  followUps?: FollowUp[];
  /** Set on a combined analysis: the runbooks of the cause chain, the incident's first. */
  chain?: { runbookId: string; title: string; depth: number; because: string | null }[];
}

export interface ApprovalState {
  /**
   * `auto`: the policy let low-risk runbook fixes run without a human. `withdrawn`: the incident was
   * resolved elsewhere (PagerDuty) while the plan waited; nothing ran and no decision is taken any more.
   */
  decision: 'pending' | 'approved' | 'rejected' | 'timed_out' | 'auto' | 'withdrawn';
  planHash: string;
  requestedAt: string;
  /** When the wait ends on its own (escalation). */
  deadline: string | null;
  by: string | null;
  comment: string | null;
  decidedAt: string | null;
}

export interface ApprovalDecisionInput {
  decision: 'approve' | 'reject';
  /** The plan the approver saw; absent = the pending one. */
  planHash?: string | undefined;
  by: string;
  comment?: string | undefined;
}

export interface RemediationSettings {
  /** How long a risky plan waits for a human before the run escalates (ms). */
  approvalTimeoutMs: number;
  /** Low-risk fixes of a matched runbook run without approval. */
  autoApproveLowRisk: boolean;
}

export const DEFAULT_REMEDIATION_SETTINGS: RemediationSettings = { approvalTimeoutMs: 30 * 60_000, autoApproveLowRisk: true };

/** A finding whose cause another runbook covers: that runbook's diagnostics are the next step. */
export interface FollowUp {
  /** The runbook that covers the cause. */
  runbookId: string;
  /**
   * Values carried into it: what the signal captured (named groups the cause runbook declares), and
   * this runbook's values of parameters both read from the same CMDB tag. Never anything else: a PID
   * captured for one runbook's fix must not become the target of another's.
   */
  parameters: Record<string, string>;
  /** The runbook and finding that named the cause. */
  fromRunbookId: string;
  finding: string;
  /** `finding (diagnostic): evidence line`, for people. */
  because: string;
}
