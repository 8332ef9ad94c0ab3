import { createHash } from 'node:crypto';
import {
  isGrpcServiceError,
  NamespaceNotFoundError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { getGrpcStatusDetails, trimGrpcTypeUrl } from '@temporalio/client/lib/helpers.js';
import {
  PAGERDUTY_WORKFLOW_TYPE,
  pagerDutyEventSignal,
  type PagerDutyIncidentInput,
  type PagerDutyIngressPath,
} from '../core/contracts/pagerduty.js';
import { SEARCH_ATTRIBUTES } from '../core/contracts/incident.js';
import { relayPagerDutyEvent, type PagerDutyEventEnvelope, type PagerDutyUpdate } from '../core/ingress/pagerduty.js';

// The one place a PagerDuty event becomes a Temporal call, used by the webhook route and the SQS
// bridge: `incident.triggered` starts the incident's run (a repeat joins it: the id is the dedupe),
// every later event signals that run (with the event's own request id, so Temporal keeps one signal
// per event in the run's history, and the run applies each event id once besides), the rest is ignored.
// Whichever path delivers an event, and however often, it has one effect.
//
// The run is the incident's within the event's tenant: `pd-<incident id>` for the PagerDuty tenant
// (INFRAAI_PAGERDUTY_TENANT, whose events PagerDuty itself delivers), `pd-<incident id>@<slug>` for
// any other (core/ingress/pagerduty.ts pagerDutyWorkflowId), so one tenant's event never starts,
// joins or signals another tenant's run. The signal names its tenant too, and the run refuses an
// update of another tenant (workflows/pagerduty/run-state.ts).

export type RelayOutcome =
  | { kind: 'started'; workflowId: string; runId: string }
  /** The run already existed (a repeat of the trigger, by this path or the other). */
  | { kind: 'joined'; workflowId: string }
  | { kind: 'signalled'; workflowId: string }
  /** A later event for an incident with no open run (triggered before InfraAI listened, or its run has ended). */
  | { kind: 'no_run'; workflowId: string; reason: string }
  | { kind: 'ignored'; reason: string };

export interface RelayContext {
  tenantId: string;
  tenantSlug: string;
  via: PagerDutyIngressPath;
}

/** Temporal did not accept the event (unreachable, overloaded): the caller keeps it and tries again. */
export class RelayUnavailableError extends Error {
  override readonly name = 'RelayUnavailableError';
}

export interface PagerDutyRelayer {
  relay(envelope: PagerDutyEventEnvelope, context: RelayContext): Promise<RelayOutcome>;
}

// gRPC codes that mean "not now" (retry later) rather than "never".
const RETRYABLE_CODES = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */,
]);

function unavailable(err: unknown): RelayUnavailableError {
  return new RelayUnavailableError(`Temporal did not accept the event: ${(err as Error).message ?? String(err)}`, { cause: err });
}

export interface PagerDutyRelayerOptions {
  taskQueue: string;
  /** INFRAAI_PAGERDUTY_TENANT (config.pagerDuty.tenantSlug): the tenant whose runs are `pd-<incident id>`. */
  pagerDutyTenantSlug: string;
  timeoutMs?: number;
}

export function createPagerDutyRelayer(client: Client, options: PagerDutyRelayerOptions): PagerDutyRelayer {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const withDeadline = <T>(fn: () => Promise<T>): Promise<T> => client.connection.withDeadline(Date.now() + timeoutMs, fn);

  return {
    async relay(envelope, context) {
      const tenantScope = context.tenantSlug === options.pagerDutyTenantSlug ? null : context.tenantSlug;
      const decision = relayPagerDutyEvent(envelope, { tenantScope });
      if (decision.kind === 'ignore') return { kind: 'ignored', reason: decision.reason };
      if (decision.kind === 'start') {
        const input: PagerDutyIncidentInput = {
          tenantId: context.tenantId,
          tenantSlug: context.tenantSlug,
          eventId: decision.eventId,
          incident: decision.incident,
          via: context.via,
        };
        try {
          const handle = await withDeadline(() =>
            client.workflow.start(PAGERDUTY_WORKFLOW_TYPE, {
              workflowId: decision.workflowId,
              taskQueue: options.taskQueue,
              args: [input],
              // A closed run is never started again by a late repeat of its trigger.
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              workflowIdConflictPolicy: 'FAIL',
              typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenant, value: context.tenantSlug }],
            }),
          );
          return { kind: 'started', workflowId: decision.workflowId, runId: handle.firstExecutionRunId };
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'joined', workflowId: decision.workflowId };
          throw unavailableOr(err);
        }
      }
      try {
        const update: PagerDutyUpdate = { ...decision.update, tenantId: context.tenantId };
        await withDeadline(() => signalOnce(client, decision.workflowId, update));
        return { kind: 'signalled', workflowId: decision.workflowId };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5 && !namespaceNotFound(err))) {
          return {
            kind: 'no_run',
            workflowId: decision.workflowId,
            reason: `${decision.update.eventType}: no open run ${decision.workflowId}`,
          };
        }
        throw unavailableOr(err);
      }
    },
  };
}

/**
 * The request id of an event's signal: the same for every delivery of the event, so Temporal itself
 * drops a repeat to the same run (the server keeps the signal request ids a run has seen) and the
 * run's history holds each event once, however often SQS redelivers it or the webhook repeats it.
 */
export function pagerDutySignalRequestId(eventId: string): string {
  const hex = createHash('sha256').update(`infraai:pagerduty-event:${eventId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Signals the run with the event's own request id. The SDK's handle.signal draws a random request id
 * for every call, which would make each delivery a signal of its own; this is the same request with
 * the id fixed (the payload encoded by the client's data converter, codecs included).
 */
async function signalOnce(client: Client, workflowId: string, update: PagerDutyUpdate): Promise<void> {
  const converter = client.options.loadedDataConverter;
  let payloads = [converter.payloadConverter.toPayload(update)];
  for (const codec of converter.payloadCodecs) payloads = await codec.encode(payloads);
  await client.workflowService.signalWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId },
    signalName: pagerDutyEventSignal.name,
    input: { payloads },
    identity: client.options.identity,
    requestId: pagerDutySignalRequestId(update.eventId),
  });
}

/** NOT_FOUND about the namespace, not the run: a misconfiguration, never "no run to signal". */
function namespaceNotFound(err: Parameters<typeof getGrpcStatusDetails>[0]): boolean {
  return (getGrpcStatusDetails(err) ?? []).some(
    (detail) => trimGrpcTypeUrl(detail.type_url) === 'temporal.api.errordetails.v1.NamespaceNotFoundFailure',
  );
}

/**
 * "Not now" (RelayUnavailableError: unreachable, overloaded, deadline) or the error itself when
 * Temporal refused for good (an unknown namespace, an invalid request). The client wraps a start's
 * gRPC error in a ServiceError: its cause carries the code.
 */
function unavailableOr(err: unknown): Error {
  if (err instanceof NamespaceNotFoundError) return err;
  const grpc = isGrpcServiceError(err) ? err : err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : null;
  if (grpc && !RETRYABLE_CODES.has(grpc.code)) return err as Error;
  // Connection errors (no gRPC code) and deadline expiry are "not now" too.
  return unavailable(err);
}
