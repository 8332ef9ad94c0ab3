import { z } from '@hono/zod-openapi';
import { classifyCommand } from '../core/command-policy.js';
import { placeholdersIn, isSafeToken } from '../core/policies/interpolate.js';
import { ACTION_PARAMS, POLICY_ACTION_TYPES, type PolicyAction } from '../core/policies/model.js';
import { POLICY_JOB_STATUSES, POLICY_LIMIT_REASONS } from '../adapters/store/port.js';
import { Timestamp } from './remediation-schemas.js';
import { cursor, limit, text } from './schemas.js';

// Self-healing policies, their simulation and the job log as the API takes and shows them, field
// by field. Beyond shapes, a policy is checked as evaluation will use it (each error names its
// field): regex matchers compile as anchored, action parameters are the ones ACTION_PARAMS lists,
// placeholders are only ${label.x} / ${annotation.x}, and a fixed name is a plain token.

/** A Prometheus label name. */
const LabelName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a label name: letters, digits and _, not starting with a digit')
  .openapi({ example: 'instance' });

// [0-9], not \d: Python's \d (schemathesis, other readers of the document) takes any Unicode digit.
const D = '[0-9]';
const INSTANT = new RegExp(
  `^(?:${D}{3}[1-9]|${D}{2}[1-9]${D}|${D}[1-9]${D}{2}|[1-9]${D}{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]${D}|3[01])` +
    `T(?:[01]${D}|2[0-3]):[0-5]${D}:[0-5]${D}(?:\\.${D}{1,9})?(?:Z|[+-](?:[01]${D}|2[0-3]):[0-5]${D})$`,
);

/** Whether the date part names a day of its month (no 31 November, 29 February only in leap years). */
function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(0);
  day.setUTCFullYear(y, m - 1, d);
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** An instant (RFC 3339 with a zone) of years 0001–9999, kept as written (a relayed event's own text). */
export const InstantText = z
  .string()
  .max(64)
  .regex(INSTANT, 'an RFC 3339 date-time with a zone, years 0001–9999')
  .refine(isCalendarDate, 'a day of its month')
  .refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, 'a date-time in years 0001–9999 (in UTC)')
  .openapi({ format: 'date-time', example: '2026-12-06T10:00:00Z' });

/** An instant as InstantText, as the store can hold it: normalised to UTC milliseconds (`toISOString`). */
export const Instant = InstantText.transform((value) => new Date(value).toISOString()).openapi({
  format: 'date-time',
  example: '2026-12-06T10:00:00Z',
});

const REGEX_OPS = new Set(['=~', '!~']);

const MatcherSchema = z
  .object({
    label: LabelName,
    op: z
      .enum(['=', '!=', '=~', '!~'])
      .openapi({ description: '=~ and !~ take a regular expression, anchored as Alertmanager anchors it' }),
    value: text({ max: 1024 }),
  })
  .strict()
  .superRefine((matcher, ctx) => {
    if (!REGEX_OPS.has(matcher.op)) return;
    try {
      new RegExp(`^(?:${matcher.value})$`);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `not a valid regular expression: ${(err as Error).message}` });
    }
  })
  .openapi('PolicyLabelMatcher');

const ConditionSchema = z
  .object({
    matchers: z.array(MatcherSchema).max(50).default([]).openapi({ description: 'Every matcher must hold; a missing label is ""' }),
    status: z.enum(['firing', 'resolved']).default('firing'),
    severities: z
      .array(text({ min: 1, max: 64 }))
      .max(20)
      .optional()
      .openapi({ description: "When set, the alert's severity label must be one of these" }),
  })
  .strict()
  .openapi('PolicyCondition');

const ParamName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a parameter name');
const ParamValue = z.union([text({ max: 2000 }), z.number(), z.boolean()]);

const ANY_PLACEHOLDER = /\$\{[^}]*\}?/g;
const VALID_PLACEHOLDER = /^\$\{(?:label|annotation)\.[A-Za-z_][A-Za-z0-9_]*\}$/;

