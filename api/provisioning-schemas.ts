import { z } from '@hono/zod-openapi';
import { PROVISION_STATUSES, PROVISION_STEPS, REFERENCE_PROVISION_STATUSES } from '../core/contracts/provisioning.js';
import {
  PROVISION_ENVIRONMENTS,
  PROVISION_RESOURCE_TYPES,
  PROVISION_SIZES,
  type ProvisionFile,
  type ProvisionPolicyFinding,
  type ProvisionRequirements,
} from '../core/provisioning/types.js';
import { orNull, Timestamp, type Same } from './remediation-schemas.js';
import { cursor, limit, text } from './schemas.js';

// Provisioning requests as the API shows them, field by field (a frontend is generated from these),
// and reference 004's shapes for its aliases. Schemas of domain types are checked against them at
// compile time.

const same = <_T extends true>() => undefined;

export const ProvisionStatusSchema = z.enum(PROVISION_STATUSES).openapi('ProvisionStatus', {
  description:
    'queued (recorded, not started) → parsing → generating → validating → policy_check → creating_pr → awaiting_review (the pull ' +
    'request is open); final: completed (merged), cancelled (closed without merging, or cancelled), expired (no review before the ' +
    'deadline), failed (a step failed for good), blocked (the policy found an error: nothing pushed), not_understood.',
});

/** Environments a request may name; `prod` is reference 004's spelling of `production`. */
export const ProvisionEnvironmentInput = z
  .enum([...PROVISION_ENVIRONMENTS, 'prod'])
  .openapi({ description: 'dev, staging or production (`prod` is accepted as production)' });

export function normaliseEnvironment(environment: z.infer<typeof ProvisionEnvironmentInput> | undefined) {
  return environment === 'prod' ? 'production' : environment;
}

export const ProvisionCreateSchema = z
  .object({
    request: text({ min: 1, max: 2000, trim: true }).openapi({ example: 'staging S3 bucket for logs' }),
    environment: ProvisionEnvironmentInput.optional(),
    requester: text({ min: 1, max: 320, trim: true })
      .optional()
      .openapi({ description: 'Who asks (an e-mail); default: the caller', example: 'dev@example.com' }),
  })
  .strict()
  .openapi('ProvisionCreate');

export const ProvisionDryRunSchema = z
  .object({
    request: text({ min: 1, max: 2000, trim: true }).openapi({ example: 'staging S3 bucket for logs' }),
    environment: ProvisionEnvironmentInput.optional(),
    checkov: z.boolean().optional().openapi({
      description:
        'Also run Checkov over the files, as the request itself would (takes seconds). Without it the preview shows the HCL check and the declared rules only.',
    }),
  })
  .strict()
  .openapi('ProvisionDryRun');

export const ProvisionAcceptedSchema = z
  .object({
    id: z.string().uuid(),
    workflowId: z.string().openapi({ example: 'provision-0b9f3c9e-5c1c-4a8e-9a57-7d0a8c1d2e3f' }),
    status: ProvisionStatusSchema,
  })
  .openapi('ProvisionAccepted');

