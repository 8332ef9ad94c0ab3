import { randomUUID } from 'node:crypto';
import type { AutomationRun, Store } from '../adapters/store/port.js';
import type { AutomationGenerationOutcome, AutomationHost } from '../core/automation.js';
import {
  AUTOMATION_WORKFLOW_TYPE,
  automationWorkflowId,
  DEFAULT_AUTOMATION_SETTINGS,
  type AutomationSettings,
  type RunAutomationInput,
} from '../core/contracts/automation.js';
import type { ChatChildRun } from '../core/contracts/chat.js';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId, type RemediateIncidentInput } from '../core/contracts/incident.js';
import type { CmdbItem, Incident, Severity } from '../core/incident.js';
import { DEFAULT_REMEDIATION_SETTINGS, type RemediationSettings } from '../core/remediation.js';
import { ToolRefusedError, type ToolCaller } from '../tools/tool.js';
import type { AutomationStarter, RemediationStarter } from '../tools/builtin/index.js';
import type { ProvisioningToolkit } from '../activities/provisioning/deps.js';
import type { ProvisionRequestRecord } from '../adapters/store/port.js';
import { DEFAULT_PROVISION_SETTINGS, type ProvisionSettings } from '../core/contracts/provisioning.js';
import type { ProvisionEnvironment } from '../core/provisioning/types.js';
import type { AutomationWorkflowGateway, IncidentWorkflowGateway, ProvisioningWorkflowGateway } from './temporal-gateway.js';

// Starting an incident's remediation and an automation run: what POST /incidents, POST /automation
// and the chat tools that start runs (tools/builtin/) all do, written once. A caller maps the named
// errors to its own answer (the API to 422 problems, a chat tool to a refusal the model reads).

/**
 * Starts the workflow of a record just written; if the start fails, the record is removed before the
 * error answers the request (no half-written run: a retry of the request starts afresh).
 */