/** Why an action's parameters cannot work, by parameter; empty when they can. */
export function actionParamProblems(action: PolicyAction): { param: string; message: string }[] {
  const specs = ACTION_PARAMS[action.type];
  const problems: { param: string; message: string }[] = [];
  for (const param of Object.keys(action.params)) {
    if (!(param in specs)) {
      problems.push({ param, message: `${action.type} has no parameter ${param} (it takes: ${Object.keys(specs).join(', ')})` });
    }
  }
  for (const [param, spec] of Object.entries(specs)) {
    const value = action.params[param];
    if (value === undefined) {
      if (spec.required) problems.push({ param, message: `${action.type} needs the parameter ${param}` });
      continue;
    }
    if (spec.kind === 'flag') {
      if (typeof value !== 'boolean') problems.push({ param, message: `${param} must be true or false` });
      continue;
    }
    if (spec.kind === 'count' && typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0 || value > 999_999)
        problems.push({ param, message: `${param} must be a whole number 0–999999` });
      continue;
    }
    if (typeof value !== 'string') {
      problems.push({ param, message: `${param} must be ${spec.kind === 'count' ? 'a whole number' : 'text'}` });
      continue;
    }
    const bad = [...value.matchAll(ANY_PLACEHOLDER)].map((m) => m[0]).find((p) => !VALID_PLACEHOLDER.test(p));
    if (bad !== undefined || (value.includes('${') && placeholdersIn(value).length === 0)) {
      problems.push({
        param,
        message: `${JSON.stringify(bad ?? '${')} is not a placeholder: use \${label.<name>} or \${annotation.<name>}`,
      });
      continue;
    }
    // What the policy itself fixes (the parts around placeholders) is checked now; the alert's values when it fires.
    const fixed = value.replace(ANY_PLACEHOLDER, 'x');
    if (spec.kind === 'token' && !isSafeToken(fixed)) {
      problems.push({ param, message: `${param} must be a plain name (letters, digits and ._:/@- only)` });
    } else if (spec.kind === 'count' && !/^\d{1,6}$/.test(value.replace(ANY_PLACEHOLDER, '0'))) {
      problems.push({ param, message: `${param} must be a whole number or a placeholder for one` });
    } else if ((spec.kind === 'command' || spec.required) && value.trim() === '') {
      problems.push({ param, message: `${param} must not be empty` });
    } else if (action.type === 'ssh_command' && param === 'verify') {
      // Verification only looks: it is rated as the command policy rates a diagnostic (placeholders as plain names).
      const verdict = classifyCommand(fixed);
      if (verdict.risk !== 'read-only') {
        problems.push({
          param,
          message: `verify must be a read-only command; the command policy rates it ${verdict.risk} (${verdict.reasons.join('; ')})`,
        });
      }
    }
  }
  return problems;
}

const ActionSchema = z
  .object({
    type: z.enum(POLICY_ACTION_TYPES).openapi({
      description:
        'ssh_command {command, verify? (read-only)}, run_playbook {request, checkMode?}, remediate_incident {title, severity?}, restart_pod {namespace, pod}, ' +
        'scale_deployment {namespace, deployment, replicas}, restart_vm {vm, mode? (guest_reboot | reset)}, notify {message, notifier?}',
    }),
    params: z.record(ParamName, ParamValue).default({}).openapi({
      description: 'String values may hold ${label.x} and ${annotation.x}; what fills a name or a command must be a plain token',
    }),
  })
  .strict()
  .superRefine((action, ctx) => {
    for (const { param, message } of actionParamProblems(action)) ctx.addIssue({ code: 'custom', path: ['params', param], message });
  })
  .openapi('PolicyAction');

const LimitsInput = z
  .object({
    maxRunsPerHour: z.number().int().min(1).max(10_000).nullable().optional().openapi({ description: 'null: no limit (default 20)' }),
    maxRunsPerDay: z.number().int().min(1).max(100_000).nullable().optional().openapi({ description: 'null: no limit (default 100)' }),
    cooldownSeconds: z.number().int().min(0).max(604_800).optional().openapi({ description: 'Per cooldown key (default 300; 0: none)' }),
    cooldownLabels: z
      .array(LabelName)
      .max(10)
      .optional()
      .openapi({ description: 'Labels whose values make the cooldown key (default: the host label)' }),
    maxConcurrent: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .nullable()
      .optional()
      .openapi({ description: 'Hosts at once (default 5; null: no limit)' }),
  })
  .strict()
  .openapi('PolicyLimitsInput');

