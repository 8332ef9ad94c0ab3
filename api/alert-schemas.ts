import { z } from '@hono/zod-openapi';
import { ALERT_RUN_STATUSES } from '../core/contracts/alerts.js';
import { InstantText, PolicyJobSchema } from './policy-schemas.js';
import { text } from './schemas.js';

// Alertmanager's webhook payload (version 4), as its webhook_config sends it, and what the API
// answers. Unknown fields are ignored, not refused: a newer Alertmanager adding one must not turn
// every notification into a retry loop.

/** Label and annotation names as Alertmanager sends them (Prometheus 3 allows UTF-8 names): any text the store can hold. */
const Name = z.string().max(256);

const Labels = z
  .record(Name, text({ max: 4096 }))
  .refine((labels) => Object.keys(labels).length <= 200, 'at most 200 labels')
  .openapi({ example: { alertname: 'ServiceDown', instance: 'web-01:9100', severity: 'critical' } });

const Annotations = z
  .record(Name, text({ max: 16_384 }))
  .refine((annotations) => Object.keys(annotations).length <= 200, 'at most 200 annotations')
  .openapi({ example: { summary: 'web is down on web-01' } });

const AlertmanagerAlertSchema = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: Labels,
    annotations: Annotations.default({}),
    startsAt: InstantText.openapi({ description: 'With the fingerprint, the alert run’s identity: kept exactly as sent' }),
    endsAt: InstantText.optional().openapi({ description: 'Alertmanager sends 0001-01-01T00:00:00Z for a firing alert' }),
    generatorURL: text({ max: 4096 }).default(''),
    fingerprint: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, "Alertmanager's fingerprint: letters, digits and ._:- (1 to 128)")
      .openapi({ example: 'a1b2c3d4e5f60718' }),
  })
  .openapi('AlertmanagerAlert');

export const AlertmanagerPayloadSchema = z
  .object({
    version: z.literal('4').openapi({ description: 'The webhook payload version Alertmanager sends (4)' }),
    groupKey: text({ max: 8192 }),
    truncatedAlerts: z.number().int().min(0).max(1_000_000_000).default(0),
    status: z.enum(['firing', 'resolved']),
    receiver: text({ max: 1024 }),
    groupLabels: Labels.default({}),
    commonLabels: Labels.default({}),
    commonAnnotations: Annotations.default({}),
    externalURL: text({ max: 4096 }).default(''),
    alerts: z.array(AlertmanagerAlertSchema).max(1000),
  })
  .openapi('AlertmanagerPayload');

export const AlertDeliverySchema = z
  .object({
    received: z.number().int().openapi({ description: 'Alerts in the notification' }),
    started: z.number().int().openapi({ description: 'Firing alerts whose run this notification started' }),
    joined: z.number().int().openapi({ description: 'Firing alerts whose run already existed (a retry, the other member of an HA pair)' }),
    resolved: z.number().int().openapi({ description: 'Resolved alerts whose open run was told' }),
    recorded: z.number().int().openapi({ description: 'Resolved alerts with no open run: only recorded' }),
    truncatedAlerts: z.number().int().openapi({ description: 'Alerts Alertmanager left out of the notification (max_alerts)' }),
    alerts: z.array(
      z.object({
        fingerprint: z.string(),
        status: z.enum(['firing', 'resolved']),
        workflowId: z.string().openapi({ description: 'alert-<fingerprint>-<startsAt>' }),
        outcome: z.enum(['started', 'joined', 'resolved', 'recorded']),
      }),
    ),
  })
  .openapi('AlertDelivery');

export const JobApprovalSchema = z
  .object({
    decision: z.enum(['approve', 'reject']),
    reason: text({ max: 2000 }).optional(),
  })
  .strict()
  .openapi('JobApprovalDecision');

export const AlertApprovalSchema = z
  .object({
    decision: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'not_required', 'withdrawn']),
    commandHash: z.string().openapi({ description: 'SHA-256 of the job’s command: what was approved' }),
    risk: z.enum(['read-only', 'low', 'high', 'forbidden']),
    requestedAt: z.string(),
    deadline: z.string().nullable(),
    by: z.string().nullable(),
    comment: z.string().nullable(),
    decidedAt: z.string().nullable(),
  })
  .openapi('JobApproval');

/** What GET /api/v1/jobs/{id} adds for a job an alert run recorded: the run as its projection shows it. */
export const AlertRunViewSchema = z
  .object({
    workflowId: z.string(),
    status: z.enum(ALERT_RUN_STATUSES),
    ended: z.boolean(),
    summary: z.string().nullable(),
    resolvedAt: z.string().nullable().openapi({ description: 'endsAt of the resolved notification, once it came' }),
    approval: AlertApprovalSchema.nullable(),
    steps: z.array(
      z.object({
        name: z.string(),
        status: z.string(),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
        detail: z.string().nullable(),
      }),
    ),
    commands: z.array(
      z.object({
        phase: z.string(),
        command: z.string(),
        allowedBy: z.string(),
        exitCode: z.number().int().nullable(),
        output: z.string(),
        at: z.string(),
      }),
    ),
    child: z.object({ workflowId: z.string(), status: z.string().nullable() }).nullable(),
    incidents: z.array(z.object({ incidentId: z.string(), number: z.number().int(), workflowId: z.string(), why: z.string() })),
  })
  .openapi('AlertRunView');

export const PolicyJobDetailSchema = PolicyJobSchema.extend({
  run: AlertRunViewSchema.nullable().openapi({
    description: 'The alert run that recorded the job (its projection): null for a job no run recorded, or before its first write',
  }),
}).openapi('PolicyJobDetail');
