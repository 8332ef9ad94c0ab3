import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createServiceNowClient } from '../adapters/servicenow/create.js';
import {
  INCIDENT_STATES,
  ServiceNowError,
  type IncidentStateName,
  type Level,
  type ServiceNowIncident,
  type ServiceNowIncidents,
} from '../adapters/servicenow/port.js';
import type { IntegrationSettings } from './integrations.js';
import type { ChatTool, ToolResult, ToolRunContext } from './tool.js';
import { boundedLines, clip, oneLine, translateFailures, type PortFailure } from './tool-output.js';

// ServiceNow incidents as chat tools (Table API, through adapters/servicenow): list and get read;
// create and update change the instance, so they run only after a confirmation of the exact call.

export interface ServiceNowToolsDeps {
  /** Builds a client from the caller's settings; the Table API client by default. */
  connect?: (settings: IntegrationSettings<'servicenow'>) => ServiceNowIncidents;
}

const STATE_NAMES = Object.keys(INCIDENT_STATES) as [IncidentStateName, ...IncidentStateName[]];
const LEVELS = { high: '1', medium: '2', low: '3' } as const satisfies Record<string, Level>;
const level = z.enum(['high', 'medium', 'low']);
const incidentRef = z
  .string()
  .trim()
  .regex(/^(?:[A-Za-z]{2,8}\d{4,12}|[0-9a-fA-F]{32})$/, 'an incident number (INC0010001) or a sys_id (32 hex characters)')
  .describe('The incident number (INC0010001) or its sys_id');
const groupSysId = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{32}$/, "the group's sys_id (32 hex characters), as servicenow_list_incidents shows it");

const listInput = z.strictObject({
  active: z.boolean().optional().describe('true: open incidents only; false: closed and canceled ones only'),
  states: z.array(z.enum(STATE_NAMES)).min(1).max(STATE_NAMES.length).optional().describe('Only incidents in these states'),
  assignmentGroup: z.string().trim().min(1).max(200).optional().describe("The assignment group's name or sys_id"),
  text: z.string().trim().min(2).max(200).optional().describe('Words to look for in the short description and description'),
  limit: z.number().int().min(1).max(50).default(10),
  offset: z.number().int().min(0).max(100_000).default(0).describe('Skip this many (the next page starts at offset + limit)'),
});

const createInput = z.strictObject({
  shortDescription: z.string().trim().min(3).max(160).describe('One line: what is wrong, and where'),
  description: z.string().max(4_000).optional(),
  urgency: level.default('medium'),
  impact: level.default('medium'),
  assignmentGroup: groupSysId.optional(),
  category: z.string().trim().min(1).max(40).optional().describe("A category value of the instance's choice list (software, network…)"),
});

const updateInput = z
  .strictObject({
    incident: incidentRef,
    state: z.enum(STATE_NAMES).optional().describe('Resolving or closing needs closeCode and closeNotes'),
    shortDescription: z.string().trim().min(3).max(160).optional(),
    description: z.string().max(4_000).optional(),
    urgency: level.optional(),
    impact: level.optional(),
    assignmentGroup: groupSysId.optional(),
    closeCode: z
      .string()
      .trim()
      .min(1)
      .max(80)
      .optional()
      .describe("Resolution code, from the instance's list (e.g. 'Solved (Permanently)')"),
    closeNotes: z.string().trim().min(1).max(4_000).optional(),
    workNote: z.string().trim().min(1).max(4_000).optional().describe('An internal work note added to the journal'),
  })
  .refine((args) => Object.keys(args).some((key) => key !== 'incident'), { message: 'give at least one field to change or a work note' });

