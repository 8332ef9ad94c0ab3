import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  breakerAfterRun,
  breakerOnTrial,
  checkLimits,
  CLOSED_BREAKER,
  cooldownKeyOf,
  matchAlert,
  type PolicyUsage,
} from '../../core/policies/evaluate.js';
import { interpolateAction, InterpolationError, isSafeToken } from '../../core/policies/interpolate.js';
import { DEFAULT_POLICY_BREAKER, DEFAULT_POLICY_LIMITS, type PolicyAlert, type SelfHealingPolicy } from '../../core/policies/model.js';
import { simulatePolicies } from '../../core/policies/simulate.js';

function policy(over: Partial<SelfHealingPolicy> & Pick<SelfHealingPolicy, 'id'>): SelfHealingPolicy {
  return {
    name: over.id,
    description: null,
    enabled: true,
    priority: 100,
    condition: { matchers: [{ label: 'alertname', op: '=', value: 'ServiceDown' }], status: 'firing' },
    action: { type: 'ssh_command', params: { command: 'systemctl restart ${label.service}' } },
    hostLabel: 'instance',
    limits: { ...DEFAULT_POLICY_LIMITS },
    breaker: { ...DEFAULT_POLICY_BREAKER },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function alert(labels: Record<string, string>, over: Partial<PolicyAlert> = {}): PolicyAlert {
  return { status: 'firing', labels, annotations: {}, fingerprint: 'f00d', startsAt: '2026-12-06T10:00:00Z', ...over };
}

const idle: PolicyUsage = { runsLastHour: 0, runsLastDay: 0, lastRunForKey: null, hostsInFlight: [], breaker: CLOSED_BREAKER };

describe('policy matching', () => {
  it('the highest-priority matching enabled policy acts; ties go to the older policy', () => {
    const a = alert({ alertname: 'ServiceDown', instance: 'web-01', service: 'nginx', severity: 'critical' });
    const policies = [
      policy({ id: 'broad', priority: 100 }),
      policy({ id: 'narrow', priority: 10, condition: { matchers: [{ label: 'service', op: '=~', value: 'ngin.' }], status: 'firing' } }),
      policy({ id: 'disabled', priority: 1, enabled: false }),
      policy({ id: 'newer-same-priority', priority: 10, createdAt: '2026-02-01T00:00:00.000Z' }),
    ];
    const match = matchAlert(a, policies);
    expect(match).toMatchObject({ kind: 'act', policy: { id: 'narrow' }, host: 'web-01', params: { command: 'systemctl restart nginx' } });
  });

  it('matchers: equality, inequality, anchored regex, negated regex, a missing label is the empty string', () => {
    const on = (matchers: SelfHealingPolicy['condition']['matchers'], labels: Record<string, string>) =>
      matchAlert(alert(labels), [
        policy({ id: 'p', condition: { matchers, status: 'firing' }, action: { type: 'notify', params: { message: 'x' } } }),
      ]).kind;
    expect(on([{ label: 'env', op: '=', value: 'prod' }], { env: 'prod' })).toBe('act');
    expect(on([{ label: 'env', op: '!=', value: 'prod' }], { env: 'prod' })).toBe('no_match');
    expect(on([{ label: 'env', op: '=~', value: 'pro' }], { env: 'prod' })).toBe('no_match'); // anchored
    expect(on([{ label: 'env', op: '=~', value: 'pro.*' }], { env: 'prod' })).toBe('act');
    expect(on([{ label: 'env', op: '!~', value: 'dev|test' }], { env: 'prod' })).toBe('act');
    expect(on([{ label: 'team', op: '=', value: '' }], { env: 'prod' })).toBe('act');
    expect(on([{ label: 'env', op: '=~', value: '(' }], { env: '(' })).toBe('no_match'); // does not compile: never matches
  });

  it('status and severity are part of the condition', () => {
    const p = policy({
      id: 'crit',
      condition: { matchers: [], status: 'firing', severities: ['critical'] },
      action: { type: 'notify', params: { message: '${annotation.summary}' } },
    });
    expect(matchAlert(alert({ severity: 'warning' }), [p]).kind).toBe('no_match');
    expect(matchAlert(alert({ severity: 'critical' }, { status: 'resolved' }), [p]).kind).toBe('no_match');
    expect(matchAlert(alert({ severity: 'critical' }, { annotations: { summary: 'disk full' } }), [p])).toMatchObject({
      kind: 'act',
      params: { message: 'disk full' },
    });
  });

  it('a matching policy that cannot use the alert is reported, not skipped for a lower one', () => {
    const a = alert({ alertname: 'ServiceDown', instance: 'web-01', service: 'nginx; rm -rf /' });
    const match = matchAlert(a, [
      policy({ id: 'first', priority: 1 }),
      policy({ id: 'second', action: { type: 'notify', params: { message: 'x' } } }),
    ]);
    expect(match).toMatchObject({ kind: 'unusable', policy: { id: 'first' }, param: 'command' });
    expect(match.kind === 'unusable' && match.reason).toMatch(/not a plain name/);
  });
});

describe('interpolation', () => {
  const a = alert(
    { instance: 'web-01:9100', namespace: 'payments', pod: 'api-7d9f', replicas: '3', service: 'nginx', evil: '$(reboot)' },
    { annotations: { summary: 'API down\u0007 on web-01' } },
  );

  it('fills names, counts and text; text loses control characters', () => {
    expect(interpolateAction({ type: 'restart_pod', params: { namespace: '${label.namespace}', pod: '${label.pod}' } }, a)).toEqual({
      namespace: 'payments',
      pod: 'api-7d9f',
    });
    expect(
      interpolateAction(
        { type: 'scale_deployment', params: { namespace: 'payments', deployment: 'api', replicas: '${label.replicas}' } },
        a,
      ),
    ).toEqual({ namespace: 'payments', deployment: 'api', replicas: 3 });
    expect(interpolateAction({ type: 'notify', params: { message: '${annotation.summary}' } }, a)).toEqual({
      message: 'API down  on web-01',
    });
  });

  it('refuses a missing value, an unknown parameter, a value with shell syntax, a count that is not one', () => {
    const refused = (action: Parameters<typeof interpolateAction>[0]) => {
      try {
        interpolateAction(action, a);
      } catch (err) {
        expect(err).toBeInstanceOf(InterpolationError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ type: 'restart_vm', params: { vm: '${label.vm}' } })).toMatch(/no label.vm/);
    expect(refused({ type: 'restart_vm', params: {} })).toMatch(/needs the parameter vm/);
    expect(refused({ type: 'restart_vm', params: { vm: 'x', force: true } })).toMatch(/no parameter force/);
    expect(refused({ type: 'ssh_command', params: { command: 'systemctl restart ${label.evil}' } })).toMatch(/not a plain name/);
    expect(refused({ type: 'scale_deployment', params: { namespace: 'a', deployment: 'b', replicas: '${label.service}' } })).toMatch(
      /not a whole number/,
    );
    expect(refused({ type: 'run_playbook', params: { request: 'restart nginx', checkMode: 'yes' } })).toMatch(/true or false/);
  });

  it('no value with shell, quoting or path-traversal syntax is ever a safe token (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(...';|&$`\'"<>(){}[]*?!#~\\ \n\t'.split(''), '..'),
        fc.string({ maxLength: 40 }),
        (pre, bad, post) => {
          const value = `${pre}${bad === '..' ? '/../' : bad}${post}`;
          expect(isSafeToken(value)).toBe(false);
        },
      ),
      { numRuns: 2000, seed: 20261206 },
    );
    expect(isSafeToken('web-01.example.com:9100')).toBe(true);
    expect(isSafeToken('10.0.0.12')).toBe(true);
  });
});

describe('limits and the breaker', () => {
  const p = policy({
    id: 'p',
    limits: { ...DEFAULT_POLICY_LIMITS, maxRunsPerHour: 3, maxRunsPerDay: 5, cooldownSeconds: 600, maxConcurrent: 2 },
  });
  const now = new Date('2026-12-06T12:00:00Z');

  it('allows an idle policy and names the first limit that stops a busy one', () => {
    expect(checkLimits(p, idle, 'web-01', now)).toEqual({ allowed: true, trial: false });
    expect(checkLimits(p, { ...idle, hostsInFlight: ['web-01'] }, 'web-01', now)).toMatchObject({ allowed: false, limit: 'host_busy' });
    expect(checkLimits(p, { ...idle, hostsInFlight: ['a', 'b'] }, 'web-01', now)).toMatchObject({ allowed: false, limit: 'concurrency' });
    expect(checkLimits(p, { ...idle, lastRunForKey: '2026-12-06T11:55:00Z' }, 'web-01', now)).toMatchObject({
      allowed: false,
      limit: 'cooldown',
      until: '2026-12-06T12:05:00.000Z',
    });
    expect(checkLimits(p, { ...idle, lastRunForKey: '2026-12-06T11:50:00Z' }, 'web-01', now)).toMatchObject({ allowed: true });
    expect(checkLimits(p, { ...idle, runsLastHour: 3, runsLastDay: 3 }, 'web-01', now)).toMatchObject({ allowed: false, limit: 'hourly' });
    expect(checkLimits(p, { ...idle, runsLastHour: 1, runsLastDay: 5 }, 'web-01', now)).toMatchObject({ allowed: false, limit: 'daily' });
  });

  it('opens after the threshold of failures in a row, allows one trial after the open period, closes on success', () => {
    let breaker = CLOSED_BREAKER;
    for (let i = 0; i < 2; i += 1) breaker = breakerAfterRun(p, breaker, false, now);
    expect(breaker).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    breaker = breakerAfterRun(p, breaker, false, now);
    expect(breaker).toMatchObject({ state: 'open', consecutiveFailures: 3 });
    expect(checkLimits(p, { ...idle, breaker }, 'web-01', new Date(now.getTime() + 60_000))).toMatchObject({
      allowed: false,
      limit: 'breaker_open',
    });
    const later = new Date(now.getTime() + p.breaker.openSeconds * 1000);
    expect(checkLimits(p, { ...idle, breaker }, 'web-01', later)).toEqual({ allowed: true, trial: true });
    const trial = breakerOnTrial(breaker);
    expect(checkLimits(p, { ...idle, breaker: trial }, 'web-02', later)).toMatchObject({ allowed: false, limit: 'breaker_open' });
    expect(breakerAfterRun(p, trial, false, later)).toMatchObject({ state: 'open', openedAt: later.toISOString() });
    expect(breakerAfterRun(p, trial, true, later)).toEqual(CLOSED_BREAKER);
  });

  it('cooldown keys: the host by default, or the labels the policy names', () => {
    const a = alert({ instance: 'web-01', service: 'nginx' });
    expect(cooldownKeyOf(p, a)).toBe('instance=web-01');
    expect(cooldownKeyOf({ ...p, limits: { ...p.limits, cooldownLabels: ['service', 'instance'] } }, a)).toBe(
      'service=nginx,instance=web-01',
    );
  });
});

describe('simulation', () => {
  it('1,000 alerts for one host in 10 s: one run per cooldown, the rest reported as limited; nothing unmatched is lost', () => {
    const p = policy({ id: 'restart', limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 300 } });
    const start = Date.parse('2026-12-06T10:00:00Z');
    const alerts = Array.from({ length: 1000 }, (_, i) => ({
      receivedAt: new Date(start + i * 10).toISOString(),
      alert: alert(
        { alertname: i % 100 === 99 ? 'Other' : 'ServiceDown', instance: 'web-01', service: 'nginx' },
        { fingerprint: `fp-${i}` },
      ),
    }));
    const report = simulatePolicies(alerts, [p], { maxDecisions: 50 });
    expect(report.wouldAct).toBe(1);
    expect(report.unmatched).toBe(10);
    expect(report.limited).toBe(989);
    expect(report.policies[0]).toMatchObject({ policyId: 'restart', wouldAct: 1, hosts: [{ host: 'web-01', runs: 1 }] });
    expect(report.policies[0]!.limited).toEqual({ host_busy: 989 });
    expect(report.decisions).toHaveLength(50);
    expect(report.decisionsTruncated).toBe(true);
  });

  it('hourly limits stop a flapping alert across hosts; the report says which limit and how often', () => {
    const p = policy({ id: 'flap', limits: { ...DEFAULT_POLICY_LIMITS, cooldownSeconds: 0, maxRunsPerHour: 4, maxConcurrent: null } });
    const start = Date.parse('2026-12-06T10:00:00Z');
    const alerts = Array.from({ length: 12 }, (_, i) => ({
      receivedAt: new Date(start + i * 5 * 60_000).toISOString(),
      alert: alert({ alertname: 'ServiceDown', instance: `web-0${i % 3}`, service: 'nginx' }),
    }));
    const report = simulatePolicies(alerts, [p], { actionSeconds: 30 });
    expect(report.wouldAct).toBe(4);
    expect(report.policies[0]!.limited).toEqual({ hourly: 8 });
    expect(report.policies[0]!.hosts.map((h) => h.host).sort()).toEqual(['web-00', 'web-01', 'web-02']);
  });
});
