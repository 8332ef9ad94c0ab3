import { z } from '@hono/zod-openapi';
import { ENVIRONMENTS, INCIDENT_STATUSES, SEVERITIES } from '../core/incident.js';
import {
  ApprovalSchema,
  HostCommandRunSchema,
  orNull,
  IncidentWorkflowStateSchema,
  ProposedActionSchema,
  RemediationPlanSchema,
  ResultDetailsSchema,
  Timestamp,
  VerificationSchema,
} from './remediation-schemas.js';

// The zod schemas that validate requests are the ones the OpenAPI document is generated from.

// What String.prototype.trim removes, spelled out so that the patterns below mean the same to
// every regex engine that reads the document (JavaScript's and Python's \s differ).
const SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
// Not U+0000, which PostgreSQL text cannot hold. Unpaired surrogates (no UTF-8 form) are refused
// too, by the validation hook: no pattern states them that every reader of the document compiles.
const STORABLE = '[^\\u0000]';
const VISIBLE = `[^\\u0000${SPACE}]`;

const codePoints = (value: string) => [...value].length;

/**
 * Free text: `min` to `max` characters (code points, as JSON Schema counts them), none of which
 * the store cannot hold. With `trim`, surrounding white space is removed and `min` counts what is
 * left; the pattern says so.
 */
export function text({ min = 0, max, trim = false }: { min?: number; max: number; trim?: boolean }) {
  let pattern = `^${STORABLE}*$`;
  if (trim && min === 1) pattern = `^${STORABLE}*${VISIBLE}${STORABLE}*$`;
  else if (trim && min > 1) pattern = `^${STORABLE}*${VISIBLE}${STORABLE}{${min - 2},}${VISIBLE}${STORABLE}*$`;
  const base = trim ? z.string().trim() : z.string();
  return base
    .regex(
      new RegExp(pattern, 'u'),
      trim && min > 0 ? `at least ${min} characters besides white space` : 'text the store can hold (no NUL)',
    )
    .refine((value) => codePoints(value) >= min, `at least ${min} characters`)
    .refine((value) => codePoints(value) <= max, `at most ${max} characters`)
    .openapi({ pattern, maxLength: max, ...(min > 0 ? { minLength: min } : {}) });
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:infraai:problem:validation-error' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() })).optional(),
  })
  .openapi('Problem');

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  403: 'The role does not allow this',
  404: 'Not found (also for other tenants’ ids)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
  431: 'Request line and headers over 16 KB (answered by the HTTP server)',
  422: 'Validation failed',
  428: 'The request must name the version it changes (If-Match)',
  502: 'The workflow run the request waited on failed',
  503: 'A dependency (store or workflow engine) is unavailable',
  504: 'The workflow run the request waited on did not finish in time',
};

// No lookaheads: generators of test data (and other regex engines) read these patterns too.
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const IPV6 = /^[0-9A-Fa-f.]{0,44}:[0-9A-Fa-f:.]{1,44}$/;
// One pattern, so that the document states it: the three above, each anchored alternative.
const ADDRESS = new RegExp(`^(?:${[IPV4, IPV6, HOSTNAME].map((re) => `(?:${re.source.slice(1, -1)})`).join('|')})$`);

export const TagIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, . _ : - (starting with a letter or digit)')
  .openapi({ example: 'web-01' });

const nullableText = (max: number) => text({ max, trim: true }).nullable().optional();