export async function startOrRemove(start: () => Promise<unknown>, remove: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Who starts the run: the tenant (its slug goes into the workflow's search attributes) and the principal. */
export interface RunStarter {
  tenantId: string;
  tenantSlug: string;
  subject: string;
}

/** Some CMDB tagIds the request names are not items of the tenant. */
export class UnknownCmdbItemsError extends Error {
  override readonly name = 'UnknownCmdbItemsError';
  constructor(
    /** Each unknown tagId with the request path that named it (`tagId`, `targets.1`). */
    readonly unknown: readonly { path: string; tagId: string }[],
  ) {
    super(`No CMDB item with tagId ${unknown.map((u) => `'${u.tagId}'`).join(', ')}`);
  }
}

/** The automation precheck (template generator) could not write the request as a playbook. */
export class AutomationNotUnderstoodError extends Error {
  override readonly name = 'AutomationNotUnderstoodError';
  constructor(readonly outcome: Extract<AutomationGenerationOutcome, { ok: false }>) {
    super(`The request was not understood: ${outcome.message}`);
  }
}

export interface IncidentStartInput {
  title: string;
  description: string;
  severity: Severity;
  tagId: string;
  /** Where the incident came from: `api`, `chat`. */
  source: string;
  idempotencyKey?: string | null | undefined;
  external?: Record<string, string> | undefined;
}

/**
 * Records an incident and starts its remediation workflow. A repeated idempotency key answers the
 * incident created first (`created: false`) and starts nothing; a failed start removes the record.
 */
export async function startIncidentRemediation(
  deps: { store: Store; workflows: IncidentWorkflowGateway; settings?: RemediationSettings | undefined },
  starter: RunStarter,
  input: IncidentStartInput,
): Promise<{ incident: Incident; created: boolean }> {
  const { store, workflows, settings = DEFAULT_REMEDIATION_SETTINGS } = deps;
  const { incident, created, item } = await recordIncident(store, starter, input);
  if (!created) return { incident, created };
  // No half-written record: an incident without its workflow is removed before answering.
  await startOrRemove(
    () => workflows.start({ ...remediationInput(starter, incident, settings), targetHost: item.hostname }),
    () => store.incidents.delete(starter.tenantId, incident.id),
  );
  return { incident, created };
}

/** What the incident's remediation workflow starts with (the API's start and a chat's child start alike). */
function remediationInput(starter: RunStarter, incident: Incident, settings: RemediationSettings): RemediateIncidentInput {
  return {
    tenantId: starter.tenantId,
    tenantSlug: starter.tenantSlug,
    incidentId: incident.id,
    incidentNumber: incident.number,
    severity: incident.severity,
    tagId: incident.tagId,
    settings,
  };
}

/** The CMDB item checked and the incident written (once per idempotency key), nothing started. */
async function recordIncident(
  store: Store,
  starter: RunStarter,
  input: IncidentStartInput,
): Promise<{ incident: Incident; created: boolean; item: CmdbItem }> {
  const item = await store.cmdb.get(starter.tenantId, input.tagId);
  if (!item) throw new UnknownCmdbItemsError([{ path: 'tagId', tagId: input.tagId }]);
  const { incident, created } = await store.incidents.create(starter.tenantId, {
    id: randomUUID(),
    title: input.title,
    description: input.description,
    severity: input.severity,
    tagId: input.tagId,
    source: input.source,
    createdBy: starter.subject,
    idempotencyKey: input.idempotencyKey ?? null,
    ...(input.external ? { external: input.external } : {}),
  });
  return { incident, created, item };
}

/** The optional early "can this request be written as a playbook?" (see api/routes/automation.ts). */
export type AutomationPrecheck = (
  request: string,
  hosts: AutomationHost[],
  options: { checkMode: boolean },
) => AutomationGenerationOutcome | Promise<AutomationGenerationOutcome>;

export interface AutomationStartInput {
  request: string;
  targets: string[];
  checkMode: boolean;
  idempotencyKey?: string | null | undefined;
}

/**
 * Records an automation run and starts its workflow, after checking its targets are the tenant's
 * CMDB items and (with a precheck) that the request can be written as a playbook.
 */
export async function startAutomationRun(
  deps: {
    store: Store;
    workflows: AutomationWorkflowGateway;
    settings?: AutomationSettings | undefined;
    precheck?: AutomationPrecheck | null | undefined;
  },
  starter: RunStarter,
  input: AutomationStartInput,
): Promise<{ run: AutomationRun; created: boolean }> {
  const { store, workflows, settings = DEFAULT_AUTOMATION_SETTINGS } = deps;
  const { run, created } = await recordAutomationRun(deps, starter, input);
  if (!created) return { run, created };
  // No half-written record: a run without its workflow is removed before answering.
  await startOrRemove(
    () => workflows.start(automationInput(starter, run, settings)),
    () => store.automation.delete(starter.tenantId, run.id),
  );
  return { run, created };
}

function automationInput(starter: RunStarter, run: AutomationRun, settings: AutomationSettings): RunAutomationInput {
  return {
    tenantId: starter.tenantId,
    tenantSlug: starter.tenantSlug,
    runId: run.id,
    runNumber: run.number,
    request: run.request,
    targets: run.targets,
    checkMode: run.checkMode,
    settings,
  };
}

/** The targets and (with a precheck) the request checked, and the run written (once per idempotency key), nothing started. */
async function recordAutomationRun(
  deps: { store: Store; precheck?: AutomationPrecheck | null | undefined },
  starter: RunStarter,
  input: AutomationStartInput,
): Promise<{ run: AutomationRun; created: boolean }> {
  const { store, precheck } = deps;
  const items = await Promise.all(input.targets.map((tagId) => store.cmdb.get(starter.tenantId, tagId)));
  const unknown = input.targets.flatMap((tagId, i) => (items[i] ? [] : [{ path: `targets.${i}`, tagId }]));
  if (unknown.length > 0) throw new UnknownCmdbItemsError(unknown);
  if (precheck) {
    const hosts = (items as CmdbItem[])
      .filter((item) => item.sshUser && item.sshCredential)
      .map((item) => ({
        tagId: item.tagId,
        hostname: item.hostname,
        address: item.address,
        port: item.port,
        user: item.sshUser!,
        credential: item.sshCredential!,
        serviceManager: item.serviceManager,
      }));
    const outcome = await precheck(input.request, hosts, { checkMode: input.checkMode });
    if (!outcome.ok) throw new AutomationNotUnderstoodError(outcome);
  }
  const { run, created } = await store.automation.create(starter.tenantId, {
    id: randomUUID(),
    request: input.request,
    targets: input.targets,
    checkMode: input.checkMode,
    createdBy: starter.subject,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  return { run, created };
}

/**
 * The starters the chat tools take (tools/builtin/): the same starts as the API's, recorded with
 * source `chat`, the caller's subject as creator and the call's key as idempotency key. A start the
 * request itself makes impossible is refused in words the model can relay.
 */
export function chatRunStarters(deps: {
  store: Store;
  incidents: IncidentWorkflowGateway;
  automation?: AutomationWorkflowGateway | null | undefined;
  remediation?: RemediationSettings | undefined;
  automationSettings?: AutomationSettings | undefined;
  precheck?: AutomationPrecheck | null | undefined;
}): { startRemediation: RemediationStarter; startRun: AutomationStarter | null } {
  async function starterOf(caller: ToolCaller): Promise<RunStarter> {
    const tenant = await deps.store.tenants.getById(caller.tenantId);
    if (!tenant) throw new ToolRefusedError(`Tenant ${caller.tenantId} does not exist`, 'invalid_arguments');
    return { tenantId: tenant.id, tenantSlug: tenant.slug, subject: caller.userId };
  }
  const refuseUnstartable = (err: unknown): never => {
    if (err instanceof UnknownCmdbItemsError)
      throw new ToolRefusedError(`${err.message}; use cmdb_lookup to find the item`, 'invalid_arguments');
    if (err instanceof AutomationNotUnderstoodError) throw new ToolRefusedError(err.message, 'invalid_arguments');
    throw err;
  };
  const remediationSettings = deps.remediation ?? DEFAULT_REMEDIATION_SETTINGS;
  const startRemediation: RemediationStarter = async (caller, input, options) => {
    const starter = await starterOf(caller);
    if (!options?.asChild)
      return startIncidentRemediation({ store: deps.store, workflows: deps.incidents, settings: remediationSettings }, starter, {
        ...input,
        source: 'chat',
      }).catch(refuseUnstartable);
    // The conversation starts the run as its child: only the record is written here.
    const { incident, created, item } = await recordIncident(deps.store, starter, { ...input, source: 'chat' }).catch(refuseUnstartable);
    const childRun: ChatChildRun = {
      kind: 'remediation',
      workflowType: INCIDENT_WORKFLOW_TYPE,
      workflowId: incidentWorkflowId(incident.id),
      input: remediationInput(starter, incident, remediationSettings),
      searchAttributes: { tenant: starter.tenantSlug, severity: incident.severity, incidentStatus: 'open', targetHost: item.hostname },
      label: `INC-${incident.number}`,
      recordId: incident.id,
    };
    return { incident, created, childRun };
  };
  const automation = deps.automation;
  const automationSettings = deps.automationSettings ?? DEFAULT_AUTOMATION_SETTINGS;
  const startRun: AutomationStarter | null = automation
    ? async (caller, input, options) => {
        const starter = await starterOf(caller);
        if (!options?.asChild)
          return startAutomationRun(
            { store: deps.store, workflows: automation, settings: automationSettings, precheck: deps.precheck },
            starter,
            input,
          ).catch(refuseUnstartable);
        const { run, created } = await recordAutomationRun({ store: deps.store, precheck: deps.precheck }, starter, input).catch(
          refuseUnstartable,
        );
        const childRun: ChatChildRun = {
          kind: 'automation',
          workflowType: AUTOMATION_WORKFLOW_TYPE,
          workflowId: automationWorkflowId(run.id),
          input: automationInput(starter, run, automationSettings),
          searchAttributes: { tenant: starter.tenantSlug },
          label: `RUN-${run.number}`,
          recordId: run.id,
        };
        return { run, created, childRun };
      }
    : null;
  return { startRemediation, startRun };
}

/** The provisioning request could not be parsed into requirements (the API answers 422 naming what is missing). */
export class ProvisionNotUnderstoodError extends Error {
  override readonly name = 'ProvisionNotUnderstoodError';
  constructor(
    readonly missing: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

export interface ProvisionStartInput {
  request: string;
  environment?: ProvisionEnvironment | undefined;
  requester: string;
  idempotencyKey?: string | null | undefined;
}

/**
 * Parses a provisioning request once (an ambiguous one is refused before anything is written),
 * records it and starts its workflow; a failed start removes the record.
 */
export async function startProvisionRequest(
  deps: { store: Store; workflows: ProvisioningWorkflowGateway; toolkit: ProvisioningToolkit; settings?: ProvisionSettings | undefined },
  starter: RunStarter,
  input: ProvisionStartInput,
): Promise<{ request: ProvisionRequestRecord; created: boolean }> {
  const { store, workflows, toolkit, settings = DEFAULT_PROVISION_SETTINGS } = deps;
  const parsed = await toolkit.parse(input.request, { environment: input.environment, requester: input.requester });
  if (!parsed.ok) throw new ProvisionNotUnderstoodError(parsed.missing, parsed.message);
  const id = randomUUID();
  const request = await store.provisioning.create(starter.tenantId, {
    id,
    requester: input.requester,
    request: input.request,
    environment: input.environment ?? null,
    requirements: parsed.requirements,
    parser: parsed.parser,
    idempotencyKey: input.idempotencyKey ?? null,
  });
  // A repeat of an Idempotency-Key: the request recorded first, whose run its first call started.
  if (request.id !== id) return { request, created: false };
  // No half-written record: a request without its workflow is removed before answering.
  await startOrRemove(
    () => workflows.start({ tenantId: starter.tenantId, tenantSlug: starter.tenantSlug, requestId: request.id, settings }),
    () => store.provisioning.delete(starter.tenantId, request.id),
  );
  return { request, created: true };
}
