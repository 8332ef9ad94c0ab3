// The PagerDuty port: incidents through the REST API v2, for the chat tools (list by status, get,
// acknowledge, resolve). rest-v2.ts speaks the API; create.ts builds a client from a caller's
// integration settings. Every failure is a PagerDutyError: retryable for 408, 429, 5xx, timeouts
// and network errors (with Retry-After or ratelimit-reset when PagerDuty sent one), not otherwise.

import { ServiceCallError } from '../http/service-error.js';

export const PAGERDUTY_STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
export type PagerDutyStatus = (typeof PAGERDUTY_STATUSES)[number];

export interface PagerDutyIncident {
  id: string;
  number: number;
  title: string;
  status: PagerDutyStatus;
  urgency: string;
  /** The priority's name (P1…), when the account uses priorities and one is set. */
  priority: string | null;
  service: { id: string; name: string } | null;
  /** Who it is assigned to now (names as PagerDuty shows them). */
  assignees: string[];
  escalationPolicy: string | null;
  createdAt: string;
  lastStatusChangeAt: string | null;
  /** The incident in PagerDuty's web UI. */
  url: string;
}

export interface PagerDutyIncidentFilter {
  /** Default: triggered and acknowledged (the open ones). */
  statuses?: PagerDutyStatus[] | undefined;
  serviceIds?: string[] | undefined;
  /** ISO 8601: incidents created in [since, until). */
  since?: string | undefined;
  until?: string | undefined;
  /** 1–100; default 25. */
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface PagerDutyIncidentPage {
  incidents: PagerDutyIncident[];
  limit: number;
  offset: number;
  /** Another page follows this one. */
  more: boolean;
  /** How many match in all (asked for with total=true; null when PagerDuty did not say). */
  total: number | null;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface PagerDutyIncidents {
  listIncidents(filter: PagerDutyIncidentFilter, options?: CallOptions): Promise<PagerDutyIncidentPage>;
  /** PagerDutyNotFoundError when there is none. */
  getIncident(id: string, options?: CallOptions): Promise<PagerDutyIncident>;
  acknowledgeIncident(id: string, options?: CallOptions): Promise<PagerDutyIncident>;
  /** Resolving a resolved incident is not an error: `alreadyResolved` says someone was first. */
  resolveIncident(id: string, options?: CallOptions): Promise<{ incident: PagerDutyIncident; alreadyResolved: boolean }>;
}

export class PagerDutyError extends ServiceCallError {
  override readonly name: string = 'PagerDutyError';
}

export class PagerDutyNotFoundError extends PagerDutyError {
  override readonly name = 'PagerDutyNotFoundError';
  constructor(message: string) {
    super(message, { retryable: false, status: 404 });
  }
}
