// The ServiceNow port: incidents on an instance's incident table, for the chat tools (list, get,
// create, update). table-api.ts speaks the Table API; create.ts builds a client from a caller's
// integration settings. Every failure is a ServiceNowError: retryable for 408, 429, 5xx, timeouts
// and network errors (with Retry-After when the instance sent it), not for anything else.

import { ServiceCallError } from '../http/service-error.js';

/** The state names of the out-of-the-box incident state model, and their values. */
export const INCIDENT_STATES = { new: '1', in_progress: '2', on_hold: '3', resolved: '6', closed: '7', canceled: '8' } as const;
export type IncidentStateName = keyof typeof INCIDENT_STATES;

/** A reference field: the sys_id and what the instance displays for it. */
export interface Reference {
  sysId: string;
  name: string;
}

export interface ServiceNowIncident {
  sysId: string;
  number: string;
  /** The state's value ('2') and label ('In Progress'). */
  state: { value: string; label: string };
  active: boolean;
  shortDescription: string;
  description: string;
  /** Labels as the instance shows them: '1 - Critical', '2 - Medium'. */
  priority: string;
  urgency: string;
  impact: string;
  assignmentGroup: Reference | null;
  assignedTo: Reference | null;
  caller: Reference | null;
  category: string;
  /** As the instance displays them (the instance's timezone and format). */
  openedAt: string;
  updatedAt: string;
  closeCode: string;
  closeNotes: string;
  correlationId: string;
  /** The record in the instance's UI. */
  url: string;
}

export interface IncidentFilter {
  /** Only open (active) incidents, or only inactive ones. */
  active?: boolean | undefined;
  states?: IncidentStateName[] | undefined;
  /** A group's sys_id, or its name. */
  assignmentGroup?: string | undefined;
  /** Words looked for in the short description and the description. */
  text?: string | undefined;
  /** 1–100; default 20. */
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface IncidentPage {
  incidents: ServiceNowIncident[];
  /** X-Total-Count: how many match the filter in all. */
  total: number;
  offset: number;
  limit: number;
  /** Another page follows this one. */
  more: boolean;
}

export type Level = '1' | '2' | '3';

export interface NewIncident {
  shortDescription: string;
  description?: string | undefined;
  /** 1 High, 2 Medium, 3 Low. */
  urgency?: Level | undefined;
  impact?: Level | undefined;
  /** sys_id of the assignment group. */
  assignmentGroup?: string | undefined;
  category?: string | undefined;
}

export interface IncidentChanges {
  state?: IncidentStateName | undefined;
  shortDescription?: string | undefined;
  description?: string | undefined;
  urgency?: Level | undefined;
  impact?: Level | undefined;
  assignmentGroup?: string | undefined;
  /** Resolution code and notes: the instance requires both to resolve or close. */
  closeCode?: string | undefined;
  closeNotes?: string | undefined;
  /** A journal entry (work notes are internal; the caller does not see them). */
  workNote?: string | undefined;
  /**
   * Makes the work note single: the note ends with this key, and an update that finds a note with it
   * on the incident (an earlier attempt of the same call wrote it) does not add it again. Fields are
   * set, not added, so repeating them changes nothing. Same characters as a correlation id.
   */
  workNoteKey?: string | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ServiceNowIncidents {
  /** Incidents matching the filter, newest change first, one page. */
  listIncidents(filter: IncidentFilter, options?: CallOptions): Promise<IncidentPage>;
  /** By number (INC0010001) or sys_id; ServiceNowNotFoundError when there is none. */
  getIncident(ref: string, options?: CallOptions): Promise<ServiceNowIncident>;
  /**
   * Creates an incident with correlation_id = `correlationId`, or returns the one an earlier call
   * with the same id created (`created: false`): a retried create does not open a second record.
   */
  createIncident(
    fields: NewIncident,
    correlationId: string,
    options?: CallOptions,
  ): Promise<{ incident: ServiceNowIncident; created: boolean }>;
  /** Updates fields and adds a work note (once per `workNoteKey`); by number or sys_id. */
  updateIncident(ref: string, changes: IncidentChanges, options?: CallOptions): Promise<ServiceNowIncident>;
}

export class ServiceNowError extends ServiceCallError {
  override readonly name: string = 'ServiceNowError';
}

export class ServiceNowNotFoundError extends ServiceNowError {
  override readonly name = 'ServiceNowNotFoundError';
  constructor(message: string) {
    super(message, { retryable: false, status: 404 });
  }
}
