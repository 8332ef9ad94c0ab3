import { z } from 'zod';
import { PAGERDUTY_STATUSES, PagerDutyError, type PagerDutyIncident, type PagerDutyIncidents } from '../adapters/pagerduty/port.js';
import { integrationClients } from './integration-clients.js';
import type { IntegrationSettings } from './integrations.js';
import type { ChatTool, ToolResult, ToolRunContext } from './tool.js';
import { boundedLines, oneLine, translateFailures, type PortFailure } from './tool-output.js';

// PagerDuty incidents as chat tools (REST API v2, through adapters/pagerduty): list and get read;
// acknowledge and resolve change the incident, so they run only after a confirmation of the exact
// call. PagerDuty records the change as made by the user of the configured fromEmail.

export interface PagerDutyToolsDeps {
  /** Builds a client from the caller's settings; the REST API v2 client by default. */
  connect?: (settings: IntegrationSettings<'pagerduty'>) => PagerDutyIncidents;
}

const pagerDutyId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,64}$/, 'a PagerDuty id (letters and digits, e.g. Q1ABCDEF2GHIJK)');
const incidentInput = z.strictObject({ id: pagerDutyId.describe('The incident id (not its number)') });

const listInput = z.strictObject({
  statuses: z
    .array(z.enum(PAGERDUTY_STATUSES))
    .min(1)
    .max(3)
    .default(['triggered', 'acknowledged'])
    .describe('Default: the open ones (triggered and acknowledged)'),
  serviceIds: z.array(pagerDutyId).min(1).max(10).optional().describe('Only incidents of these services'),
  since: z.iso.datetime({ offset: true }).optional().describe('Created at or after (ISO 8601)'),
  until: z.iso.datetime({ offset: true }).optional().describe('Created before (ISO 8601)'),
  limit: z.number().int().min(1).max(50).default(10),
  offset: z.number().int().min(0).max(10_000).default(0).describe('Skip this many (the next page starts at offset + limit)'),
});

export function createPagerDutyTools(deps: PagerDutyToolsDeps = {}): ChatTool[] {
  const connect = deps.connect ?? integrationClients.pagerduty;
  const client = async (context: ToolRunContext) => connect(await context.integration('pagerduty'));

  const list: ChatTool<z.output<typeof listInput>> = {
    name: 'pagerduty_list_incidents',
    description:
      'List PagerDuty incidents by status (triggered, acknowledged, resolved), newest first, optionally for some services or a ' +
      'time window. Returns id, number, status, urgency, service and assignees per incident.',
    input: listInput,
    integration: 'pagerduty',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => {
        const page = await (await client(context)).listIncidents(args, { signal: context.signal });
        const shown = page.incidents.length;
        const of = page.total !== null ? ` of ${page.total}` : '';
        const header =
          shown === 0 && page.offset > 0
            ? `No ${args.statuses.join(' or ')} PagerDuty incidents past offset ${page.offset}${page.total !== null ? `: ${page.total} match in all` : ''}.`
            : shown === 0
              ? `No ${args.statuses.join(' or ')} PagerDuty incident matches.`
              : `PagerDuty incidents ${page.offset + 1}–${page.offset + shown}${of} (${args.statuses.join(', ')})${page.more ? `; next page: offset ${page.offset + shown}` : ''}:`;
        return {
          content: boundedLines(header, page.incidents.map(summaryLine), 'narrow with statuses, serviceIds or since/until, or lower limit'),
          data: page,
          links: page.incidents.map((incident) => ({ title: `PagerDuty #${incident.number}`, url: incident.url })),
        };
      }, classify),
  };

  const get: ChatTool<z.output<typeof incidentInput>> = {
    name: 'pagerduty_get_incident',
    description: 'One PagerDuty incident by id: status, urgency, priority, service, escalation policy and who it is assigned to.',
    input: incidentInput,
    integration: 'pagerduty',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => detail(await (await client(context)).getIncident(args.id, { signal: context.signal }), ''), classify),
  };

  const acknowledge: ChatTool<z.output<typeof incidentInput>> = {
    name: 'pagerduty_acknowledge_incident',
    description: 'Acknowledge a triggered PagerDuty incident (needs the user to confirm): stops its escalation from paging further.',
    input: incidentInput,
    integration: 'pagerduty',
    role: 'operator',
    risk: () => 'change',
    run: (args, context) =>
      translateFailures(async () => {
        const incident = await (await client(context)).acknowledgeIncident(args.id, { signal: context.signal });
        return detail(incident, `Acknowledged PagerDuty incident #${incident.number}.`);
      }, classify),
  };

  const resolve: ChatTool<z.output<typeof incidentInput>> = {
    name: 'pagerduty_resolve_incident',
    description: 'Resolve a PagerDuty incident (needs the user to confirm). An incident that is already resolved stays resolved.',
    input: incidentInput,
    integration: 'pagerduty',
    role: 'operator',
    risk: () => 'change',
    run: (args, context) =>
      translateFailures(async () => {
        const { incident, alreadyResolved } = await (await client(context)).resolveIncident(args.id, { signal: context.signal });
        return detail(
          incident,
          alreadyResolved
            ? `PagerDuty incident #${incident.number} was already resolved.`
            : `Resolved PagerDuty incident #${incident.number}.`,
        );
      }, classify),
  };

  return [list, get, acknowledge, resolve];
}

function summaryLine(incident: PagerDutyIncident): string {
  const assignees = incident.assignees.length ? `, assigned to ${incident.assignees.join(', ')}` : '';
  return `${incident.id} #${incident.number} [${incident.status}, ${incident.urgency} urgency${incident.priority ? `, ${incident.priority}` : ''}] ${oneLine(incident.title, 120)} (service ${incident.service?.name ?? 'unknown'}${assignees}; created ${incident.createdAt})`;
}

function detail(incident: PagerDutyIncident, lead: string): ToolResult {
  const lines = [
    ...(lead ? [lead] : []),
    `PagerDuty incident #${incident.number} (${incident.id}): ${oneLine(incident.title, 200)}`,
    `Status ${incident.status}${incident.lastStatusChangeAt ? ` since ${incident.lastStatusChangeAt}` : ''}; urgency ${incident.urgency}; priority ${incident.priority ?? 'none'}`,
    `Service: ${incident.service ? `${incident.service.name} (${incident.service.id})` : 'unknown'}; escalation policy: ${incident.escalationPolicy ?? 'unknown'}`,
    `Assigned to: ${incident.assignees.length ? incident.assignees.join(', ') : 'nobody'}; created ${incident.createdAt}`,
    incident.url,
  ];
  return { content: lines.join('\n'), data: incident, links: [{ title: `PagerDuty #${incident.number}`, url: incident.url }] };
}

function classify(err: unknown): PortFailure | null {
  return err instanceof PagerDutyError ? err : null;
}