export const CmdbItemFields = z.object({
  instanceId: text({ min: 1, max: 128, trim: true }).nullable().optional().openapi({ example: 'i-0abc123' }),
  hostname: z.string().max(253).regex(HOSTNAME, 'an RFC 1123 hostname').openapi({ example: 'web-01.example.internal' }),
  address: z.string().max(253).regex(ADDRESS, 'an IPv4/IPv6 address or a hostname').openapi({ example: '10.0.0.5' }),
  port: z.number().int().min(1).max(65535).default(22),
  environment: z.enum(ENVIRONMENTS).default('production'),
  owner: nullableText(200),
  os: nullableText(64).openapi({ example: 'linux' }),
  serviceManager: z.enum(['systemd', 'sysv', 'supervisor', 'other']).nullable().optional(),
  sshUser: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, 'a POSIX user name')
    .nullable()
    .optional()
    .openapi({ example: 'ops' }),
  sshCredential: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'the name of a stored credential (never the secret itself)')
    .nullable()
    .optional()
    .openapi({ example: 'web-ssh-key', description: 'Name of a stored SSH credential; the key itself never goes here.' }),
  description: nullableText(2000),
  tags: z
    .record(
      z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9_.:/-]+$/),
      text({ max: 256 }),
    )
    .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 tags')
    .default({})
    // propertyNames is OpenAPI 3.1 (JSON Schema 2020-12); the metadata type knows 3.0's keywords only.
    .openapi({ maxProperties: 50, ...({ propertyNames: { minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:/-]+$' } } as object) }),
});

export const CmdbCreateSchema = CmdbItemFields.extend({ tagId: TagIdSchema }).strict().openapi('CmdbItemCreate');
export const CmdbReplaceSchema = CmdbItemFields.strict().openapi('CmdbItemReplace');

export const CmdbItemSchema = z
  .object({
    tagId: z.string(),
    instanceId: z.string().nullable(),
    hostname: z.string(),
    address: z.string(),
    port: z.number().int(),
    environment: z.enum(ENVIRONMENTS),
    owner: z.string().nullable(),
    os: z.string().nullable(),
    serviceManager: z.string().nullable().openapi({ description: 'systemd, sysv, supervisor or other' }),
    sshUser: z.string().nullable(),
    sshCredential: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.record(z.string(), z.string()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('CmdbItem');

export const limit = z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Page size (1–200).' });
// A cursor the store did not issue (though base64url) is still refused with 422.
export const cursor = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[A-Za-z0-9_-]+$/, 'a nextCursor from a previous page (base64url)')
  .optional()
  .openapi({ description: 'The nextCursor of the previous page, as it was given (base64url).' });

const TagFilter = z
  .string()
  .max(321)
  // eslint-disable-next-line no-control-regex -- NUL is what it refuses
  .regex(/^[^:\u0000]+:[^\u0000]*$/, 'key:value')
  .openapi({ example: 'team:platform' });

export const CmdbListQuery = z
  .object({
    environment: z.enum(ENVIRONMENTS).optional(),
    owner: text({ max: 200 }).optional(),
    hostname: text({ max: 253 }).optional(),
    instanceId: text({ max: 128 }).optional(),
    q: text({ min: 1, max: 200 }).optional().openapi({ description: 'Substring of tagId, hostname, address or description.' }),
    tag: z
      .union([TagFilter, z.array(TagFilter).max(50)])
      .optional()
      .openapi({ description: 'key:value, repeatable; every pair must match.' }),
    limit,
    cursor,
  })
  .strict();

export const IncidentCreateSchema = z
  .object({
    title: text({ min: 1, max: 200, trim: true }).openapi({ example: 'nginx down on web-01' }),
    description: text({ max: 10_000 }).default(''),
    severity: z.enum(SEVERITIES),
    tagId: TagIdSchema,
    external: z
      .object({
        servicenowSysId: z
          .string()
          .regex(/^[0-9a-f]{32}$/, 'a 32-character ServiceNow sys_id')
          .optional(),
        pagerdutyIncidentId: z
          .string()
          .regex(/^[A-Z0-9]{1,32}$/, 'a PagerDuty incident id such as PT4KHLK')
          .optional(),
        pagerdutyDedupKey: text({ min: 1, max: 255 }).optional(),
      })
      .strict()
      .optional()
      .openapi({
        description:
          "The incident in your other tools: its outcome is posted there when the deployment's notifiers are configured and serve your tenant (INFRAAI_NOTIFY_TENANTS)",
      }),
  })
  .strict()
  .openapi('IncidentCreate');

export const IncidentSchema = z
  .object({
    id: z.string().uuid(),
    number: z.number().int(),
    title: z.string(),
    description: z.string(),
    severity: z.enum(SEVERITIES),
    tagId: z.string(),
    status: z.enum(INCIDENT_STATUSES),
    source: z.string(),
    workflowId: z.string(),
    targetHost: z.string().nullable(),
    summary: z.string().nullable(),
    createdBy: z.string().nullable(),
    external: z
      .object({ servicenowSysId: z.string(), pagerdutyIncidentId: z.string(), pagerdutyDedupKey: z.string() })
      .partial()
      .openapi({ description: 'The incident in other tools, as given at creation' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    resolvedAt: Timestamp.nullable(),
  })
  .openapi('Incident');

export const ResultSchema = z
  .object({
    id: z.string().uuid(),
    incidentId: z.string().uuid(),
    incidentNumber: z.number().int(),
    status: z.enum(INCIDENT_STATUSES),
    summary: z.string(),
    details: ResultDetailsSchema,
    createdAt: Timestamp,
  })
  .openapi('IncidentResult');

export const WorkflowRunSchema = z
  .object({
    id: z.string().openapi({ example: 'incident-0b9f3c9e-5c1c-4a8e-9a57-7d0a8c1d2e3f' }),
    runId: z.string(),
    status: z
      .enum(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT', 'PAUSED', 'UNKNOWN'])
      .openapi({ description: 'Temporal execution status' }),
    startedAt: Timestamp,
    closedAt: Timestamp.nullable(),
    historyLength: z.number().int(),
    state: orNull(IncidentWorkflowStateSchema).openapi({ description: 'The run’s live state (its result once completed)' }),
    stateError: z.string().nullable().openapi({ description: 'Why the state could not be read (e.g. no worker answered)' }),
  })
  .openapi('IncidentWorkflowRun');

export const IncidentDetailSchema = IncidentSchema.extend({
  plan: orNull(RemediationPlanSchema).openapi({ description: 'Runbook, parameters and read-only diagnostics of the run' }),
  findings: z.array(z.string()),
  rootCause: z.string().nullable(),
  proposedActions: z.array(ProposedActionSchema),
  approval: orNull(ApprovalSchema),
  commands: z.array(HostCommandRunSchema).openapi({ description: 'Every command run on the host, in order' }),
  verification: orNull(VerificationSchema),
  result: orNull(ResultSchema),
  workflow: orNull(WorkflowRunSchema),
  workflowError: z.string().nullable().openapi({ description: 'Why the workflow could not be described (the row still answers)' }),
  readFrom: z.enum(['projection', 'live']).openapi({
    description:
      'How this answer was read (the incident’s own origin is `source`). projection: from the store, as the run last wrote it (the default; no Temporal call). live: described and queried from Temporal (consistency=live, or a run that has written no projection)',
  }),
  projectedVersion: z.number().int().nullable().openapi({
    description: 'The seq of the last run event the projection holds (the Last-Event-ID of the events stream); null when live',
  }),
}).openapi('IncidentDetail');

export const IncidentReadQuery = z
  .object({
    consistency: z
      .enum(['projection', 'live'])
      .optional()
      .openapi({ description: 'live asks Temporal (slower, loads the engine); the default reads the store’s projection' }),
  })
  .strict();

export const IncidentListQuery = z
  .object({
    status: z.enum(INCIDENT_STATUSES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    tagId: TagIdSchema.optional(),
    limit,
    cursor,
  })
  .strict();

// Ids are uuids; any other id names nothing and answers 404, as an unknown uuid does.
export const IdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid', example: '0b9f3c9e-5c1c-4a8e-9a57-7d0a8c1d2e3f' }),
});

export const TagIdParam = z.object({ tagId: TagIdSchema.openapi({ param: { name: 'tagId', in: 'path' } }) });

export const TimelineEntrySchema = z
  .object({
    step: z.string(),
    kind: z.enum(['workflow', 'activity', 'signal', 'update', 'timer', 'manual']).openapi({
      description: 'manual: a result an operator recorded by hand (POST /api/v1/storeResult), placed by time among the run’s history',
    }),
    outcome: z.enum(['running', 'completed', 'failed', 'timed_out', 'cancelled', 'scheduled', 'info']),
    scheduledAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    attempt: z.number().int(),
    durationMs: z.number().nullable(),
    input: z.unknown(),
    output: z.unknown(),
    failure: z.string().nullable(),
  })
  .openapi('TimelineEntry');

export const HostCommandEntrySchema = z
  .object({
    at: z.string().nullable(),
    step: z.string(),
    phase: z.string().openapi({ description: 'diagnostic, guard, fix, verification' }),
    id: z.string(),
    command: z.string(),
    allowedBy: z.string().openapi({ description: 'policy:read-only, policy:auto-low-risk, or approval:<who>' }),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    output: z.string().openapi({ description: 'Redacted, truncated' }),
  })
  .openapi('HostCommand');

export const ApiKeyCreateSchema = z
  .object({ name: text({ min: 1, max: 100, trim: true }), role: z.enum(['admin', 'operator', 'viewer']) })
  .strict()
  .openapi('ApiKeyCreate');

export const ApiKeySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    role: z.enum(['admin', 'operator', 'viewer']),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .openapi('ApiKey');