export function createServiceNowTools(deps: ServiceNowToolsDeps = {}): ChatTool[] {
  const connect = deps.connect ?? ((settings) => createServiceNowClient(settings));
  const client = async (context: ToolRunContext) => connect(await context.integration('servicenow'));

  const list: ChatTool<z.output<typeof listInput>> = {
    name: 'servicenow_list_incidents',
    description:
      'List ServiceNow incidents, most recently updated first, filtered by open/closed, state, assignment group or words in the ' +
      'description. Returns number, state, priority, group and short description per incident, and the total for paging.',
    input: listInput,
    integration: 'servicenow',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => {
        const page = await (await client(context)).listIncidents(args, { signal: context.signal });
        const first = page.offset + 1;
        const header =
          page.total === 0
            ? 'No ServiceNow incident matches.'
            : page.incidents.length === 0
              ? `No ServiceNow incidents past offset ${page.offset}: ${page.total} match in all.`
              : `ServiceNow incidents ${first}–${page.offset + page.incidents.length} of ${page.total}${page.more ? ` (next page: offset ${page.offset + page.incidents.length})` : ''}:`;
        return {
          content: boundedLines(header, page.incidents.map(summaryLine), 'narrow with states, assignmentGroup or text, or lower limit'),
          data: { ...page, incidents: page.incidents.map((incident) => compact(incident, 500)) },
          links: page.incidents.map((incident) => ({ title: incident.number, url: incident.url })),
        };
      }, classify),
  };

  const get: ChatTool<{ incident: string }> = {
    name: 'servicenow_get_incident',
    description: 'One ServiceNow incident by number (INC0010001) or sys_id, with its description, resolution and assignment.',
    input: z.strictObject({ incident: incidentRef }),
    integration: 'servicenow',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => {
        const incident = await (await client(context)).getIncident(args.incident, { signal: context.signal });
        return detail(incident, '');
      }, classify),
  };

  const create: ChatTool<z.output<typeof createInput>> = {
    name: 'servicenow_create_incident',
    description:
      'Open a ServiceNow incident (needs the user to confirm). A retry of the same call returns the incident it created instead of opening another.',
    input: createInput,
    integration: 'servicenow',
    role: 'operator',
    risk: () => 'change',
    run: (args, context) =>
      translateFailures(async () => {
        const { incident, created } = await (
          await client(context)
        ).createIncident({ ...args, urgency: LEVELS[args.urgency], impact: LEVELS[args.impact] }, correlationIdFor(context.callKey), {
          signal: context.signal,
        });
        return detail(
          incident,
          created ? `Created ${incident.number}.` : `${incident.number} was already created by an earlier attempt of this call.`,
        );
      }, classify),
  };

  const update: ChatTool<z.output<typeof updateInput>> = {
    name: 'servicenow_update_incident',
    description:
      'Change a ServiceNow incident (needs the user to confirm): state, descriptions, urgency, impact, assignment group, resolution ' +
      'code and notes, and/or add an internal work note. Resolving needs closeCode and closeNotes.',
    input: updateInput,
    integration: 'servicenow',
    role: 'operator',
    risk: () => 'change',
    run: ({ incident: ref, urgency, impact, ...changes }, context) =>
      translateFailures(async () => {
        const incident = await (
          await client(context)
        ).updateIncident(
          ref,
          {
            ...changes,
            urgency: urgency && LEVELS[urgency],
            impact: impact && LEVELS[impact],
            // A retried call (its worker lost after ServiceNow took the note) does not add the note twice.
            workNoteKey: correlationIdFor(context.callKey),
          },
          { signal: context.signal },
        );
        return detail(incident, `Updated ${incident.number}.`);
      }, classify),
  };

  return [list, get, create, update];
}

/**
 * The record's correlation_id for a create: the call key itself when it fits ServiceNow's
 * 100-character field and an encoded query, else a digest of it (the same key always gives the
 * same id, so a retried call finds what the first attempt created).
 */
export function correlationIdFor(callKey: string): string {
  const plain = `infraai:chat:${callKey}`;
  if (plain.length <= 100 && /^[\w.:/@#-]+$/.test(plain)) return plain;
  return `infraai:chat:sha256:${createHash('sha256').update(callKey).digest('hex').slice(0, 48)}`;
}

function summaryLine(incident: ServiceNowIncident): string {
  const group = incident.assignmentGroup ? `group ${incident.assignmentGroup.name} (${incident.assignmentGroup.sysId})` : 'no group';
  const assignee = incident.assignedTo ? `, assigned to ${incident.assignedTo.name}` : '';
  return `${incident.number} [${incident.state.label}] ${incident.priority}: ${oneLine(incident.shortDescription, 120)} (${group}${assignee}; updated ${incident.updatedAt})`;
}

function detail(incident: ServiceNowIncident, lead: string): ToolResult {
  const lines = [
    ...(lead ? [lead] : []),
    `${incident.number}: ${oneLine(incident.shortDescription, 160)}`,
    `State ${incident.state.label}${incident.active ? '' : ' (inactive)'}; priority ${incident.priority}; urgency ${incident.urgency}; impact ${incident.impact}`,
    `Assignment group: ${incident.assignmentGroup ? `${incident.assignmentGroup.name} (${incident.assignmentGroup.sysId})` : 'none'}; assigned to: ${incident.assignedTo?.name ?? 'nobody'}; caller: ${incident.caller?.name ?? 'none'}`,
    `Opened ${incident.openedAt}; updated ${incident.updatedAt}${incident.category ? `; category ${incident.category}` : ''}`,
    ...(incident.description ? [`Description: ${clip(incident.description, 2_000)}`] : []),
    ...(incident.closeCode || incident.closeNotes
      ? [`Resolution: ${incident.closeCode}${incident.closeNotes ? ` — ${clip(incident.closeNotes, 800)}` : ''}`]
      : []),
    `sys_id ${incident.sysId}; ${incident.url}`,
  ];
  return { content: lines.join('\n'), data: compact(incident, 2_000), links: [{ title: incident.number, url: incident.url }] };
}

/** The record for data: long texts cut, so a page of incidents stays a small payload (a transcript entry, a workflow event). */
function compact(incident: ServiceNowIncident, maxText: number): ServiceNowIncident {
  return { ...incident, description: clip(incident.description, maxText), closeNotes: clip(incident.closeNotes, maxText) };
}

function classify(err: unknown): PortFailure | null {
  return err instanceof ServiceNowError ? err : null;
}
