import { z } from '@hono/zod-openapi';
import {
  VALIDATION_CHECKS,
  type AutomationArtifacts,
  type AutomationGeneration,
  type AutomationHost,
  type AutomationProgress,
  type HostRecap,
  type ValidationFinding,
} from '../core/automation.js';
import { AUTOMATION_STATUSES, AUTOMATION_STEPS, type AutomationApproval, type AutomationStepState } from '../core/contracts/automation.js';
import { orNull, Timestamp, type Same } from './remediation-schemas.js';
import { cursor, limit, TagIdSchema, text } from './schemas.js';

// The automation run as the API shows it, field by field (a frontend is generated from these). Each
// schema is checked against its source type at compile time.

const same = <_T extends true>() => undefined;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');

export const AutomationStatusSchema = z.enum(AUTOMATION_STATUSES).openapi('AutomationStatus', {
  description:
    'queued (recorded, not started) → generating → validating → awaiting_approval (real runs) → waiting_for_hosts → running; ' +
    'final: succeeded (final stats present, no host failed or unreachable), failed (a host failed, the run timed out, or a step failed), ' +
    'recap_missing (no final stats: never a success), not_understood (no template or model could write it), invalid (validation ' +
    'findings), rejected, timed_out (no approval before the deadline), cancelled, lost (the runner lost its execution: outcome unknown). ' +
    'Nothing runs in not_understood, invalid, rejected or timed_out.',
});

export const AutomationHostSchema = z
  .object({
    tagId: z.string(),
    hostname: z.string(),
    address: z.string(),
    port: z.number().int(),
    user: z.string(),
    credential: z.string().openapi({ description: 'Name of the SSH credential; the key itself never leaves the vault' }),
    serviceManager: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "The CMDB item's service manager: supervisor hosts' services are managed with supervisorctl" }),
  })
  .openapi('AutomationHost');
same<Same<z.infer<typeof AutomationHostSchema>, AutomationHost>>();

export const AutomationArtifactsSchema = z
  .object({
    playbook: z.string().openapi({ description: 'YAML' }),
    inventory: z.string().openapi({ description: 'YAML inventory built from the CMDB items' }),
    variables: z.record(z.string(), z.unknown()),
    collections: z.array(z.string()),
    command: z.array(z.string()).openapi({ description: 'ansible-playbook arguments' }),
    hosts: z.array(AutomationHostSchema),
  })
  .openapi('AutomationArtifacts');
same<Same<z.infer<typeof AutomationArtifactsSchema>, AutomationArtifacts>>();

export const AutomationGenerationSchema = z
  .object({
    source: z.enum(['template', 'llm']),
    template: z.string().nullable(),
    understood: z.record(z.string(), z.string()),
    summary: z.string(),
    become: z.boolean().optional().openapi({ description: 'The playbook runs its plays as root (declared by the generator)' }),
  })
  .openapi('AutomationGeneration');
same<Same<z.infer<typeof AutomationGenerationSchema>, AutomationGeneration>>();

export const ValidationFindingSchema = z
  .object({
    check: z.enum(VALIDATION_CHECKS),
    task: z.string().nullable().openapi({ description: 'play[i].tasks[j] and the task name; null for the whole file' }),
    message: z.string(),
  })
  .openapi('ValidationFinding');
same<Same<z.infer<typeof ValidationFindingSchema>, ValidationFinding>>();

export const AutomationApprovalSchema = z
  .object({
    decision: z
      .enum(['pending', 'approved', 'rejected', 'timed_out', 'not_required'])
      .openapi({ description: '`not_required`: check mode runs without a human' }),
    artifactsHash: Sha256.openapi({ description: 'sha256 of every artifact; an approval is bound to it' }),
    requestedAt: Timestamp,
    deadline: Timestamp.nullable().openapi({ description: 'When the wait ends on its own (timed_out)' }),
    by: z.string().nullable(),
    comment: z.string().nullable(),
    decidedAt: Timestamp.nullable(),
  })
  .openapi('AutomationApproval');
same<Same<z.infer<typeof AutomationApprovalSchema>, AutomationApproval>>();

export const AutomationProgressSchema = z
  .object({
    tasksDone: z.number().int(),
    tasksTotal: z.number().int(),
    currentTask: z.string().nullable(),
    events: z.number().int(),
  })
  .openapi('AutomationProgress');
same<Same<z.infer<typeof AutomationProgressSchema>, AutomationProgress>>();

