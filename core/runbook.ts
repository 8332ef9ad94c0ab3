// Runbook contract: plain types shared by the loader, the planner and (later) the remediation
// workflow. Workflow-safe: no imports.

export const RISKS = ['read-only', 'low', 'high'] as const;
export type Risk = (typeof RISKS)[number];

export const SERVICE_MANAGERS = ['systemd', 'sysv', 'supervisor'] as const;
export type ServiceManager = (typeof SERVICE_MANAGERS)[number];

/**
 * One command, either the same everywhere (`any`) or per service manager. Placeholders like
 * `{service}` or `{path}` are filled from the runbook's parameters.
 */
export type CommandVariants = Partial<Record<ServiceManager | 'any', string>>;

export interface RunbookParameter {
  name: string;
  description: string;
  /** Used when neither the incident text nor the CMDB tags give a value. */
  default?: string;
  /** CMDB tag that carries the value, e.g. `service`. */
  tag?: string;
}

export interface RunbookSignal {
  /**
   * Regex matched against the diagnostic's whole output with flags `im` (case-insensitive, `^`/`$`
   * at line boundaries). Named groups (e.g. `(?<pid>\d+)`) fill parameters of later fixes.
   */
  pattern: string;
  /** True: the finding holds when the pattern does NOT match (e.g. `\S` absent = empty output). */
  absent?: boolean;
  /** Finding id this signal establishes, e.g. `service-stopped`. */
  finding: string;
}

export interface RunbookDiagnostic {
  id: string;
  description: string;
  command: CommandVariants;
  signals: RunbookSignal[];
}

export interface RunbookHypothesis {
  finding: string;
  rootCause: string;
}

export interface RunbookFix {
  id: string;
  description: string;
  risk: Exclude<Risk, 'read-only'>;
  /** Applies when any of these findings was established. */
  when: string[];
  command: CommandVariants;
  /** Read-only check whose success means the fix is already in place (guards a retried step). */
  guard?: CommandVariants;
  rollback?: CommandVariants;
}

export interface RunbookVerification {
  description: string;
  command: CommandVariants;
  /** Regex the output must match for the host to count as healthy. */
  expect: string;
}

export interface Runbook {
  id: string;
  title: string;
  kind: 'host' | 'kubernetes' | 'terraform';
  /** Regexes (case-insensitive) over the incident/error text; a named group can fill a parameter. */
  patterns: string[];
  keywords: string[];
  /**
   * Runbooks whose symptom this one explains (OOMKilled refines CrashLoopBackOff): when both match,
   * the more specific one ranks first.
   */
  refines: string[];
  parameters: RunbookParameter[];
  diagnostics: RunbookDiagnostic[];
  hypotheses: RunbookHypothesis[];
  fixes: RunbookFix[];
  verification: RunbookVerification[];
  rollback: string;
  prevention: string[];
  /** The Markdown body, for people and for the knowledge base. */
  body: string;
  /** Source file, relative to the runbooks directory. */
  source: string;
}
