import { z } from 'zod';
import type { Store } from '../../adapters/store/port.js';
import {
  BUILTIN_TOOL,
  type IncidentDetailData,
  type IncidentStatusFilter,
  type IncidentsListData,
  type IncidentSummary,
  type RemediationStartedData,
} from '../../core/chat/builtin-tools.js';
import type { ChatChildRun } from '../../core/contracts/chat.js';
import type { IncidentRunProjectionState } from '../../core/contracts/incident.js';
import type { RunProjection } from '../../core/contracts/run-events.js';
import { INCIDENT_STATUSES, isTerminalIncidentStatus, SEVERITIES, type Incident, type Severity } from '../../core/incident.js';
import { ToolRefusedError, type ChatTool, type ToolCaller } from '../tool.js';
import { resolveHost, sinceInstant, SINCE_PATTERN } from './lookup.js';
import { boundedContent, incidentLink, incidentSummary, oneLine, TAG_ID_PATTERN, withCursor } from './shared.js';

/** What starting a remediation needs; the wiring supplies it (api/run-starts.ts `chatRunStarters`). */
export type RemediationStarter = (
  caller: ToolCaller,
  input: { tagId: string; title: string; description: string; severity: Severity; idempotencyKey: string },
  /** asChild: record the incident only and return the start for the caller's workflow to make (`childRun`). */
  options?: { asChild?: boolean },
) => Promise<{ incident: Incident; created: boolean; childRun?: ChatChildRun }>;

const IncidentsListArgs = z.strictObject({
  status: z
    .enum([...INCIDENT_STATUSES, 'active'])
    .optional()
    .describe('One status, or "active" for every incident not yet resolved, escalated, failed or cancelled'),
  host: z.string().trim().min(1).max(200).optional().describe('A CMDB tagId, hostname or IP address'),
  since: z
    .string()
    .trim()
    .regex(SINCE_PATTERN, 'an ISO date-time or a duration such as 30m, 24h, 7d')
    .optional()
    .describe('Created at or after: an ISO date-time, or a duration back from now (30m, 24h, 7d)'),
  severity: z.enum(SEVERITIES).optional(),
  limit: z.number().int().min(1).max(50).default(10),
  cursor: z.string().max(1000).optional().describe('nextCursor of the previous page'),
});

const IncidentsGetArgs = z.strictObject({
  id: z
    .union([z.number().int().min(1), z.string().trim().min(1).max(64)])
    .describe('The incident number (42, "INC-42") or its id (a UUID)'),
});

const StartRemediationArgs = z.strictObject({
  tagId: z.string().min(1).max(128).regex(TAG_ID_PATTERN, 'a CMDB tagId').describe('The CMDB item to remediate'),
  title: z.string().trim().min(1).max(200).describe('What is wrong, in a line: "nginx down on web-01"'),
  description: z.string().max(10_000).default('').describe('What the user reported: symptoms, error messages'),
  severity: z.enum(SEVERITIES).default('medium'),
});

