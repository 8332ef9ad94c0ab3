import { ApplicationFailure, Context } from '@temporalio/activity';
import { classifyCommand, policyForItem, type CommandRisk } from '../../core/command-policy.js';
import { FAILURE } from '../../core/contracts/failures.js';
import { policyCommandHash } from '../../core/policies/command-hash.js';
import type { CmdbItem } from '../../core/incident.js';
import type { HostCommandRun } from '../../core/remediation.js';
import { createHostSessions, FIX_TIMEOUT_MS, OUTPUT_CAP_BYTES, toRun } from '../incident/host-session.js';
import { resolveHost, type AlertActivityDeps } from './deps.js';
import { workflowIdOf } from './decide.js';

// Host step group of ssh_command: the host label resolved to a CMDB item, the command rated by the
// command policy remediation uses (the item's data and log paths may be low risk, nothing else), the
// command run over SSH (rated again there, whatever the workflow decided), and its verification.

/** How often the command step heartbeats (SSH_CHANGE_STEP notices a lost worker in 20 s). */
const HEARTBEAT_MS = 5_000;

export interface AlertTarget {
  tagId: string;
  hostname: string;
  address: string;
}

export function createAlertHostActivities(deps: AlertActivityDeps) {
  const { store, commandPolicy = {} } = deps;
  const sessions = createHostSessions({ store, hostAccess: deps.hostAccess, commandPolicy });
  /**
   * SSH handshakes started when a command is prepared, per tenant and item, in this worker: the
   * key exchange runs while the run takes the host's lease, and the command step borrows the
   * connection it left in the pool instead of dialling. Best effort: a failure here is the command
   * step's to meet (and report) when it dials itself.
   */
  const warming = new Map<string, Promise<void>>();
  const warmKey = (tenantId: string, tagId: string) => `${tenantId}\0${tagId}`;
  function warm(tenantId: string, item: CmdbItem): void {
    const key = warmKey(tenantId, item.tagId);
    if (!deps.hostAccess || warming.has(key)) return;
    const done = deps.hostAccess.connect(tenantId, item).then(
      (session) => session.close(),
      () => undefined,
    );
    warming.set(key, done);
    void done.then(() => warming.delete(key));
  }

  /** Who may let a change of this risk run: a human for high, the settings for low, nobody for forbidden. */
  function allowed(risk: CommandRisk, allowedBy: string): boolean {
    if (risk === 'read-only') return true;
    if (risk === 'forbidden') return false;
    if (allowedBy.startsWith('approval:')) return true;
    return risk === 'low' && allowedBy === 'policy:auto-low-risk';
  }

  return {
    /** The CMDB item the alert's host label names (tagId, hostname, or either without `:port`), or null. */
    async resolveAlertHost({ tenantId, host }: { tenantId: string; host: string }): Promise<AlertTarget | null> {
      const item = await resolveHost(store, tenantId, host);
      return item ? { tagId: item.tagId, hostname: item.hostname, address: item.address } : null;
    },

    /**
     * Resolves the host and rates the command there (the item's data and log paths may be low risk),
     * its verification (which must be read-only), and hashes the command for the approval.
     */
    async prepareAlertCommand(input: { tenantId: string; host: string; command: string; verify: string | null }): Promise<{
      target: AlertTarget | null;
      risk: CommandRisk;
      reasons: string[];
      commandHash: string;
      verifyProblem: string | null;
    }> {
      const item = await resolveHost(store, input.tenantId, input.host);
      const verdict = classifyCommand(input.command, policyForItem(commandPolicy, item));
      const verify = input.verify ? classifyCommand(input.verify, commandPolicy) : null;
      if (item && verdict.risk !== 'forbidden') warm(input.tenantId, item);
      return {
        target: item ? { tagId: item.tagId, hostname: item.hostname, address: item.address } : null,
        risk: verdict.risk,
        reasons: verdict.reasons,
        commandHash: await policyCommandHash(input.command),
        verifyProblem:
          verify && verify.risk !== 'read-only'
            ? `verify '${input.verify}' is rated ${verify.risk}, not read-only (${verify.reasons.join('; ')})`
            : null,
      };
    },

    /**
     * Runs the command on the host, once. Rated again here; a change needs who allowed it. A durable
     * marker (the job log, keyed by the workflow) is written just before it starts: an attempt lost
     * after that point cannot know whether it took effect, and its retry refuses to run it again.
     */
    async runAlertCommand(input: { tenantId: string; tagId: string; command: string; allowedBy: string }): Promise<HostCommandRun> {
      const context = Context.current();
      context.heartbeat('connecting');
      const beating = setInterval(() => context.heartbeat('running'), HEARTBEAT_MS);
      try {
        const item = await sessions.itemOf(input);
        const verdict = classifyCommand(input.command, policyForItem(commandPolicy, item));
        // The handshake prepare started: its connection is then borrowed from the pool.
        await warming.get(warmKey(input.tenantId, item.tagId));
        if (!allowed(verdict.risk, input.allowedBy)) {
          const why = verdict.risk === 'forbidden' ? 'forbidden' : `${verdict.risk} risk and not approved`;
          throw ApplicationFailure.nonRetryable(
            `Refused '${input.command}': ${why} (${verdict.reasons.join('; ')})`,
            verdict.risk === 'forbidden' ? FAILURE.CommandRefused : FAILURE.ApprovalRequired,
          );
        }
        return await sessions.withSession(input, item, async (session) => {
          const { created, log } = await store.jobLogs.append(input.tenantId, {
            incidentId: null,
            idempotencyKey: `${workflowIdOf()}/alert-command`,
            action: 'policy.command-started',
            target: `host:${item.hostname}`,
            status: 'succeeded',
            detail: { command: input.command, allowedBy: input.allowedBy, attempt: context.info.attempt },
          });
          if (!created) {
            throw ApplicationFailure.nonRetryable(
              `attempt ${String(log.detail.attempt ?? '?')} started '${input.command}' at ${log.createdAt} and was lost; whether it took effect is unknown`,
              FAILURE.FixOutcomeUnknown,
            );
          }
          const [outcome] = await session.run([input.command], { timeoutMs: FIX_TIMEOUT_MS, maxOutputBytes: OUTPUT_CAP_BYTES });
          return toRun('fix', 'command', input.allowedBy, outcome!);
        });
      } finally {
        clearInterval(beating);
      }
    },
  };
}