const BreakerInput = z
  .object({
    failureThreshold: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .openapi({ description: 'Failed runs in a row that open it (default 3; 0: never)' }),
    openSeconds: z
      .number()
      .int()
      .min(1)
      .max(604_800)
      .optional()
      .openapi({ description: 'Open this long before one trial run (default 1800)' }),
  })
  .strict()
  .openapi('PolicyBreakerInput');

const PolicyFields = {
  name: text({ min: 1, max: 128, trim: true }).openapi({ example: 'restart nginx when it is down' }),
  description: text({ max: 2000, trim: true }).nullable().optional(),
  enabled: z.boolean().optional().openapi({ description: 'Default true' }),
  priority: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .optional()
    .openapi({ description: 'Lower acts first (default 100); ties go to the older policy' }),
  condition: ConditionSchema,
  action: ActionSchema,
  hostLabel: LabelName.optional().openapi({ description: 'The label naming the host the action works on (default instance)' }),
  limits: LimitsInput.optional(),
  breaker: BreakerInput.optional(),
};

export const PolicyCreateSchema = z.object(PolicyFields).strict().openapi('PolicyCreate');

export const PolicyReplaceSchema = z
  .object({
    ...PolicyFields,
    version: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .optional()
      .openapi({ description: 'The version replaced (or send If-Match); another one answers 409' }),
  })
  .strict()
  .openapi('PolicyReplace');

export const PolicyIfMatchHeader = z.object({
  'if-match': z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'The ETag of the version read ("3"), or *; a PUT needs it or a body version (428 otherwise)' }),
});

