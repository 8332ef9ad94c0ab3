import { z } from '@hono/zod-openapi';
import { INCIDENT_STATUSES } from '../core/incident.js';
import type { IncidentTarget, IncidentWorkflowState, ResolvedElsewhereState } from '../core/contracts/incident.js';
import type {
  Analysis,
  ApprovalState,
  HostCommandRun,
  LlmUsage,
  MetricsSnapshot,
  ProposedAction,
  RemediationPlan,
} from '../core/remediation.js';

// The remediation's state as the incident detail shows it, field by field: clients (and a frontend
// generated from the document) read these shapes. Each schema is checked against its source type
// at compile time, so a field added to core/remediation.ts or core/incident-workflow.ts without
// its schema fails the typecheck.

/** Compile-time proof that a schema's output and the source type are the same type, optional fields included. */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <_T extends true>() => undefined;

/**
 * A named schema or null. (`.nullable()` on a named schema renders as allOf [$ref, null], which
 * no value satisfies, so the document says anyOf instead.)
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

export const Timestamp = z.string().openapi({ format: 'date-time', example: '2025-01-31T09:30:00.000Z' });

const LlmUsageSchema = z
  .object({
    provider: z.string().openapi({ example: 'anthropic' }),
    model: z.string(),
    calls: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
  })
  .openapi('LlmUsage');
same<Same<z.infer<typeof LlmUsageSchema>, LlmUsage>>();

const RefusedCommandSchema = z
  .object({
    id: z.string(),
    command: z.string().nullable().openapi({ description: 'null when the runbook could not fill it in' }),
    reason: z.string(),
  })
  .openapi('RefusedCommand');

export const RemediationPlanSchema = z
  .object({
    source: z.enum(['planner', 'llm']),
    llm: orNull(LlmUsageSchema).optional().openapi({ description: 'Present when an LLM contributed' }),
    llmError: z.string().nullable().optional().openapi({ description: 'Why a configured LLM could not contribute' }),
    runbookId: z.string().nullable(),
    runbookTitle: z.string().nullable(),
    confidence: z.number().min(0).max(1).openapi({ description: 'How well the incident text matched the runbook' }),
    parameters: z.record(z.string(), z.string()),
    diagnostics: z.array(z.object({ id: z.string(), command: z.string(), description: z.string() })),
    knowledge: z
      .array(z.object({ docId: z.string(), title: z.string(), section: z.string() }))
      .openapi({ description: 'Knowledge base documents that informed the plan' }),
    refused: z.array(RefusedCommandSchema).openapi({ description: 'Commands the policy refused or could not fill in' }),
  })
  .openapi('RemediationPlan');
same<Same<z.infer<typeof RemediationPlanSchema>, RemediationPlan>>();

export const MetricsSnapshotSchema = z
  .object({
    datasource: z.string(),
    queries: z.array(
      z.object({
        name: z.string(),
        query: z.string(),
        samples: z.array(z.object({ labels: z.record(z.string(), z.string()), value: z.number() })),
      }),
    ),
    notes: z.array(z.string()),
  })
  .openapi('MetricsSnapshot');
same<Same<z.infer<typeof MetricsSnapshotSchema>, MetricsSnapshot>>();

export const ProposedActionSchema = z
  .object({
    id: z.string().openapi({ description: 'Runbook fix id, or llm-<n> for an action an LLM proposed' }),
    source: z.enum(['runbook', 'llm']).openapi({ description: 'An LLM’s proposals always wait for a human' }),
    command: z.string(),
    guard: z.string().nullable().openapi({ description: 'Read-only check run first; exit 0 means the fix is already in place' }),
    risk: z.enum(['low', 'high']),
    reason: z.string(),
    policyReasons: z.array(z.string()),
    rollback: z.string().nullable(),
  })
  .openapi('ProposedAction');
same<Same<z.infer<typeof ProposedActionSchema>, ProposedAction>>();

export const ApprovalSchema = z
  .object({
    decision: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'auto', 'withdrawn']).openapi({
      description:
        '`auto`: the policy let low-risk runbook fixes run without a human; `withdrawn`: the incident was resolved elsewhere (PagerDuty) while the plan waited, nothing ran',
    }),
    planHash: z.string().openapi({ description: 'sha256 of the exact proposed commands; an approval is bound to it' }),
    requestedAt: Timestamp,
    deadline: Timestamp.nullable().openapi({ description: 'When the wait ends on its own (escalation)' }),
    by: z.string().nullable(),
    comment: z.string().nullable(),
    decidedAt: Timestamp.nullable(),
  })
  .openapi('Approval');
same<Same<z.infer<typeof ApprovalSchema>, ApprovalState>>();

export const HostCommandRunSchema = z
  .object({
    phase: z.enum(['diagnostic', 'guard', 'fix', 'verification', 'rollback']),
    id: z.string(),
    command: z.string(),
    allowedBy: z.string().openapi({ description: 'policy:read-only, policy:auto-low-risk, or approval:<who>' }),
    exitCode: z.number().int().nullable(),
    output: z.string().openapi({ description: 'Redacted, truncated' }),
    truncated: z.boolean(),
    timedOut: z.boolean(),
    durationMs: z.number(),
    at: Timestamp,
  })
  .openapi('HostCommandRun');
same<Same<z.infer<typeof HostCommandRunSchema>, HostCommandRun>>();

export const VerificationSchema = z.object({ passed: z.boolean(), failures: z.array(z.string()) }).openapi('Verification');

const FindingSchema = z
  .object({
    finding: z.string(),
    diagnostic: z.string(),
    evidence: z.string(),
    runbookId: z
      .string()
      .optional()
      .openapi({ description: 'Which runbook of a cause chain established it (absent for a single runbook)' }),
  })
  .openapi('Finding');

const CauseChainLinkSchema = z
  .object({
    runbookId: z.string(),
    title: z.string(),
    depth: z.number().int().openapi({ description: "0: the incident's runbook; n + 1: a cause found at depth n" }),
    because: z.string().nullable().openapi({ description: 'The finding that led here (null for the first runbook)' }),
  })
  .openapi('CauseChainLink');

const AnalysisSummarySchema = z
  .object({
    findings: z.array(FindingSchema),
    refused: z.array(RefusedCommandSchema),
    planHash: z.string().nullable(),
    rollback: z.string().nullable(),
    chain: z
      .array(CauseChainLinkSchema)
      .optional()
      .openapi({ description: "A compound fault: the runbooks followed from the incident's symptom to its cause" }),
  })
  .openapi('AnalysisSummary');
same<Same<z.infer<typeof AnalysisSummarySchema>, Pick<Analysis, 'findings' | 'refused' | 'planHash' | 'rollback' | 'chain'>>>();

export const IncidentTargetSchema = z
  .object({
    tagId: z.string(),
    hostname: z.string(),
    address: z.string(),
    port: z.number().int(),
    environment: z.string(),
    sshUser: z.string().nullable(),
    sshCredential: z.string().nullable().openapi({ description: 'Name of the credential; the secret never travels' }),
  })
  .openapi('IncidentTarget');
same<Same<z.infer<typeof IncidentTargetSchema>, IncidentTarget>>();

export const ResolvedElsewhereSchema = z
  .object({
    source: z.string().openapi({ example: 'PagerDuty' }),
    by: z.string().nullable(),
    at: Timestamp,
    outcome: z.enum(['received', 'stopped', 'noted']).openapi({
      description:
        '`stopped`: the run was still investigating or waiting for approval and ended without changing the host; `noted`: it was already changing the host and finished the change; `received`: not acted on yet',
    }),
  })
  .openapi('ResolvedElsewhere', { description: 'The incident was resolved in another tool while its run was open' });
same<Same<z.infer<typeof ResolvedElsewhereSchema>, ResolvedElsewhereState>>();

export const IncidentWorkflowStateSchema = z
  .object({
    incidentId: z.string(),
    status: z.enum(INCIDENT_STATUSES),
    currentStep: z.string().nullable(),
    steps: z.array(
      z.object({
        name: z.string().openapi({ description: 'Activity name, e.g. lookupCmdbItem' }),
        status: z.enum(['pending', 'running', 'completed', 'failed', 'skipped']),
        startedAt: Timestamp.nullable(),
        finishedAt: Timestamp.nullable(),
        detail: z.string().nullable(),
      }),
    ),
    target: orNull(IncidentTargetSchema),
    findings: z.array(z.string()),
    context: z.array(z.object({ note: z.string(), author: z.string(), at: Timestamp })),
    summary: z.string().nullable(),
    error: z.string().nullable(),
    plan: orNull(RemediationPlanSchema).optional(),
    metrics: orNull(MetricsSnapshotSchema).optional(),
    analysis: orNull(AnalysisSummarySchema).optional(),
    rootCause: z.string().nullable().optional(),
    proposedActions: z.array(ProposedActionSchema).optional(),
    approval: orNull(ApprovalSchema).optional(),
    commands: z.array(HostCommandRunSchema).optional(),
    verification: orNull(VerificationSchema).optional(),
    notifications: z.array(z.object({ notifier: z.string(), delivered: z.boolean(), detail: z.string() })).optional(),
    resolvedElsewhere: orNull(ResolvedElsewhereSchema).optional(),
  })
  .openapi('IncidentWorkflowState');
same<Same<z.infer<typeof IncidentWorkflowStateSchema>, IncidentWorkflowState>>();

/**
 * What the run wrote as its result: the state at the end (a run that stopped early, e.g. at an
 * unknown CMDB item, writes only some of these). Strings are redacted.
 */
export const ResultDetailsSchema = z
  .object({
    target: orNull(IncidentTargetSchema).optional(),
    plan: orNull(RemediationPlanSchema).optional(),
    metrics: orNull(MetricsSnapshotSchema).optional(),
    findings: z.array(z.string()).optional(),
    rootCause: z.string().nullable().optional(),
    proposedActions: z.array(ProposedActionSchema).optional(),
    approval: orNull(ApprovalSchema).optional(),
    commands: z.array(HostCommandRunSchema).optional(),
    verification: orNull(VerificationSchema).optional(),
    context: z.array(z.object({ note: z.string(), author: z.string(), at: Timestamp })).optional(),
    error: z.string().nullable().optional(),
    resolvedElsewhere: ResolvedElsewhereSchema.optional(),
    manual: z
      .object({
        recordedBy: z.string().openapi({ description: 'api-key:<id>, or the JWT subject' }),
        note: z.string().nullable().openapi({ description: 'The details the operator gave' }),
      })
      .optional()
      .openapi({ description: 'Present when an operator recorded the result by hand (POST /api/v1/storeResult)' }),
  })
  .openapi('IncidentResultDetails');