export const ProvisionRequirementsSchema = z
  .object({
    resourceType: z.enum(PROVISION_RESOURCE_TYPES),
    name: z.string(),
    environment: z.enum(PROVISION_ENVIRONMENTS),
    size: z.enum(PROVISION_SIZES),
    team: z.string().nullable(),
    service: z.string().nullable(),
    region: z.string(),
    tags: z.record(z.string(), z.string()),
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .openapi('ProvisionRequirements');
same<Same<z.infer<typeof ProvisionRequirementsSchema>, ProvisionRequirements>>();

export const ProvisionFileSchema = z
  .object({ path: z.string().openapi({ example: 'terraform/staging/s3_bucket/logs/main.tf' }), content: z.string() })
  .openapi('ProvisionFile');
same<Same<z.infer<typeof ProvisionFileSchema>, ProvisionFile>>();

export const ProvisionFindingSchema = z
  .object({
    rule: z.string().openapi({ example: 'no_public_buckets' }),
    source: z.enum(['rules', 'checkov']),
    severity: z.enum(['error', 'warning']).openapi({ description: '`error` blocks the pull request; `warning` is reported only' }),
    file: z.string(),
    line: z.number().int().nullable(),
    resource: z.string().nullable(),
    message: z.string(),
  })
  .openapi('ProvisionFinding');
same<Same<z.infer<typeof ProvisionFindingSchema>, ProvisionPolicyFinding>>();

export const PullRequestSchema = z
  .object({
    number: z.number().int(),
    url: z.string(),
    state: z.enum(['open', 'merged', 'closed']),
  })
  .openapi('ProvisionPullRequest');

export const ProvisionSummarySchema = z
  .object({
    id: z.string().uuid(),
    number: z.number().int().openapi({ description: 'Per tenant, from 1' }),
    requester: z.string(),
    request: z.string(),
    environment: z.string().nullable().openapi({ description: 'As sent (the parsed one is in requirements)' }),
    status: ProvisionStatusSchema,
    stage: z.enum(PROVISION_STEPS).nullable().openapi({ description: 'The step running now, or the last one' }),
    directory: z.string().nullable(),
    branch: z.string().nullable(),
    pullRequest: orNull(PullRequestSchema),
    workflowId: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: orNull(Timestamp),
  })
  .openapi('ProvisionSummary');

export const ProvisionDetailSchema = ProvisionSummarySchema.extend({
  requirements: orNull(ProvisionRequirementsSchema),
  parser: z.enum(['grammar', 'llm']).nullable(),
  files: z.array(ProvisionFileSchema),
  findings: z.array(ProvisionFindingSchema),
  commitSha: z.string().nullable(),
  reviewDeadline: orNull(Timestamp),
  remindedAt: orNull(Timestamp),
  summary: z.string().nullable(),
  error: z.string().nullable(),
}).openapi('ProvisionDetail');

export const ProvisionPageSchema = z
  .object({ items: z.array(ProvisionSummarySchema), nextCursor: z.string().nullable() })
  .openapi('ProvisionPage');

export const ProvisionListQuery = z
  .object({
    requester: text({ min: 1, max: 320 }).optional(),
    status: z.enum(PROVISION_STATUSES).optional(),
    limit,
    cursor,
  })
  .strict();

export const ProvisionDryRunResultSchema = z
  .object({
    requirements: ProvisionRequirementsSchema,
    parser: z.enum(['grammar', 'llm']),
    directory: z.string(),
    files: z.array(ProvisionFileSchema),
    findings: z.array(ProvisionFindingSchema).openapi({ description: 'HCL validation and policy; an `error` would block the request' }),
    blocked: z.boolean().openapi({ description: 'True when a finding is an error: the request would end blocked' }),
  })
  .openapi('ProvisionDryRunResult');

export const ProvisionReviewSchema = z
  .object({ decision: z.enum(['merged', 'closed']).openapi({ description: 'merged completes the request; closed cancels it' }) })
  .strict()
  .openapi('ProvisionReview');

export const ProvisionReviewAnswerSchema = z
  .object({ id: z.string().uuid(), pullRequest: PullRequestSchema, signalled: z.boolean() })
  .openapi('ProvisionReviewAnswer');

// Reference 004's shapes (snake_case), for its aliases.

export const ReferenceStatusSchema = z
  .object({
    request_id: z.string().uuid(),
    request_text: z.string(),
    requester: z.string(),
    team: z.string().nullable(),
    status: z.enum(REFERENCE_PROVISION_STATUSES),
    infraai_status: ProvisionStatusSchema.openapi({ description: 'The status InfraAI itself uses (finer than reference 004’s)' }),
    pr_url: z.string().nullable(),
    pr_number: z.number().int().nullable(),
    branch_name: z.string().nullable(),
    error: z.string().nullable(),
    created_at: Timestamp,
    completed_at: orNull(Timestamp),
  })
  .openapi('ReferenceProvisionStatus');

export const ReferenceListQuery = z.object({ user: text({ min: 1, max: 320 }).optional(), limit, cursor }).strict();

export const ReferenceListSchema = z
  .object({ requests: z.array(ReferenceStatusSchema), next_cursor: z.string().nullable() })
  .openapi('ReferenceProvisionList');

export const ReferenceDryRunSchema = z
  .object({
    parsed_requirements: ProvisionRequirementsSchema,
    terraform_files: z.record(z.string(), z.string()).openapi({ description: 'File name → content' }),
    directory: z.string(),
    findings: z.array(ProvisionFindingSchema),
  })
  .openapi('ReferenceDryRun');
