import { InvalidCursorError, type AutomationRun } from '../../adapters/store/port.js';
import type { AutomationRunSummary, CmdbItemSummary, IncidentSummary } from '../../core/chat/builtin-tools.js';
import type { CmdbItem, Incident } from '../../core/incident.js';
import { redactText, truncateText } from '../../core/redact.js';
import { ToolRefusedError } from '../tool.js';

// What the built-in tools share: bounded, redacted text for the model and the summaries of rows
// they return as structured data (never a tenant id, never a credential).

/** The most a built-in tool's `content` holds: the model reads it every step of the turn. */
export const MAX_CONTENT_CHARS = 4000;

/** The model-facing text: secrets redacted, cut to MAX_CONTENT_CHARS with a note that it was. */
export function boundedContent(lines: readonly string[]): string {
  return truncateText(redactText(lines.join('\n')), MAX_CONTENT_CHARS);
}

/** One line of free text for a list: whitespace folded, cut to `max` characters. */
export function oneLine(text: string | null | undefined, max = 160): string {
  const folded = (text ?? '').replace(/\s+/g, ' ').trim();
  return folded.length > max ? `${folded.slice(0, max - 1)}…` : folded;
}

export function cmdbSummary(item: CmdbItem): CmdbItemSummary {
  return {
    tagId: item.tagId,
    hostname: item.hostname,
    address: item.address,
    environment: item.environment,
    os: item.os,
    serviceManager: item.serviceManager,
    owner: item.owner,
    description: item.description,
    tags: item.tags,
  };
}

export function incidentSummary(incident: Incident): IncidentSummary {
  return {
    id: incident.id,
    number: incident.number,
    title: incident.title,
    severity: incident.severity,
    status: incident.status,
    tagId: incident.tagId,
    targetHost: incident.targetHost,
    summary: incident.summary,
    createdAt: incident.createdAt,
    resolvedAt: incident.resolvedAt,
  };
}

export function automationSummary(run: AutomationRun): AutomationRunSummary {
  return {
    id: run.id,
    number: run.number,
    request: run.request,
    targets: run.targets,
    checkMode: run.checkMode,
    status: run.status,
    summary: run.summary,
    error: run.error,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
  };
}

export const incidentLink = (incident: Pick<Incident, 'id' | 'number'>) => ({
  title: `INC-${incident.number}`,
  url: `/api/v1/incidents/${incident.id}`,
});

export const automationLink = (run: Pick<AutomationRun, 'id' | 'number'>) => ({
  title: `Automation run ${run.number}`,
  url: `/api/v1/automation/${run.id}`,
});

export const cmdbLink = (item: Pick<CmdbItem, 'tagId'>) => ({
  title: `CMDB ${item.tagId}`,
  url: `/api/v1/cmdb/${encodeURIComponent(item.tagId)}`,
});

/** A CMDB tagId as the API accepts it (api/schemas.ts TagIdSchema). */
export const TAG_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** A list call with a cursor the store did not issue is the caller's mistake, said so. */
export async function withCursor<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (err) {
    if (err instanceof InvalidCursorError)
      throw new ToolRefusedError('The cursor is not one this list gave; start without it', 'invalid_arguments');
    throw err;
  }
}
