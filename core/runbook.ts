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
  /**
   * Runbook that covers the cause of this finding (service-down's "no space left" → `disk-full`).
   * The planner follows it: that runbook's diagnostics run next, with this signal's named groups and
   * the values of the parameters both runbooks read from the same CMDB tag.
   */
  cause?: string;
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
  /** Does not apply when any of these was established (port-in-use: not while the service itself runs). */
  unless?: string[];
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

/**
 * What a set of runbooks names but does not contain: `refines` and signal `cause` ids that are not
 * loaded, a runbook naming itself as its cause, a cause of another kind (a host symptom cannot be
 * explained by a Kubernetes runbook: their diagnostics run elsewhere), or a value captured for a cause
 * that does not take it. Empty when consistent.
 */
export function runbookReferenceProblems(runbooks: readonly Runbook[]): string[] {
  const byId = new Map(runbooks.map((r) => [r.id, r]));
  const problems: string[] = [];
  for (const runbook of runbooks) {
    for (const refined of runbook.refines) {
      if (!byId.has(refined)) problems.push(`${runbook.source}: refines unknown runbook '${refined}'`);
    }
    for (const diagnostic of runbook.diagnostics) {
      for (const signal of diagnostic.signals) {
        if (signal.cause === undefined) continue;
        const where = `${runbook.source}: finding '${signal.finding}' of diagnostic '${diagnostic.id}'`;
        const cause = byId.get(signal.cause);
        if (!cause) problems.push(`${where} names unknown cause runbook '${signal.cause}'`);
        else if (cause.id === runbook.id) problems.push(`${where} names its own runbook as its cause`);
        else if (cause.kind !== runbook.kind)
          problems.push(`${where} names a ${cause.kind} runbook ('${cause.id}') as the cause of a ${runbook.kind} finding`);
        else {
          // A value the signal captures for its cause must be one the cause runbook takes.
          for (const [, group] of signal.pattern.matchAll(/\(\?<([a-zA-Z][a-zA-Z0-9]*)>/g)) {
            if (!cause.parameters.some((p) => p.name === group))
              problems.push(`${where} captures {${group}}, which its cause runbook '${cause.id}' does not declare`);
          }
        }
      }
    }
  }
  return problems;
}
