import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { IncidentActivities } from '../activities/incident.js';
import type { IncidentStatus } from '../core/incident.js';
import {
  addIncidentContextSignal,
  incidentStateQuery,
  SEARCH_ATTRIBUTES,
  type IncidentStepName,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../core/incident-workflow.js';
import { STORE_STEP } from './activity-options.js';

const { recordIncident, lookupCmdbItem, writeIncidentResult } = proxyActivities<IncidentActivities>(STORE_STEP);

/**
 * The incident run: record → CMDB lookup → (remediation stages slot in here) → result write.
 * Its state is queryable at any time, its status mirrors into the IncidentStatus search attribute,
 * and a cancellation still writes a `cancelled` result before the run ends.
 */
export async function remediateIncident(input: RemediateIncidentInput): Promise<IncidentWorkflowState> {
  const ref = { tenantId: input.tenantId, incidentId: input.incidentId };
  const state: IncidentWorkflowState = {
    incidentId: input.incidentId,
    status: 'open',
    currentStep: null,
    steps: [],
    target: null,
    findings: [],
    context: [],
    summary: null,
    error: null,
  };

  setHandler(incidentStateQuery, () => state);
  setHandler(addIncidentContextSignal, ({ note, author }) => {
    state.context.push({ note: note.slice(0, 2000), author: author.slice(0, 200), at: new Date().toISOString() });
  });

  function setStatus(status: IncidentStatus): void {
    state.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.incidentStatus, value: status }]);
  }

  async function step<T>(name: IncidentStepName, run: () => Promise<T>): Promise<T> {
    const entry = { name, status: 'running' as const, startedAt: new Date().toISOString(), finishedAt: null, detail: null };
    state.steps.push(entry);
    state.currentStep = name;
    const index = state.steps.length - 1;
    try {
      const value = await run();
      state.steps[index] = { ...entry, status: 'completed', finishedAt: new Date().toISOString() };
      return value;
    } catch (err) {
      const detail = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      state.steps[index] = { ...entry, status: 'failed', finishedAt: new Date().toISOString(), detail };
      throw err;
    } finally {
      state.currentStep = null;
    }
  }

  async function finish(status: IncidentStatus, summary: string, details: Record<string, unknown>): Promise<void> {
    state.summary = summary;
    await step('writeIncidentResult', () => writeIncidentResult({ ...ref, status, summary, details }));
    setStatus(status);
  }

  try {
    await step('recordIncident', () => recordIncident(ref));
    setStatus('investigating');

    const target = await step('lookupCmdbItem', () => lookupCmdbItem({ ...ref, tagId: input.tagId }));
    if (!target) {
      state.findings.push(`CMDB item '${input.tagId}' no longer exists; the target cannot be reached.`);
      await finish('escalated', `CMDB item '${input.tagId}' not found: escalated to on-call.`, {
        findings: state.findings,
        context: state.context,
      });
      return state;
    }
    state.target = target;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.targetHost, value: target.hostname }]);
    state.findings.push(
      `Target ${target.hostname} (${target.address}:${target.port}, ${target.environment}) resolved from CMDB item '${target.tagId}'.`,
    );

    // Remediation stages (knowledge retrieval, diagnostics, approval, resolution, verification)
    // arrive with the remediation pipeline; until then the run hands the triaged incident to a human.
    await finish('escalated', `Target ${target.hostname} identified; no automated remediation stage is enabled, escalated to on-call.`, {
      target,
      findings: state.findings,
      context: state.context,
    });
    return state;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        finish('cancelled', 'Cancelled by request before the run finished.', { findings: state.findings, context: state.context }),
      );
      throw err;
    }
    state.error = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
    if (isIncidentGone(err)) {
      throw ApplicationFailure.nonRetryable(`Incident run failed: ${state.error}`, 'IncidentNotFound');
    }
    await CancellationScope.nonCancellable(() =>
      finish('failed', `Run failed: ${state.error}`, { findings: state.findings, error: state.error }),
    ).catch(() => undefined);
    throw ApplicationFailure.nonRetryable(`Incident run failed: ${state.error}`, 'IncidentRunFailed');
  }
}

function isIncidentGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'IncidentNotFound';
}
