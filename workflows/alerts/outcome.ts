import type { AlertRunState, HandleAlertInput } from '../../core/contracts/alerts.js';

/** How an action ended: done (the job's verdict), or not attempted because the alert resolved first. */
export type ActionResult = { kind: 'done'; succeeded: boolean; detail: string } | { kind: 'resolved_before_action'; detail: string };

export const failed = (detail: string): ActionResult => ({ kind: 'done', succeeded: false, detail });
export const succeeded = (detail: string): ActionResult => ({ kind: 'done', succeeded: true, detail });

/** A run's state before its first step. */
export function initialAlertState(input: HandleAlertInput, workflowId: string): AlertRunState {
  const { fingerprint, startsAt, labels } = input.alert;
  return {
    workflowId,
    status: 'deciding',
    alert: { fingerprint, startsAt, labels },
    jobId: null,
    policy: null,
    action: null,
    tagId: null,
    risk: null,
    approval: null,
    commands: [],
    child: null,
    incidents: [],
    outcome: null,
    resolvedAt: null,
    currentStep: null,
    steps: [],
    summary: null,
    error: null,
  };
}
