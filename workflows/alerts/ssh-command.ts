import type { HostCommandRun } from '../../core/remediation.js';
import { awaitCommandApproval } from './approval-gate.js';
import { commandSteps, verifySteps } from './activities.js';
import { withAlertHostLease } from './host-lease.js';
import { failed, succeeded, type ActionResult } from './outcome.js';
import type { AlertRun } from './run-state.js';

const RESOLVED_FIRST: ActionResult = {
  kind: 'resolved_before_action',
  detail: 'the alert resolved before the command ran: nothing was run',
};

function describe(run: HostCommandRun): string {
  const how = run.timedOut ? 'timed out' : `exited ${run.exitCode ?? 'without a status'}`;
  const tail = run.output.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  return `'${run.command}' ${how}${tail ? ` (${tail})` : ''}`;
}

/**
 * ssh_command: the host label resolved to a CMDB item, the command rated by the command policy
 * (forbidden never runs), the approval its risk needs under the remediation settings, the host's
 * lease for a change, the command once, then `verify` until it exits 0.
 */
export async function runSshCommand(
  run: AlertRun,
  host: string | null,
  params: Record<string, string | number | boolean>,
): Promise<ActionResult> {
  const command = String(params.command);
  const verify = typeof params.verify === 'string' && params.verify.trim() ? params.verify : null;
  if (!host) return failed('the alert has no host label value: there is no host to run the command on');
  const prepared = await run.step('prepareAlertCommand', () =>
    run.store.prepareAlertCommand({ tenantId: run.tenantId, host, command, verify }),
  );
  const { target } = prepared;
  run.state.risk = { risk: prepared.risk, reasons: prepared.reasons };
  if (!target) return failed(`host '${host}' is not in the CMDB (no item has it as tagId, hostname or address): nothing was run`);
  run.state.tagId = target.tagId;
  if (prepared.risk === 'forbidden') {
    return failed(`refused by the command policy: '${command}' is forbidden (${prepared.reasons.join('; ')}); nothing was run`);
  }
  if (prepared.verifyProblem) return failed(`${prepared.verifyProblem}; nothing was run`);
  const allowedBy = await awaitCommandApproval(run, prepared);
  if (typeof allowedBy !== 'string') return allowedBy;

  const act = async (): Promise<ActionResult> => {
    if (run.resolved) return RESOLVED_FIRST;
    run.setStatus('acting');
    const ran = await run.step('runAlertCommand', () =>
      commandSteps.runAlertCommand({ tenantId: run.tenantId, tagId: target.tagId, command, allowedBy }),
    );
    run.state.commands.push(ran);
    if (ran.exitCode !== 0) return failed(`${describe(ran)} on ${target.hostname}`);
    if (!verify) return succeeded(`ran '${command}' on ${target.hostname} (exit 0, allowed by ${allowedBy})`);
    run.setStatus('verifying');
    const timeoutMs = run.settings.verifyTimeoutMs ?? 30_000;
    const checked = await run.step('verifyAlertCommand', () =>
      verifySteps.verifyAlertCommand({ tenantId: run.tenantId, tagId: target.tagId, verify, timeoutMs }),
    );
    run.state.commands.push(...checked.runs);
    const attempts = `${checked.attempts} attempt${checked.attempts === 1 ? '' : 's'}`;
    if (!checked.passed) {
      return failed(`ran '${command}' on ${target.hostname}, but verification failed after ${attempts}: ${describe(checked.runs.at(-1)!)}`);
    }
    return succeeded(`ran '${command}' on ${target.hostname} (exit 0, allowed by ${allowedBy}); '${verify}' passed after ${attempts}`);
  };
  // Reading changes nothing: no lease. A change takes the host's lease first.
  return prepared.risk === 'read-only' ? act() : withAlertHostLease(run, target.address, act);
}
