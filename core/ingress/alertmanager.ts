import type { PolicyAlert } from '../policies/model.js';

// Alertmanager's webhook (payload version 4) and the identity of an alert's run. Plain types
// (workflow-safe); the API validates the payload with zod before calling these.

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

/**
 * The one workflow id of an alert's run: the fingerprint names the label set, startsAt the firing
 * episode. Alertmanager's retries, and both members of an HA pair, send the same two values, so all
 * of them start one run; the same alert firing again later (a new startsAt) is a new run.
 */
export function alertWorkflowId(alert: Pick<AlertmanagerAlert, 'fingerprint' | 'startsAt'>): string {
  return `alert-${alert.fingerprint}-${alert.startsAt}`;
}

export function toPolicyAlert(alert: AlertmanagerAlert): PolicyAlert {
  return {
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
    fingerprint: alert.fingerprint,
    startsAt: alert.startsAt,
  };
}
