// Self-healing policies: what an alert must look like for a policy to act, what it does, and the
// limits that keep it from acting too often. Plain types and constants only (workflow-safe): the
// API validates policies with zod (api/policy-schemas.ts), evaluation is pure (evaluate.ts), and
// the store keeps policies, their run counts and their breaker state (so limits survive restarts).

/** An alert as the policies see it: Alertmanager's, or PagerDuty's mapped onto labels. */
export interface PolicyAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Alertmanager's fingerprint (or the PagerDuty incident id): one alert's identity across notifications. */
  fingerprint: string;
  startsAt: string;
}

export const POLICY_ACTION_TYPES = [
  'ssh_command',
  'run_playbook',
  'remediate_incident',
  'restart_pod',
  'scale_deployment',
  'restart_vm',
  'notify',
] as const;
export type PolicyActionType = (typeof POLICY_ACTION_TYPES)[number];

/** A label condition: equal to a value, or matching a regular expression (anchored, as Alertmanager's matchers are). */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface PolicyCondition {
  /** Every matcher must hold. A label the alert lacks is the empty string (Alertmanager's rule). */
  matchers: LabelMatcher[];
  /** `firing` (default) or `resolved`: a policy acts on one of them. */
  status: 'firing' | 'resolved';
  /** When set, the alert's `severity` label must be one of these. */
  severities?: string[] | undefined;
}

export interface PolicyAction {
  type: PolicyActionType;
  /**
   * The action's parameters; string values may hold `${label.x}` and `${annotation.x}`, replaced by
   * the alert's values (interpolate.ts). Which parameters each type needs: ACTION_PARAMS.
   */
  params: Record<string, string | number | boolean>;
}

export interface PolicyLimits {
  /** Runs of this policy in any rolling hour (null: no limit). */
  maxRunsPerHour: number | null;
  /** Runs of this policy in any rolling 24 hours (null: no limit). */
  maxRunsPerDay: number | null;
  /** After a run for a cooldown key, no other run for that key for this long (0: none). */
  cooldownSeconds: number;
  /**
   * Labels whose values make the cooldown key (default: the label that names the host). Two alerts
   * with the same values share one cooldown.
   */
  cooldownLabels: string[];
  /** Runs of this policy in flight at once, on distinct hosts (null: no limit). */
  maxConcurrent: number | null;
}

export interface PolicyBreaker {
  /** Consecutive failed runs that open the breaker (0: never). */
  failureThreshold: number;
  /** How long an open breaker stays open before one trial run is allowed. */
  openSeconds: number;
}

export interface SelfHealingPolicy {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  /** Lower acts first (10 before 100); ties go to the older policy. */
  priority: number;
  condition: PolicyCondition;
  action: PolicyAction;
  /** The label that names the host the action works on (its CMDB tagId or hostname). */
  hostLabel: string;
  limits: PolicyLimits;
  breaker: PolicyBreaker;
  createdAt: string;
  updatedAt: string;
}

export const DEFAULT_HOST_LABEL = 'instance';

export const DEFAULT_POLICY_LIMITS: PolicyLimits = {
  maxRunsPerHour: 20,
  maxRunsPerDay: 100,
  cooldownSeconds: 300,
  cooldownLabels: [],
  maxConcurrent: 5,
};

export const DEFAULT_POLICY_BREAKER: PolicyBreaker = { failureThreshold: 3, openSeconds: 1800 };

/** What one parameter of an action must be once interpolated. */
export interface ActionParamSpec {
  required: boolean;
  kind: 'token' | 'text' | 'count' | 'command' | 'flag';
}

/**
 * The parameters of each action type. `token`: a name (host, pod, namespace, deployment, VM,
 * service), letters, digits and `._:/@-` only, so an alert's value can never smuggle shell or
 * path syntax into a call; `command`: a command line the command policy rates, whose interpolated
 * parts must be tokens; `text`: free text that reaches no shell; `count`: a whole number; `flag`: true or false.
 */
export const ACTION_PARAMS: Record<PolicyActionType, Record<string, ActionParamSpec>> = {
  // verify: a read-only command run after `command`, retried until it exits 0 (about 30 s); failing = the run failed.
  ssh_command: { command: { required: true, kind: 'command' }, verify: { required: false, kind: 'command' } },
  run_playbook: { request: { required: true, kind: 'text' }, checkMode: { required: false, kind: 'flag' } },
  remediate_incident: { title: { required: true, kind: 'text' }, severity: { required: false, kind: 'token' } },
  restart_pod: { namespace: { required: true, kind: 'token' }, pod: { required: true, kind: 'token' } },
  scale_deployment: {
    namespace: { required: true, kind: 'token' },
    deployment: { required: true, kind: 'token' },
    replicas: { required: true, kind: 'count' },
  },
  // mode: guest_reboot (default: the guest restarts itself through VMware Tools) or reset (a hard reset).
  restart_vm: { vm: { required: true, kind: 'token' }, mode: { required: false, kind: 'token' } },
  notify: { notifier: { required: false, kind: 'token' }, message: { required: true, kind: 'text' } },
};

/** Actions that work on the host the alert names (the host label must resolve to a CMDB item). */
export const HOST_ACTIONS: readonly PolicyActionType[] = ['ssh_command', 'run_playbook', 'remediate_incident'];
