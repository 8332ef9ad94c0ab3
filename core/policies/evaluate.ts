import { interpolateAction, InterpolationError } from './interpolate.js';
import type { LabelMatcher, PolicyAlert, SelfHealingPolicy } from './model.js';

// Which policy acts on an alert, and whether its limits let it. Pure: the caller supplies the
// policies and each policy's usage (live: counted by the store in the same transaction that records
// the run, so two deliveries at once cannot both pass a limit; simulated: simulate.ts keeps it).

/** Anchored as Alertmanager anchors its regex matchers; a pattern that does not compile never matches. */
function regexMatches(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return false;
  }
}

export function matcherHolds(matcher: LabelMatcher, labels: Record<string, string>): boolean {
  const value = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return regexMatches(matcher.value, value);
    case '!~':
      return !regexMatches(matcher.value, value);
  }
}

export function policyMatches(policy: SelfHealingPolicy, alert: PolicyAlert): boolean {
  const { condition } = policy;
  if (condition.status !== alert.status) return false;
  if (condition.severities?.length && !condition.severities.includes(alert.labels.severity ?? '')) return false;
  return condition.matchers.every((m) => matcherHolds(m, alert.labels));
}

/** Enabled policies in the order they are tried: priority (lower first), then the older, then by id. */
export function byPriority(policies: SelfHealingPolicy[]): SelfHealingPolicy[] {
  return policies
    .filter((p) => p.enabled)
    .sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** The key two alerts share a cooldown by: the policy's cooldown labels' values, or the host. */
export function cooldownKeyOf(policy: SelfHealingPolicy, alert: PolicyAlert): string {
  const labels = policy.limits.cooldownLabels.length > 0 ? policy.limits.cooldownLabels : [policy.hostLabel];
  return labels.map((l) => `${l}=${alert.labels[l] ?? ''}`).join(',');
}

export type PolicyMatch =
  | { kind: 'act'; policy: SelfHealingPolicy; params: Record<string, string | number | boolean>; host: string | null; cooldownKey: string }
  /** The policy that matched cannot act on this alert (a missing label, a value with shell syntax). */
  | { kind: 'unusable'; policy: SelfHealingPolicy; param: string; reason: string }
  | { kind: 'no_match' };

/** The highest-priority enabled policy that matches acts; none matching is `no_match`. */
export function matchAlert(alert: PolicyAlert, policies: SelfHealingPolicy[]): PolicyMatch {
  const policy = byPriority(policies).find((p) => policyMatches(p, alert));
  if (!policy) return { kind: 'no_match' };
  try {
    const params = interpolateAction(policy.action, alert);
    const host = alert.labels[policy.hostLabel] || null;
    return { kind: 'act', policy, params, host, cooldownKey: cooldownKeyOf(policy, alert) };
  } catch (err) {
    if (err instanceof InterpolationError) return { kind: 'unusable', policy, param: err.param, reason: err.message };
    throw err;
  }
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** A policy's circuit breaker as the store keeps it. */
export interface BreakerRecord {
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: string | null;
}

export const CLOSED_BREAKER: BreakerRecord = { state: 'closed', consecutiveFailures: 0, openedAt: null };

/** What the limits need to know of a policy's past runs, at the moment of the decision. */
export interface PolicyUsage {
  runsLastHour: number;
  runsLastDay: number;
  /** When the last run for this alert's cooldown key started (ISO), or null. */
  lastRunForKey: string | null;
  /** Hosts with a run of this policy in flight. */
  hostsInFlight: string[];
  breaker: BreakerRecord;
}

export type LimitVerdict =
  | { allowed: true; trial: boolean }
  | {
      allowed: false;
      limit: 'hourly' | 'daily' | 'cooldown' | 'concurrency' | 'host_busy' | 'breaker_open';
      detail: string;
      /** When the limit would let a run through again (ISO), where that is known. */
      until: string | null;
    };

const HOUR_MS = 3_600_000;

/**
 * Whether the policy may act now. Checked in this order: breaker, same host already in flight,
 * concurrency, cooldown, hourly, daily; the first that stops it is the reason reported.
 */
export function checkLimits(policy: SelfHealingPolicy, usage: PolicyUsage, host: string | null, now: Date): LimitVerdict {
  const { limits } = policy;
  let trial = false;
  if (usage.breaker.state !== 'closed') {
    const reopensAt = new Date(Date.parse(usage.breaker.openedAt ?? now.toISOString()) + policy.breaker.openSeconds * 1000);
    // Half open: one trial run is under way; open: the trial waits for the open period to pass.
    if (usage.breaker.state === 'half_open' || now < reopensAt) {
      return {
        allowed: false,
        limit: 'breaker_open',
        detail: `the breaker opened after ${usage.breaker.consecutiveFailures} failed runs in a row`,
        until: usage.breaker.state === 'open' ? reopensAt.toISOString() : null,
      };
    }
    trial = true;
  }
  if (host && usage.hostsInFlight.includes(host)) {
    return { allowed: false, limit: 'host_busy', detail: `a run of this policy is already working on ${host}`, until: null };
  }
  if (limits.maxConcurrent !== null && usage.hostsInFlight.length >= limits.maxConcurrent) {
    return {
      allowed: false,
      limit: 'concurrency',
      detail: `${usage.hostsInFlight.length} runs in flight (at most ${limits.maxConcurrent})`,
      until: null,
    };
  }
  if (limits.cooldownSeconds > 0 && usage.lastRunForKey) {
    const until = new Date(Date.parse(usage.lastRunForKey) + limits.cooldownSeconds * 1000);
    if (now < until) {
      return {
        allowed: false,
        limit: 'cooldown',
        detail: `cooling down for ${limits.cooldownSeconds} s after the last run`,
        until: until.toISOString(),
      };
    }
  }
  if (limits.maxRunsPerHour !== null && usage.runsLastHour >= limits.maxRunsPerHour) {
    return {
      allowed: false,
      limit: 'hourly',
      detail: `${usage.runsLastHour} runs in the last hour (at most ${limits.maxRunsPerHour})`,
      until: null,
    };
  }
  if (limits.maxRunsPerDay !== null && usage.runsLastDay >= limits.maxRunsPerDay) {
    return {
      allowed: false,
      limit: 'daily',
      detail: `${usage.runsLastDay} runs in the last 24 hours (at most ${limits.maxRunsPerDay})`,
      until: null,
    };
  }
  return { allowed: true, trial };
}

/** The breaker after a run ended: a success closes it, failures in a row open it, a failed trial reopens it. */
export function breakerAfterRun(policy: SelfHealingPolicy, breaker: BreakerRecord, succeeded: boolean, now: Date): BreakerRecord {
  if (succeeded) return CLOSED_BREAKER;
  const consecutiveFailures = breaker.consecutiveFailures + 1;
  const threshold = policy.breaker.failureThreshold;
  if (breaker.state === 'half_open' || (threshold > 0 && consecutiveFailures >= threshold)) {
    return { state: 'open', consecutiveFailures, openedAt: now.toISOString() };
  }
  return { state: 'closed', consecutiveFailures, openedAt: null };
}

/** The breaker when a trial run starts on an open breaker whose period has passed. */
export function breakerOnTrial(breaker: BreakerRecord): BreakerRecord {
  return { ...breaker, state: 'half_open' };
}

export const HOUR = HOUR_MS;
export const DAY = 24 * HOUR_MS;
