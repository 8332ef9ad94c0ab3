import type { AutomationArtifacts, ValidationFinding } from '../../core/automation.js';

// The playbook checker port: ansible's own syntax check and ansible-lint over a run's artifacts, as
// findings tied to tasks. Findings mean "this playbook may not run"; an error (below) means the check
// itself could not be done and says nothing about the playbook. No process is spawned here:
// local.ts runs the Debian tools.

export interface PlaybookChecker {
  /** `ansible-playbook --syntax-check`: empty when the playbook parses and every module resolves. */
  syntaxCheck(artifacts: AutomationArtifacts): Promise<ValidationFinding[]>;
  /** `ansible-lint` at the configured profile: empty when no rule fails (warnings do not block). */
  lint(artifacts: AutomationArtifacts): Promise<ValidationFinding[]>;
}

/** The tool is not installed here (Debian: `apt-get install ansible ansible-lint`); not retryable. */
export class PlaybookCheckerUnavailableError extends Error {
  override readonly name = 'PlaybookCheckerUnavailableError';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
  }
}

/** The tool ran past its time limit and was stopped (retryable: the machine may be busy). */
export class PlaybookCheckTimeoutError extends Error {
  override readonly name = 'PlaybookCheckTimeoutError';
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`${tool} did not finish within ${timeoutMs} ms`);
  }
}

/** The tool failed in a way that is not a finding about the playbook (a crash, unreadable output). */
export class PlaybookCheckFailedError extends Error {
  override readonly name = 'PlaybookCheckFailedError';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
  }
}
