import { z } from '@hono/zod-openapi';
import { ENVIRONMENTS, INCIDENT_STATUSES, SEVERITIES } from '../core/incident.js';

// The zod schemas that validate requests are the ones the OpenAPI document is generated from.

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
  422: 'Validation failed',
  503: 'A dependency (store or workflow engine) is unavailable',
};

const HOSTNAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^(?=.*:)[0-9A-Fa-f:.]{2,45}$/;

export const TagIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, . _ : - (starting with a letter or digit)')
  .openapi({ example: 'web-01' });

const nullableText = (max: number) => z.string().trim().max(max).nullable().optional();

export const CmdbItemFields = z.object({
  instanceId: z.string().trim().min(1).max(128).nullable().optional().openapi({ example: 'i-0abc123' }),
  hostname: z.string().regex(HOSTNAME, 'an RFC 1123 hostname').openapi({ example: 'web-01.example.internal' }),
  address: z
    .string()
    .refine((value) => IPV4.test(value) || IPV6.test(value) || HOSTNAME.test(value), 'an IPv4/IPv6 address or a hostname')
    .openapi({ example: '10.0.0.5' }),
  port: z.number().int().min(1).max(65535).default(22),
  environment: z.enum(ENVIRONMENTS).default('production'),
  owner: nullableText(200),
  os: nullableText(64).openapi({ example: 'linux' }),
  serviceManager: z.enum(['systemd', 'sysv', 'supervisor', 'other']).nullable().optional(),
  sshUser: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'a POSIX user name')
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
      z.string().max(256),
    )
    .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 tags')
    .default({}),
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
    serviceManager: z.string().nullable(),
    sshUser: z.string().nullable(),
    sshCredential: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.record(z.string(), z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('CmdbItem');

const limit = z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Page size (1–200).' });
const cursor = z.string().min(1).max(500).optional().openapi({ description: 'Opaque cursor from the previous page’s nextCursor.' });

export const CmdbListQuery = z
  .object({
    environment: z.enum(ENVIRONMENTS).optional(),
    owner: z.string().max(200).optional(),
    hostname: z.string().max(253).optional(),
    instanceId: z.string().max(128).optional(),
    q: z.string().min(1).max(200).optional().openapi({ description: 'Substring of tagId, hostname, address or description.' }),
    tag: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .openapi({ description: 'key:value, repeatable; every pair must match.' }),
    limit,
    cursor,
  })
  .strict();

export const IncidentCreateSchema = z
  .object({
    title: z.string().trim().min(1).max(200).openapi({ example: 'nginx down on web-01' }),
    description: z.string().max(10_000).default(''),
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
        pagerdutyDedupKey: z.string().min(1).max(255).optional(),
      })
      .strict()
      .optional()
      .openapi({ description: 'The incident in your other tools: its outcome is posted there when notifiers are configured' }),
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
    external: z.record(z.string(), z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('Incident');

export const IncidentDetailSchema = IncidentSchema.extend({
  plan: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Runbook, parameters and read-only diagnostics of the run' }),
  findings: z.array(z.string()),
  rootCause: z.string().nullable(),
  proposedActions: z.array(
    z.object({
      id: z.string(),
      command: z.string(),
      guard: z.string().nullable(),
      risk: z.enum(['low', 'high']),
      reason: z.string(),
      policyReasons: z.array(z.string()),
      rollback: z.string().nullable(),
    }),
  ),
  approval: z
    .record(z.string(), z.unknown())
    .nullable()
    .openapi({ description: 'decision (pending, approved, rejected, timed_out, auto), planHash, deadline, by, comment' }),
  commands: z
    .array(z.record(z.string(), z.unknown()))
    .openapi({ description: 'Every command run on the host: phase, command, allowedBy, exitCode, output (redacted, truncated)' }),
  verification: z.object({ passed: z.boolean(), failures: z.array(z.string()) }).nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  workflow: z
    .object({
      id: z.string(),
      runId: z.string(),
      status: z.string(),
      startedAt: z.string(),
      closedAt: z.string().nullable(),
      historyLength: z.number().int(),
      state: z.record(z.string(), z.unknown()).nullable(),
      stateError: z.string().nullable(),
    })
    .nullable(),
  workflowError: z.string().nullable(),
}).openapi('IncidentDetail');

export const IncidentListQuery = z
  .object({
    status: z.enum(INCIDENT_STATUSES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    tagId: z.string().max(128).optional(),
    limit,
    cursor,
  })
  .strict();

export const IdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '0b9f3c9e-5c1c-4a8e-9a57-7d0a8c1d2e3f' }),
});

export const TagIdParam = z.object({ tagId: z.string().openapi({ param: { name: 'tagId', in: 'path' }, example: 'web-01' }) });

export const TimelineEntrySchema = z
  .object({
    step: z.string(),
    kind: z.enum(['workflow', 'activity', 'signal', 'update', 'timer']),
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

export const ResultSchema = z
  .object({
    id: z.string(),
    incidentId: z.string(),
    incidentNumber: z.number().int(),
    status: z.enum(INCIDENT_STATUSES),
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .openapi('IncidentResult');

export const ApiKeyCreateSchema = z
  .object({ name: z.string().trim().min(1).max(100), role: z.enum(['admin', 'operator', 'viewer']) })
  .strict()
  .openapi('ApiKeyCreate');

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'operator', 'viewer']),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');
