import { checkLimits, CLOSED_BREAKER, DAY, HOUR, matchAlert, type LimitVerdict } from './evaluate.js';
import type { PolicyAlert, SelfHealingPolicy } from './model.js';

// Policy simulation: a window of recorded alerts replayed, in the order they arrived, against a
// draft policy set. Nothing acts; the limits are kept as the live path keeps them, with every run
// assumed to take `actionSeconds` and to succeed (so the breaker never opens in a simulation, and
// the report says so).

export interface RecordedAlert {
  /** When it arrived (ISO). */
  receivedAt: string;
  alert: PolicyAlert;
}

export interface SimulationOptions {
  /** How long each simulated run holds its host (concurrency and host_busy). Default 60 s. */
  actionSeconds?: number;
  /** Decisions listed one by one in the report, at most. Default 500. */
  maxDecisions?: number;
}

export type SimulatedDecision =
  | { at: string; fingerprint: string; outcome: 'would_act'; policyId: string; host: string | null; params: Record<string, unknown> }
  | { at: string; fingerprint: string; outcome: 'limited'; policyId: string; host: string | null; limit: string; detail: string }
  | { at: string; fingerprint: string; outcome: 'unusable'; policyId: string; param: string; reason: string }
  | { at: string; fingerprint: string; outcome: 'no_match' };

export interface PolicySimulationSummary {
  policyId: string;
  name: string;
  wouldAct: number;
  hosts: { host: string; runs: number }[];
  limited: Record<string, number>;
  unusable: number;
}

export interface SimulationReport {
  alerts: number;
  wouldAct: number;
  limited: number;
  unusable: number;
  unmatched: number;
  policies: PolicySimulationSummary[];
  decisions: SimulatedDecision[];
  /** Decisions beyond maxDecisions are counted above but not listed. */
  decisionsTruncated: boolean;
  assumptions: string[];
}

interface SimulatedRun {
  startedAt: number;
  endsAt: number;
  host: string | null;
  cooldownKey: string;
}

export function simulatePolicies(
  alerts: RecordedAlert[],
  policies: SelfHealingPolicy[],
  options: SimulationOptions = {},
): SimulationReport {
  const actionMs = (options.actionSeconds ?? 60) * 1000;
  const maxDecisions = options.maxDecisions ?? 500;
  const runs = new Map<string, SimulatedRun[]>();
  const summaries = new Map<string, PolicySimulationSummary>(
    policies.map((p) => [p.id, { policyId: p.id, name: p.name, wouldAct: 0, hosts: [], limited: {}, unusable: 0 }]),
  );
  const report: SimulationReport = {
    alerts: alerts.length,
    wouldAct: 0,
    limited: 0,
    unusable: 0,
    unmatched: 0,
    policies: [],
    decisions: [],
    decisionsTruncated: false,
    assumptions: [
      `each run takes ${actionMs / 1000} s and succeeds (the breaker never opens in a simulation)`,
      'alerts are taken in the order they arrived; resolved notifications act only where a policy asks for status resolved',
    ],
  };
  const decide = (decision: SimulatedDecision) => {
    if (report.decisions.length < maxDecisions) report.decisions.push(decision);
    else report.decisionsTruncated = true;
  };
  const ordered = [...alerts].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
  for (const { receivedAt, alert } of ordered) {
    const now = new Date(receivedAt);
    const at = now.toISOString();
    const match = matchAlert(alert, policies);
    if (match.kind === 'no_match') {
      report.unmatched += 1;
      decide({ at, fingerprint: alert.fingerprint, outcome: 'no_match' });
      continue;
    }
    const summary = summaries.get(match.policy.id)!;
    if (match.kind === 'unusable') {
      report.unusable += 1;
      summary.unusable += 1;
      decide({
        at,
        fingerprint: alert.fingerprint,
        outcome: 'unusable',
        policyId: match.policy.id,
        param: match.param,
        reason: match.reason,
      });
      continue;
    }
    const past = runs.get(match.policy.id) ?? [];
    const t = now.getTime();
    const lastForKey = past.filter((r) => r.cooldownKey === match.cooldownKey).at(-1);
    const verdict: LimitVerdict = checkLimits(
      match.policy,
      {
        runsLastHour: past.filter((r) => r.startedAt > t - HOUR).length,
        runsLastDay: past.filter((r) => r.startedAt > t - DAY).length,
        lastRunForKey: lastForKey ? new Date(lastForKey.startedAt).toISOString() : null,
        hostsInFlight: [...new Set(past.filter((r) => r.endsAt > t && r.host).map((r) => r.host!))],
        breaker: CLOSED_BREAKER,
      },
      match.host,
      now,
    );
    if (!verdict.allowed) {
      report.limited += 1;
      summary.limited[verdict.limit] = (summary.limited[verdict.limit] ?? 0) + 1;
      decide({
        at,
        fingerprint: alert.fingerprint,
        outcome: 'limited',
        policyId: match.policy.id,
        host: match.host,
        limit: verdict.limit,
        detail: verdict.detail,
      });
      continue;
    }
    past.push({ startedAt: t, endsAt: t + actionMs, host: match.host, cooldownKey: match.cooldownKey });
    runs.set(match.policy.id, past);
    report.wouldAct += 1;
    summary.wouldAct += 1;
    const host = match.host ?? '(no host)';
    const entry = summary.hosts.find((h) => h.host === host);
    if (entry) entry.runs += 1;
    else summary.hosts.push({ host, runs: 1 });
    decide({ at, fingerprint: alert.fingerprint, outcome: 'would_act', policyId: match.policy.id, host: match.host, params: match.params });
  }
  report.policies = [...summaries.values()];
  return report;
}
