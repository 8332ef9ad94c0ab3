import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  isCancellation,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { FAILURE } from '../../core/contracts/failures.js';
import {
  addIncidentContextSignal,
  INCIDENT_WORKFLOW_TYPE,
  incidentWorkflowId,
  resolvedElsewhereSignal,
  SEARCH_ATTRIBUTES,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import {
  PAGERDUTY_MAX_FORWARDED_NOTES,
  PAGERDUTY_SERVICE_TAG,
  PAGERDUTY_UNMAPPED_WAIT_MS,
  type PagerDutyIncidentInput,
  type PagerDutyRunState,
} from '../../core/contracts/pagerduty.js';
import type { PagerDutyUpdate } from '../../core/ingress/pagerduty.js';
import { failureMessage } from '../runs/failures.js';
import { pagerDutySteps } from './activities.js';
import { PagerDutyRun } from './run-state.js';

type IncidentWorkflow = (input: RemediateIncidentInput) => Promise<IncidentWorkflowState>;

/**
 * A PagerDuty incident's run within a tenant (`pd-<PagerDuty incident id>`, `…@<tenant slug>` for a
 * tenant other than the PagerDuty tenant; started by incident.triggered through the webhook or the
 * SQS bridge): the CMDB item of its PagerDuty service → the InfraAI incident row →
 * the remediation run (`incident-<row id>`, a child) → every later PagerDuty event handed to that run,
 * each event id once (a note as context, a resolution as resolvedElsewhere). It ends with the
 * remediation run; a service that maps to no CMDB item leaves the incident with on-call and the run
 * waits, up to 7 days, for it to be resolved.
 */
export async function pagerDutyIncident(input: PagerDutyIncidentInput): Promise<PagerDutyRunState> {
  const run = new PagerDutyRun(input);
  const { state } = run;
  const { incident } = input;
  try {
    const target = await pagerDutySteps.resolvePagerDutyTarget({ tenantId: input.tenantId, serviceId: incident.serviceId });
    if (!target) return await unmapped(run);
    state.tagId = target.tagId;
    if (run.resolved) {
      run.stopRelaying();
      state.status = 'resolved_elsewhere';
      state.summary = `Resolved in PagerDuty${by(run.resolved)} before InfraAI recorded it: nothing was done.`;
      return state;
    }

    const row = await pagerDutySteps.recordPagerDutyIncident({
      tenantId: input.tenantId,
      tagId: target.tagId,
      incident,
      via: input.via,
    });
    state.incidentId = row.incidentId;
    state.incidentNumber = row.number;
    state.remediationWorkflowId = incidentWorkflowId(row.incidentId);
    if (!row.created && row.status !== 'open') {
      // A run of this PagerDuty incident before this one (its id outlived Temporal's retention) recorded it.
      run.stopRelaying();
      state.status = 'completed';
      state.summary = `PagerDuty incident ${incident.id} is already INC-${row.number} (${row.status}); no second remediation was started.`;
      return state;
    }

    let child: ChildWorkflowHandle<IncidentWorkflow>;
    try {
      child = await startChild<IncidentWorkflow>(INCIDENT_WORKFLOW_TYPE, {
        workflowId: incidentWorkflowId(row.incidentId),
        args: [
          {
            tenantId: input.tenantId,
            tenantSlug: input.tenantSlug,
            incidentId: row.incidentId,
            incidentNumber: row.number,
            severity: row.severity,
            tagId: target.tagId,
            settings: row.settings,
          },
        ],
        // The incident run is an InfraAI incident in its own right (the API reads, approves and
        // cancels it by its id): this run ending, being cancelled or terminated never cuts it short.
        parentClosePolicy: 'ABANDON',
        cancellationType: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // What the API sets when it starts an incident run (api/temporal-gateway.ts).
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.tenant, value: input.tenantSlug },
          { key: SEARCH_ATTRIBUTES.severity, value: row.severity },
          { key: SEARCH_ATTRIBUTES.incidentStatus, value: 'open' },
          { key: SEARCH_ATTRIBUTES.targetHost, value: target.hostname },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      run.stopRelaying();
      state.status = 'completed';
      state.summary = `INC-${row.number}'s remediation run ${incidentWorkflowId(row.incidentId)} already exists; this run did not start another.`;
      return state;
    }
    state.status = 'remediating';
    const others = target.alsoMapped.length ? ` (also tagged: ${target.alsoMapped.join(', ')}; the first by tagId was taken)` : '';
    state.summary = `INC-${row.number}: remediating ${target.hostname} (CMDB item ${target.tagId}${others}).`;

    const ended = await relayUntilEnded(run, child);
    run.stopRelaying();
    if (!ended.ok) throw ended.error;
    const result = ended.value;
    state.status = result.resolvedElsewhere?.outcome === 'stopped' ? 'resolved_elsewhere' : 'completed';
    state.summary = `INC-${row.number} ${result.status}: ${result.summary ?? 'no summary'}`;
    return state;
  } catch (err) {
    run.stopRelaying();
    if (isCancellation(err)) {
      state.summary = `Cancelled.${state.remediationWorkflowId ? ` The remediation run ${state.remediationWorkflowId} goes on on its own.` : ''}`;
      throw err;
    }
    state.status = 'failed';
    const reason = err instanceof ChildWorkflowFailure && err.cause ? err.cause.message : failureMessage(err);
    state.summary = `The PagerDuty run failed: ${reason}`;
    throw ApplicationFailure.nonRetryable(state.summary, FAILURE.PagerDutyRunFailed);
  }
}

/** No CMDB item carries the service's tag: the incident stays with on-call; wait for its resolution, bounded. */
async function unmapped(run: PagerDutyRun): Promise<PagerDutyRunState> {
  const { state } = run;
  const { incident } = run.input;
  run.stopRelaying();
  state.status = 'unmapped';
  const why = incident.serviceId
    ? `no CMDB item carries the tag ${PAGERDUTY_SERVICE_TAG}=${incident.serviceId}${incident.serviceName ? ` (service ${incident.serviceName})` : ''}`
    : 'the event names no PagerDuty service';
  state.summary = `Not remediated: ${why}. The incident stays with on-call; this run waits for it to be resolved.`;
  const resolved = await condition(() => run.resolved !== null, PAGERDUTY_UNMAPPED_WAIT_MS);
  state.summary = resolved
    ? `Not remediated: ${why}. Resolved in PagerDuty${by(run.resolved!)}.`
    : `Not remediated: ${why}. Not resolved within 7 days: this run ended (later events of the incident find no run).`;
  return state;
}

type Ended = { ok: true; value: IncidentWorkflowState } | { ok: false; error: unknown };

/** Hands each applied event to the incident run, in order, until that run ends; returns how it ended. */
async function relayUntilEnded(run: PagerDutyRun, child: ChildWorkflowHandle<IncidentWorkflow>): Promise<Ended> {
  let ended: Ended | null = null;
  const result = child.result().then(
    (value) => (ended = { ok: true, value }),
    (error: unknown) => (ended = { ok: false, error }),
  );
  for (;;) {
    await condition(() => ended !== null || run.pending.length > 0);
    if (ended) break;
    const { update, entry } = run.pending.shift()!;
    const isResolution = update.eventType === 'incident.resolved';
    if (!isResolution && run.state.forwardedNotes >= PAGERDUTY_MAX_FORWARDED_NOTES) {
      entry.handling = 'not_forwarded';
      continue;
    }
    try {
      if (isResolution) {
        await child.signal(resolvedElsewhereSignal, { source: 'PagerDuty', by: update.by, at: update.occurredAt });
      } else {
        await child.signal(addIncidentContextSignal, { note: noteOf(update), author: update.by ? `pagerduty:${update.by}` : 'pagerduty' });
        run.state.forwardedNotes += 1;
      }
      entry.handling = 'forwarded';
    } catch {
      // The incident run ended meanwhile: there is nobody to tell.
      entry.handling = 'not_forwarded';
    }
  }
  await result;
  return ended!;
}

/** "PagerDuty incident.annotated by Alice: restarting the pool now" */
export function noteOf(update: PagerDutyUpdate): string {
  return `PagerDuty ${update.eventType}${update.by ? ` by ${update.by}` : ''}${update.text ? `: ${update.text}` : ''}`;
}

function by(update: PagerDutyUpdate): string {
  return update.by ? ` by ${update.by}` : '';
}