export const HostRecapSchema = z
  .object({
    ok: z.number().int(),
    changed: z.number().int(),
    unreachable: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    rescued: z.number().int(),
    ignored: z.number().int(),
  })
  .openapi('HostRecap', { description: "From Ansible's final stats event, never from the recap text" });
same<Same<z.infer<typeof HostRecapSchema>, HostRecap>>();

const StepSchema = z
  .object({
    name: z.enum(AUTOMATION_STEPS),
    status: z.enum(['pending', 'running', 'completed', 'failed', 'skipped']),
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    detail: z.string().nullable(),
  })
  .openapi('AutomationStep');
same<Same<z.infer<typeof StepSchema>, AutomationStepState>>();

export const AutomationCreateSchema = z
  .object({
    request: text({ min: 1, max: 2000, trim: true }).openapi({ example: 'install nginx and make sure it runs' }),
    targets: z
      .array(TagIdSchema)
      .min(1)
      .max(100)
      .refine((t) => new Set(t).size === t.length, 'each target once')
      .openapi({ description: 'CMDB tagIds of your tenant: the inventory is built from these items only' }),
    checkMode: z
      .boolean()
      .optional()
      .openapi({ description: '--check --diff: shows what would change, changes nothing, needs no approval' }),
  })
  .strict()
  .openapi('AutomationCreate');

export const AutomationAcceptedSchema = z
  .object({
    id: z.string().uuid(),
    number: z.number().int(),
    workflowId: z.string().openapi({ example: 'automation-0b9f3c9e-5c1c-4a8e-9a57-7d0a8c1d2e3f' }),
    status: AutomationStatusSchema,
  })
  .openapi('AutomationAccepted');

export const AutomationSummarySchema = z
  .object({
    id: z.string().uuid(),
    number: z.number().int(),
    request: z.string(),
    targets: z.array(z.string()),
    checkMode: z.boolean(),
    status: AutomationStatusSchema,
    workflowId: z.string(),
    createdBy: z.string().nullable(),
    artifactsHash: z.string().nullable(),
    summary: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .openapi('AutomationRunSummary');

export const AutomationDetailSchema = AutomationSummarySchema.extend({
  readFrom: z
    .enum(['projection', 'row'])
    .openapi({ description: 'How this answer was read. projection: the run’s own state; row: the run has not projected yet' }),
  projectedVersion: z.number().int().nullable(),
  currentStep: z.enum(AUTOMATION_STEPS).nullable(),
  steps: z.array(StepSchema),
  hosts: z.array(AutomationHostSchema),
  generation: orNull(AutomationGenerationSchema),
  understood: z.record(z.string(), z.string()).nullable().openapi({ description: 'What was understood of a request no template covers' }),
  artifacts: orNull(AutomationArtifactsSchema),
  findings: z.array(ValidationFindingSchema),
  approval: orNull(AutomationApprovalSchema),
  progress: orNull(AutomationProgressSchema),
  recap: z.record(z.string(), HostRecapSchema).nullable(),
  exitCode: z.number().int().nullable(),
  logLines: z.number().int(),
  logTail: z.string().openapi({ description: 'Last lines of the log, redacted; GET …/log pages through all of it' }),
  error: z.string().nullable(),
}).openapi('AutomationRun');

export const AutomationListQuery = z
  .object({
    status: z.enum(AUTOMATION_STATUSES).optional(),
    target: TagIdSchema.optional().openapi({ description: 'Runs whose targets include this tagId' }),
    limit,
    cursor,
  })
  .strict();

export const AutomationLogQuery = z
  .object({
    after: z.coerce
      .number()
      .int()
      .min(0)
      .max(100_000_000)
      .default(0)
      .openapi({ description: 'Lines after this line number (0: from the start)' }),
    limit: z.coerce.number().int().min(1).max(5000).default(500).openapi({ description: 'Lines per page (1–5000)' }),
  })
  .strict();

export const AutomationLogSchema = z
  .object({
    lines: z.array(z.object({ n: z.number().int(), text: z.string() }).openapi('AutomationLogLine')),
    total: z
      .number()
      .int()
      .openapi({ description: 'Lines stored so far (stored while the playbook runs, about every half second on the local runner)' }),
    nextAfter: z.number().int().nullable().openapi({ description: 'Pass as `after` for the next page; null at the end' }),
  })
  .openapi('AutomationLog');

export const AutomationDecisionSchema = z
  .object({
    artifactsHash: Sha256.openapi({ description: 'approval.artifactsHash of GET /automation/{id}; a different one answers 409' }),
    comment: text({ max: 2000, trim: true }).optional(),
  })
  .strict()
  .openapi('AutomationDecision');
