import { FAILURE } from '../../core/contracts/failures.js';
import { ApplicationFailure } from '@temporalio/activity';
import { NotifierError, notServedReason, type IncidentOutcome, type Notifier, type NotifyTenants } from '../../adapters/notify/port.js';
import type { Store } from '../../adapters/store/port.js';
import { redactText, truncateText } from '../../core/redact.js';

export interface NotifyActivityDeps {
  store: Store;
  /** Configured ticketing and paging tools; empty: nothing is sent. */
  notifiers?: readonly Notifier[];
  /** The tenants those notifiers serve (INFRAAI_NOTIFY_TENANTS); absent: none. */
  notifyTenants?: NotifyTenants;
  /** External URL of the API, for links in notes (INFRAAI_PUBLIC_URL). */
  publicUrl?: string | null;
}

export interface NotifyInput {
  tenantId: string;
  incidentId: string;
  notifier: string;
  status: IncidentOutcome;
  summary: string;
  rootCause: string | null;
  actions: { command: string; outcome: string }[];
}

/** The last step of an incident run: its outcome posted to each configured tool, one activity per tool. */
export function createNotifyActivities({ store, notifiers = [], notifyTenants = [], publicUrl = null }: NotifyActivityDeps) {
  return {
    /** Names of the configured notifiers (recorded in history, so the run replays the same calls). */
    async listNotifiers(): Promise<string[]> {
      return notifiers.map((n) => n.name);
    },

    async notifyIncident(input: NotifyInput): Promise<{ notifier: string; delivered: boolean; detail: string }> {
      const notifier = notifiers.find((n) => n.name === input.notifier);
      if (!notifier) return { notifier: input.notifier, delivered: false, detail: 'not configured on this worker' };
      // The notifiers act with the deployment's credentials on the references the incident carries,
      // which its tenant chose: a tenant they do not serve would reach another's tickets and pages.
      const notServed = await notServedReason(notifyTenants, input.tenantId, store.tenants);
      if (notServed) return { notifier: notifier.name, delivered: false, detail: notServed };
      const incident = await store.incidents.get(input.tenantId, input.incidentId);
      if (!incident) throw ApplicationFailure.nonRetryable(`Incident ${input.incidentId} does not exist`, FAILURE.IncidentNotFound);
      try {
        const result = await notifier.notify({
          incidentNumber: incident.number,
          title: redactText(incident.title),
          status: input.status,
          summary: truncateText(redactText(input.summary), 4000),
          rootCause: input.rootCause ? redactText(input.rootCause) : null,
          actions: input.actions.map((a) => ({ command: redactText(a.command), outcome: a.outcome })),
          url: publicUrl ? `${publicUrl.replace(/\/$/, '')}/api/v1/incidents/${incident.id}` : null,
          external: incident.external,
        });
        // A ticket the notifier created is remembered, so later notices update it instead of opening another.
        if (result.external && Object.keys(result.external).length)
          await store.incidents.update(input.tenantId, input.incidentId, { external: result.external });
        return { notifier: notifier.name, delivered: result.delivered, detail: result.detail };
      } catch (err) {
        if (err instanceof NotifierError) {
          if (!err.retryable) throw ApplicationFailure.nonRetryable(err.message, FAILURE.NotificationRejected);
          throw ApplicationFailure.create({
            message: err.message,
            type: FAILURE.NotificationUnavailable,
            ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
          });
        }
        throw err;
      }
    },
  };
}