/** Store pages read per incidents_list call when filtering by `active` or `since`. */
const MAX_SCAN_PAGES = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INCIDENT_NUMBER = /^(?:inc-?|#)?(\d{1,9})$/i;

function describeIncident(i: IncidentSummary): string {
  return `INC-${i.number} [${i.status}, ${i.severity}] ${oneLine(i.title, 120)} on ${i.targetHost ?? i.tagId} (opened ${i.createdAt})`;
}

/** `incidents_list`, `incidents_get` and `incidents_start_remediation`. */
export function createIncidentTools(deps: {
  store: Pick<Store, 'cmdb' | 'incidents' | 'results' | 'runs'>;
  startRemediation: RemediationStarter;
}): ChatTool[] {
  const { store } = deps;

  async function findIncident(tenantId: string, id: number | string): Promise<Incident | null> {
    if (typeof id === 'number') return store.incidents.getByNumber(tenantId, id);
    if (UUID.test(id)) return store.incidents.get(tenantId, id.toLowerCase());
    const number = INCIDENT_NUMBER.exec(id)?.[1];
    if (number) return store.incidents.getByNumber(tenantId, Number(number));
    throw new ToolRefusedError(`'${oneLine(id, 64)}' is not an incident number (42, INC-42) or id (a UUID)`, 'invalid_arguments');
  }

  const list: ChatTool<z.output<typeof IncidentsListArgs>> = {
    name: BUILTIN_TOOL.incidentsList,
    description:
      'List incidents newest first, filtered by status ("active" for unresolved ones), host, creation time (since) and severity. ' +
      'Returns number, status, severity, title and host of each; pass nextCursor for more.',
    input: IncidentsListArgs,
    role: 'viewer',
    readsStoreOnly: true,
    risk: () => 'read',
    async run(args, { caller }) {
      const status: IncidentStatusFilter | null = args.status ?? null;
      const since = args.since ? sinceInstant(args.since, new Date()) : null;
      let tagId: string | null = null;
      if (args.host) {
        const item = await resolveHost(store, caller.tenantId, args.host);
        if (!item) {
          const data: IncidentsListData = { items: [], nextCursor: null, filter: { status, tagId: null, since, severity: null } };
          return { content: `No CMDB item matches host "${oneLine(args.host, 100)}", so no incident does.`, data };
        }
        tagId = item.tagId;
      }
      const filter = {
        status: status === 'active' ? undefined : (status ?? undefined),
        severity: args.severity,
        tagId: tagId ?? undefined,
      };
      const items: Incident[] = [];
      let cursor = args.cursor;
      let nextCursor: string | null = null;
      // Pages of exactly what is still missing: the store's cursor then never skips a row kept back.
      for (let page = 0; page < MAX_SCAN_PAGES; page++) {
        const found = await withCursor(() => store.incidents.list(caller.tenantId, filter, { limit: args.limit - items.length, cursor }));
        let reachedSince = false;
        for (const incident of found.items) {
          if (since && incident.createdAt < since) {
            reachedSince = true;
            break;
          }
          if (status === 'active' && isTerminalIncidentStatus(incident.status)) continue;
          items.push(incident);
        }
        nextCursor = reachedSince ? null : found.nextCursor;
        if (!nextCursor || items.length >= args.limit) break;
        cursor = nextCursor;
      }
      const data: IncidentsListData = {
        items: items.map(incidentSummary),
        nextCursor,
        filter: { status, tagId, since, severity: args.severity ?? null },
      };
      const what = [status && `${status}`, 'incident(s)', tagId && `on ${tagId}`, since && `since ${since}`].filter(Boolean).join(' ');
      if (data.items.length === 0)
        return { content: `No ${what}${nextCursor ? ' in the newest ones read (more: pass cursor)' : ''}.`, data };
      return {
        content: boundedContent([
          `${data.items.length} ${what}${nextCursor ? ' (more: pass cursor)' : ''}:`,
          ...data.items.map(describeIncident),
        ]),
        data,
        links: items.map(incidentLink),
      };
    },
  };

  const get: ChatTool<z.output<typeof IncidentsGetArgs>> = {
    name: BUILTIN_TOOL.incidentsGet,
    description:
      "One incident by number or id, with its remediation run's status, current step, root cause and findings, and the latest result.",
    input: IncidentsGetArgs,
    role: 'viewer',
    readsStoreOnly: true,
    risk: () => 'read',
    async run(args, { caller }) {
      const incident = await findIncident(caller.tenantId, args.id);
      if (!incident)
        throw new ToolRefusedError(`There is no incident ${typeof args.id === 'number' ? `INC-${args.id}` : args.id}`, 'invalid_arguments');
      const [projection, results] = await Promise.all([
        store.runs.get(caller.tenantId, 'incident', incident.id) as Promise<RunProjection<IncidentRunProjectionState> | null>,
        store.results.listForIncident(caller.tenantId, incident.id),
      ]);
      const state = projection?.state.run ?? null;
      const latest = results.at(-1) ?? null;
      const data: IncidentDetailData = {
        incident: { ...incidentSummary(incident), description: incident.description, workflowId: incident.workflowId },
        run: state
          ? {
              // The row's terminal status is final; before that the run's own is the fresher one (as GET /incidents/{id}).
              status: isTerminalIncidentStatus(incident.status) ? incident.status : state.status,
              currentStep: state.currentStep,
              rootCause: state.rootCause ?? null,
              findings: state.findings,
              runbookTitle: state.plan?.runbookTitle ?? null,
              awaitingApproval: state.approval?.decision === 'pending',
              workflowStatus: projection!.state.workflow.status,
            }
          : null,
        result: latest ? { status: latest.status, summary: latest.summary, createdAt: latest.createdAt } : null,
      };
      const run = data.run;
      return {
        content: boundedContent(
          [
            describeIncident({ ...data.incident, status: run?.status ?? incident.status }),
            incident.description ? `Description: ${oneLine(incident.description, 500)}` : '',
            run
              ? `Run: ${run.workflowStatus.toLowerCase()}, step ${run.currentStep ?? 'none'}${run.awaitingApproval ? ', waiting for approval of its fix' : ''}` +
                `${run.runbookTitle ? `, runbook "${run.runbookTitle}"` : ''}`
              : 'Run: no progress recorded yet.',
            run?.rootCause ? `Root cause: ${oneLine(run.rootCause, 400)}` : '',
            run?.findings.length ? `Findings: ${run.findings.map((f) => oneLine(f, 200)).join('; ')}` : '',
            data.result ? `Latest result (${data.result.status}): ${oneLine(data.result.summary, 500)}` : '',
          ].filter(Boolean),
        ),
        data,
        links: [incidentLink(incident)],
      };
    },
  };

  const start: ChatTool<z.output<typeof StartRemediationArgs>> = {
    name: BUILTIN_TOOL.incidentsStartRemediation,
    description:
      'Raise an incident on a CMDB item and start its remediation run (diagnose over SSH, propose fix commands that wait for approval). ' +
      'Changes something: the user confirms the exact call first. Use when the user asks to fix, remediate or investigate a host problem.',
    input: StartRemediationArgs,
    role: 'operator',
    risk: () => 'change',
    async run(args, { caller, callKey, childRuns }) {
      const { incident, created, childRun } = await deps.startRemediation(
        caller,
        { ...args, idempotencyKey: `chat:${callKey}` },
        { asChild: childRuns === true },
      );
      const data: RemediationStartedData = { incident: incidentSummary(incident), created, workflowId: incident.workflowId };
      const started = childRun
        ? `Recorded ${describeIncident(data.incident)}; its remediation run starts now from this conversation, which shows its progress`
        : `${created ? 'Started' : 'Already started'} remediation: ${describeIncident(data.incident)}`;
      return {
        content: `${started}. Follow it with incidents_get.`,
        data,
        links: [incidentLink(incident)],
        ...(childRun ? { childRun } : {}),
      };
    },
  };

  return [list, get, start];
}
