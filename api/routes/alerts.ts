import type { z } from '@hono/zod-openapi';
import type { Store } from '../../adapters/store/port.js';
import { alertWorkflowId, type AlertSettings } from '../../core/contracts/alerts.js';
import { toPolicyAlert, type AlertmanagerAlert } from '../../core/ingress/alertmanager.js';
import { AlertDeliverySchema, AlertmanagerPayloadSchema } from '../alert-schemas.js';
import type { AlertWorkflowGateway } from '../temporal-gateway.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';

// Alertmanager's webhook (POST /api/v1/alerts): every alert of the notification is recorded (the
// input of policy simulation), every firing alert starts its run `alert-<fingerprint>-<startsAt>`
// (a retry, or the other member of an HA pair, joins it), every resolved alert tells its run. The
// answer comes once Temporal has every start and signal, so a 200 means nothing is lost; Temporal
// unreachable answers 503 and Alertmanager retries the whole notification, which joins what started.

/** Bearer (an API key) or basic auth whose password is an API key: what Alertmanager's http_config sends. */
export const ALERT_SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { basic: [] }, { apiKey: [] }];

type Delivery = z.infer<typeof AlertDeliverySchema>;
type Outcome = Delivery['alerts'][number]['outcome'];

export interface AlertRouteDeps {
  store: Store;
  alerts: AlertWorkflowGateway;
  /** What each run is started with (approval rules, resolution wait, escalation of unmatched alerts). */
  settings: AlertSettings;
}

export function alertRoutes({ store, alerts, settings }: AlertRouteDeps) {
  const app = createRouter();

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      operationId: 'receiveAlerts',
      tags: ['Alerts'],
      summary: 'Alertmanager webhook (payload version 4): each firing alert starts its self-healing run, each resolved one ends it',
      description:
        'Point an Alertmanager `webhook_config` here with `http_config.authorization.credentials` (or `basic_auth.password`) set to an ' +
        'API key of the operator role; the key’s tenant is the alerts’ tenant. Each firing alert starts the run ' +
        '`alert-<fingerprint>-<startsAt>`: a repeated notification (Alertmanager retries, both members of an HA pair) joins it. ' +
        'Each resolved alert signals its run; with no open run it is only recorded. Every alert is recorded for policy simulation. ' +
        'The workflow engine unreachable answers 503 (Alertmanager retries). A body over the API’s body limit (INFRAAI_BODY_LIMIT_BYTES) ' +
        'answers 413: keep `max_alerts` small enough for it.',
      security: ALERT_SECURITY,
      request: { body: jsonBody(AlertmanagerPayloadSchema) },
      responses: { 200: json(AlertDeliverySchema, 'Every alert recorded, every run started, joined or told') },
    }),
    async (c) => {
      const payload = c.req.valid('json');
      const principal = c.get('principal');
      const receivedAt = new Date();
      const sent: AlertmanagerAlert[] = payload.alerts.map((alert) => ({
        ...alert,
        // A resolved alert without endsAt resolved when it was reported.
        endsAt: alert.endsAt ?? receivedAt.toISOString(),
      }));
      // The run's id takes startsAt as sent (what a retry and the HA peer send again); the store and
      // the policies take it as an instant in UTC (an offset PostgreSQL cannot hold, like +20:00, is
      // still an instant).
      const asPolicyAlert = (alert: AlertmanagerAlert) => ({ ...toPolicyAlert(alert), startsAt: new Date(alert.startsAt).toISOString() });
      const handle = async (alert: AlertmanagerAlert): Promise<Outcome> => {
        const workflowId = alertWorkflowId(alert);
        if (alert.status === 'resolved') {
          const told = await alerts.signalResolved(workflowId, alert.endsAt);
          return told === 'signalled' ? 'resolved' : 'recorded';
        }
        const { outcome } = await alerts.start(workflowId, {
          tenantId: principal.tenantId,
          tenantSlug: principal.tenantSlug,
          alert: asPolicyAlert(alert),
          source: 'alertmanager',
          receivedAt: receivedAt.toISOString(),
          settings,
        });
        return outcome;
      };
      // The record and the runs at once: the answer waits for the slower, not for both in turn.
      const [recorded, ...handled] = await Promise.allSettled([
        store.alertEvents.append(principal.tenantId, 'alertmanager', receivedAt, sent.map(asPolicyAlert)),
        ...sent.map(handle),
      ]);
      const failure = [recorded, ...handled].find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // A store or engine outage is a 503 (its error handler's answer): Alertmanager sends the whole notification again.
      if (failure) throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
      const outcomes = handled.map((r) => (r as PromiseFulfilledResult<Outcome>).value);
      const count = (outcome: Outcome) => outcomes.filter((o) => o === outcome).length;
      const delivery: Delivery = {
        received: sent.length,
        started: count('started'),
        joined: count('joined'),
        resolved: count('resolved'),
        recorded: count('recorded'),
        truncatedAlerts: payload.truncatedAlerts,
        alerts: sent.map((alert, i) => ({
          fingerprint: alert.fingerprint,
          status: alert.status,
          workflowId: alertWorkflowId(alert),
          outcome: outcomes[i]!,
        })),
      };
      return c.json(delivery, 200);
    },
  );

  return app;
}
