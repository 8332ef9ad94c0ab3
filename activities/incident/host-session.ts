import { ApplicationFailure } from '@temporalio/activity';
import {
  CredentialNotFoundError,
  HostKeyMismatchError,
  SshAuthenticationError,
  SshConnectionError,
  type CommandOutcome,
  type SshSession,
} from '../../adapters/ssh/port.js';
import { classifyCommand } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import type { CmdbItem } from '../../core/incident.js';
import { redactText, truncateText } from '../../core/redact.js';
import type { HostCommandRun } from '../../core/remediation.js';
import type { IncidentRunDeps, TargetRef } from './deps.js';

// What every step that touches a host shares: the CMDB item it targets, one SSH session per step
// (borrowed from the worker's pool and given back after the step, so a run's steps share one
// connection), the policy check before anything runs, and one shape for what a command did.

/** Bounds per command on a host. Fixes may restart services: they get longer than reads. */
export const READ_TIMEOUT_MS = 15_000;
export const FIX_TIMEOUT_MS = 120_000;
export const OUTPUT_CAP_BYTES = 256 * 1024;
/** What of an output is kept in history and shown in the timeline. */
const OUTPUT_KEPT_CHARS = 4000;

export function toRun(phase: HostCommandRun['phase'], id: string, allowedBy: string, outcome: CommandOutcome): HostCommandRun {
  return {
    phase,
    id,
    command: outcome.command,
    allowedBy,
    exitCode: outcome.exitCode,
    output: truncateText(
      redactText(
        [outcome.stdout, outcome.stderr]
          .filter((s) => s.length > 0)
          .join('\n')
          .trimEnd(),
      ),
      OUTPUT_KEPT_CHARS,
    ),
    truncated: outcome.truncated,
    timedOut: outcome.timedOut,
    durationMs: outcome.durationMs,
    at: new Date().toISOString(),
  };
}

/** SSH failures as Temporal sees them: a changed host key or a refused credential is final. */
export function hostFailure(err: unknown): never {
  if (err instanceof HostKeyMismatchError) throw ApplicationFailure.nonRetryable(err.message, FAILURE.HostKeyMismatch);
  if (err instanceof SshAuthenticationError) throw ApplicationFailure.nonRetryable(err.message, FAILURE.SshAuthenticationFailed);
  if (err instanceof CredentialNotFoundError) throw ApplicationFailure.nonRetryable(err.message, FAILURE.CredentialNotFound);
  if (err instanceof SshConnectionError) throw ApplicationFailure.retryable(err.message, FAILURE.HostUnreachable);
  throw err;
}

export function createHostSessions({
  store,
  hostAccess,
  commandPolicy = {},
}: Pick<IncidentRunDeps, 'store' | 'hostAccess' | 'commandPolicy'>) {
  async function itemOf({ tenantId, tagId }: TargetRef): Promise<CmdbItem> {
    const item = await store.cmdb.get(tenantId, tagId);
    if (!item) throw ApplicationFailure.nonRetryable(`CMDB item '${tagId}' no longer exists`, FAILURE.TargetGone);
    return item;
  }

  async function withSession<T>(ref: TargetRef, item: CmdbItem, run: (session: SshSession) => Promise<T>): Promise<T> {
    if (!hostAccess) throw ApplicationFailure.nonRetryable('Host access over SSH is not configured', FAILURE.HostAccessUnavailable);
    let session: SshSession;
    try {
      session = await hostAccess.connect(ref.tenantId, item);
    } catch (err) {
      hostFailure(err);
    }
    try {
      return await run(session);
    } catch (err) {
      hostFailure(err);
    } finally {
      session.close();
    }
  }

  /** Read-only commands only: anything else is refused here too, whatever the caller planned. */
  async function runReadOnly(
    ref: TargetRef,
    phase: 'diagnostic' | 'verification',
    commands: readonly { id: string; command: string }[],
  ): Promise<HostCommandRun[]> {
    for (const { command } of commands) {
      const verdict = classifyCommand(command, commandPolicy);
      if (verdict.risk !== 'read-only')
        throw ApplicationFailure.nonRetryable(
          `Refused to run '${command}' as a ${phase}: ${verdict.risk} (${verdict.reasons.join('; ')})`,
          FAILURE.CommandRefused,
        );
    }
    if (commands.length === 0) return [];
    const item = await itemOf(ref);
    return withSession(ref, item, async (session) => {
      const outcomes = await session.run(
        commands.map((c) => c.command),
        { timeoutMs: READ_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES, concurrency: 4 },
      );
      return outcomes.map((outcome, i) => toRun(phase, commands[i]!.id, 'policy:read-only', outcome));
    });
  }

  return { itemOf, withSession, runReadOnly };
}

export type HostSessions = ReturnType<typeof createHostSessions>;