export const PolicySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    priority: z.number().int(),
    condition: z
      .object({
        matchers: z.array(z.object({ label: z.string(), op: z.enum(['=', '!=', '=~', '!~']), value: z.string() })),
        status: z.enum(['firing', 'resolved']),
        severities: z.array(z.string()).optional(),
      })
      .openapi('PolicyConditionOut'),
    action: z
      .object({ type: z.enum(POLICY_ACTION_TYPES), params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) })
      .openapi('PolicyActionOut'),
    hostLabel: z.string(),
    limits: z
      .object({
        maxRunsPerHour: z.number().int().nullable(),
        maxRunsPerDay: z.number().int().nullable(),
        cooldownSeconds: z.number().int(),
        cooldownLabels: z.array(z.string()),
        maxConcurrent: z.number().int().nullable(),
      })
      .openapi('PolicyLimits'),
    breaker: z.object({ failureThreshold: z.number().int(), openSeconds: z.number().int() }).openapi('PolicyBreaker'),
    version: z.number().int().openapi({ description: 'Send it back (If-Match or version) to replace this policy' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Policy');

export const PolicyListQuery = z
  .object({
    enabled: z.enum(['true', 'false']).optional(),
    actionType: z.enum(POLICY_ACTION_TYPES).optional(),
    limit,
    cursor,
  })
  .strict();

const AlertLabels = z.record(LabelName, text({ max: 1024 })).refine((labels) => Object.keys(labels).length <= 100, 'at most 100 labels');

const InlineAlertSchema = z
  .object({
    receivedAt: Instant.openapi({ description: 'When it arrived: alerts are replayed in this order' }),
    status: z.enum(['firing', 'resolved']).default('firing'),
    labels: AlertLabels,
    annotations: z
      .record(z.string().min(1).max(128), text({ max: 4096 }))
      .refine((a) => Object.keys(a).length <= 100, 'at most 100 annotations')
      .default({}),
    fingerprint: text({ min: 1, max: 256 }),
    startsAt: Instant.optional().openapi({ description: 'Default: receivedAt' }),
  })
  .strict()
  .openapi('SimulatedAlert');

export const SimulationRequestSchema = z
  .object({
    policies: z
      .array(PolicyCreateSchema)
      .max(100)
      .optional()
      .openapi({ description: 'A draft set (ids draft-1, draft-2, … in this order); default: your stored policies' }),
    from: Instant.optional().openapi({ description: 'Replay the alerts recorded from this instant…' }),
    to: Instant.optional().openapi({ description: '…to this one (exclusive)' }),
    alerts: z.array(InlineAlertSchema).max(5000).optional().openapi({ description: 'Alerts to replay instead of a recorded window' }),
    actionSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .optional()
      .openapi({ description: 'How long each simulated run holds its host (default 60)' }),
    maxDecisions: z.number().int().min(0).max(5000).optional().openapi({ description: 'Decisions listed one by one (default 500)' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const window = body.from !== undefined || body.to !== undefined;
    if (body.alerts && window) {
      ctx.addIssue({ code: 'custom', path: ['alerts'], message: 'send either alerts or a window (from, to), not both' });
    } else if (!body.alerts) {
      if (body.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'required unless alerts are sent' });
      if (body.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'required unless alerts are sent' });
      if (body.from !== undefined && body.to !== undefined && body.from >= body.to) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      }
    }
  })
  .openapi('PolicySimulationRequest');

const DecisionBase = { at: Timestamp, fingerprint: z.string() };

export const SimulationReportSchema = z
  .object({
    alerts: z.number().int(),
    wouldAct: z.number().int(),
    limited: z.number().int(),
    unusable: z.number().int(),
    unmatched: z.number().int(),
    policies: z.array(
      z
        .object({
          policyId: z.string(),
          name: z.string(),
          wouldAct: z.number().int(),
          hosts: z.array(z.object({ host: z.string(), runs: z.number().int() })),
          limited: z.record(z.string(), z.number().int()).openapi({ description: 'Decisions each limit stopped' }),
          unusable: z.number().int(),
        })
        .openapi('PolicySimulationSummary'),
    ),
    decisions: z.array(
      z
        .discriminatedUnion('outcome', [
          z.object({
            ...DecisionBase,
            outcome: z.literal('would_act'),
            policyId: z.string(),
            host: z.string().nullable(),
            params: z.record(z.string(), z.unknown()),
          }),
          z.object({
            ...DecisionBase,
            outcome: z.literal('limited'),
            policyId: z.string(),
            host: z.string().nullable(),
            limit: z.string(),
            detail: z.string(),
          }),
          z.object({ ...DecisionBase, outcome: z.literal('unusable'), policyId: z.string(), param: z.string(), reason: z.string() }),
          z.object({ ...DecisionBase, outcome: z.literal('no_match') }),
        ])
        .openapi('SimulatedDecision'),
    ),
    decisionsTruncated: z.boolean(),
    assumptions: z.array(z.string()),
  })
  .openapi('PolicySimulationReport');

export const PolicyJobSchema = z
  .object({
    id: z.string().uuid(),
    policyId: z.string().nullable(),
    policyName: z.string().nullable(),
    actionType: z.enum(POLICY_ACTION_TYPES).nullable(),
    fingerprint: z.string(),
    startsAt: Timestamp,
    alertStatus: z.enum(['firing', 'resolved']),
    labels: z.record(z.string(), z.string()),
    host: z.string().nullable(),
    cooldownKey: z.string().nullable(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
    status: z.enum(POLICY_JOB_STATUSES).openapi({
      description:
        'queued → running → succeeded | failed (runs); limited (a limit stopped it, limitReason), unusable (the matching policy could ' +
        'not use the alert), unmatched (no policy matched), escalated (none matched; an incident was raised)',
    }),
    limitReason: z.enum(POLICY_LIMIT_REASONS).nullable(),
    detail: z.string().nullable(),
    trial: z.boolean().openapi({ description: 'The one run an open breaker let through after its open period' }),
    workflowId: z.string().nullable(),
    decidedAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .openapi('PolicyJob');

export const PolicyJobListQuery = z
  .object({
    policyId: z.string().uuid().optional(),
    status: z.enum(POLICY_JOB_STATUSES).optional(),
    host: text({ min: 1, max: 253 }).optional(),
    from: Instant.optional().openapi({ description: 'Decided at or after' }),
    to: Instant.optional().openapi({ description: 'Decided before' }),
    limit,
    cursor,
  })
  .strict();
