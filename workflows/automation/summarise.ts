import type { HostRecap } from '../../core/automation.js';
import type { AutomationOutcome, FinalAutomationStatus } from '../../core/contracts/automation.js';

/**
 * The run's final status and summary from what the runner reported. Success needs all three: the
 * runner's `successful`, Ansible's final stats (the recap), and no host failed or unreachable in
 * them. A run without a recap is `recap_missing` whatever its exit code said; a run whose host
 * lease was lost cannot claim success either.
 */
export function summariseOutcome(
  outcome: AutomationOutcome,
  context: { checkMode: boolean; hostLeaseLost: string | null },
): { status: FinalAutomationStatus; summary: string } {
  const mode = context.checkMode ? 'Check-mode run' : 'Run';
  const counts = outcome.recap ? recapSummary(outcome.recap) : null;
  const reattached = outcome.reattached ? ' (a retried step found the first execution; it ran once)' : '';
  switch (outcome.runnerStatus) {
    case 'cancelled':
      return { status: 'cancelled', summary: `${mode} cancelled; the runner stopped${counts ? ` after ${counts}` : ''}.` };
    case 'lost':
      return { status: 'lost', summary: `${mode} lost: the runner can no longer find its execution; its outcome is unknown.` };
    case 'timeout':
      return { status: 'failed', summary: `${mode} timed out and was stopped${counts ? ` after ${counts}` : ''}.` };
    case 'recap_missing':
      return { status: 'recap_missing', summary: `${mode} ended (exit ${outcome.exitCode ?? 'none'}) without Ansible's final stats.` };
    case 'failed':
      return { status: 'failed', summary: `${mode} failed (exit ${outcome.exitCode ?? 'none'})${counts ? `: ${counts}` : ''}.` };
    case 'successful':
      break;
  }
  if (!outcome.recap || !counts)
    return {
      status: 'recap_missing',
      summary: `${mode} reported success (exit ${outcome.exitCode ?? 'none'}) but left no final stats: not counted as a success.`,
    };
  const bad = Object.entries(outcome.recap).filter(([, r]) => r.failed > 0 || r.unreachable > 0);
  if (bad.length > 0) {
    return { status: 'failed', summary: `${mode} failed on ${bad.map(([host]) => host).join(', ')}: ${counts}.` };
  }
  if (context.hostLeaseLost) {
    return { status: 'failed', summary: `${mode} finished (${counts}) but a host lease was lost meanwhile (${context.hostLeaseLost}).` };
  }
  return { status: 'succeeded', summary: `${mode} succeeded${reattached}: ${counts}.` };
}

function recapSummary(recap: Record<string, HostRecap>): string {
  return Object.entries(recap)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, r]) => `${host} ok=${r.ok} changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}`)
    .join('; ');
}
