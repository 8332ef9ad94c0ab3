import { z } from 'zod';
import type { AutomationRun, Store } from '../../adapters/store/port.js';
import {
  BUILTIN_TOOL,
  type AutomationRunData,
  type AutomationRunsListData,
  type AutomationRunSummary,
  type AutomationStartedData,
} from '../../core/chat/builtin-tools.js';
import { AUTOMATION_STATUSES, isFinalAutomationStatus, type AutomationRunProjectionState } from '../../core/contracts/automation.js';
import type { ChatChildRun } from '../../core/contracts/chat.js';
import type { RunProjection } from '../../core/contracts/run-events.js';
import { ToolRefusedError, type ChatTool, type ToolCaller } from '../tool.js';
import { automationLink, automationSummary, boundedContent, oneLine, TAG_ID_PATTERN, withCursor } from './shared.js';

/** What starting an automation run needs; the wiring supplies it (api/run-starts.ts `chatRunStarters`). */
export type AutomationStarter = (
  caller: ToolCaller,
  input: { request: string; targets: string[]; checkMode: boolean; idempotencyKey: string },
  /** asChild: record the run only and return the start for the caller's workflow to make (`childRun`). */
  options?: { asChild?: boolean },
) => Promise<{ run: AutomationRun; created: boolean; childRun?: ChatChildRun }>;

const RunsListArgs = z.strictObject({
  status: z.enum(AUTOMATION_STATUSES).optional(),
  target: z.string().min(1).max(128).regex(TAG_ID_PATTERN, 'a CMDB tagId').optional().describe('Runs that target this CMDB tagId'),
  limit: z.number().int().min(1).max(50).default(10),
  cursor: z.string().max(1000).optional().describe('nextCursor of the previous page'),
});

const RunGetArgs = z.strictObject({
  id: z.union([z.number().int().min(1), z.string().trim().min(1).max(64)]).describe('The run number (7, "7") or its id (a UUID)'),
});

const StartRunArgs = z.strictObject({
  request: z.string().trim().min(1).max(2000).describe('What to do, in words: "restart nginx", "install htop and make sure it runs"'),
  targets: z
    .array(z.string().min(1).max(128).regex(TAG_ID_PATTERN, 'a CMDB tagId'))
    .min(1)
    .max(20)
    .refine((t) => new Set(t).size === t.length, 'each target once')
    .describe('CMDB tagIds to run on'),
  checkMode: z.boolean().default(false).describe('--check --diff: shows what would change and changes nothing'),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RUN_NUMBER = /^#?(\d{1,9})$/;
/** Pages of runs read to find a run by number (newest first, so an old number costs more). */
const MAX_NUMBER_SCAN_PAGES = 10;

function describeRun(run: AutomationRunSummary): string {
  return (
    `Run ${run.number} [${run.status}${run.checkMode ? ', check mode' : ''}] "${oneLine(run.request, 120)}" on ${run.targets.join(', ')}` +
    `${run.summary ? ` — ${oneLine(run.summary, 200)}` : ''}${run.error ? ` — error: ${oneLine(run.error, 200)}` : ''}`
  );
}

/** `automation_runs_list`, `automation_run_get` and `automation_start_run`: Ansible automation runs. */
export function createAutomationTools(deps: { store: Pick<Store, 'automation' | 'runs'>; startRun: AutomationStarter }): ChatTool[] {
  const { store } = deps;

  async function findRun(tenantId: string, id: number | string): Promise<AutomationRun | null> {
    if (typeof id === 'string' && UUID.test(id)) return store.automation.get(tenantId, id.toLowerCase());
    const number = typeof id === 'number' ? id : Number(RUN_NUMBER.exec(id)?.[1] ?? NaN);
    if (Number.isNaN(number))
      throw new ToolRefusedError(`'${oneLine(String(id), 64)}' is not a run number or id (a UUID)`, 'invalid_arguments');
    // Numbers fall as the list goes on (newest first): stop once past it.
    let cursor: string | undefined;
    for (let page = 0; page < MAX_NUMBER_SCAN_PAGES; page++) {
      const found = await store.automation.list(tenantId, {}, { limit: 100, cursor });
      const run = found.items.find((r) => r.number === number);
      if (run) return run;
      if (!found.nextCursor || (found.items.at(-1)?.number ?? 0) < number) return null;
      cursor = found.nextCursor;
    }
    return null;
  }

  const list: ChatTool<z.output<typeof RunsListArgs>> = {
    name: BUILTIN_TOOL.automationRunsList,
    description:
      'List Ansible automation runs newest first, by status or target host. Returns number, status, request, targets and summary.',
    input: RunsListArgs,
    role: 'viewer',
    risk: () => 'read',
    async run(args, { caller }) {
      const page = await withCursor(() =>
        store.automation.list(caller.tenantId, { status: args.status, target: args.target }, { limit: args.limit, cursor: args.cursor }),
      );
      const data: AutomationRunsListData = { items: page.items.map(automationSummary), nextCursor: page.nextCursor };
      if (data.items.length === 0) return { content: 'No automation run matches.', data };
      return {
        content: boundedContent([
          `${data.items.length} automation run(s)${data.nextCursor ? ' (more: pass cursor)' : ''}:`,
          ...data.items.map(describeRun),
        ]),
        data,
        links: page.items.map(automationLink),
      };
    },
  };

  const get: ChatTool<z.output<typeof RunGetArgs>> = {
    name: BUILTIN_TOOL.automationRunGet,
    description:
      'One automation run by number or id: status, current step, whether it waits for approval, per-host recap, summary or error.',
    input: RunGetArgs,
    role: 'viewer',
    risk: () => 'read',
    async run(args, { caller }) {
      const row = await findRun(caller.tenantId, args.id);
      if (!row) throw new ToolRefusedError(`There is no automation run ${String(args.id)}`, 'invalid_arguments');
      const projection = (await store.runs.get(
        caller.tenantId,
        'automation',
        row.id,
      )) as RunProjection<AutomationRunProjectionState> | null;
      const state = projection?.state.run ?? null;
      const recapSource = state?.outcome?.recap ?? row.recap;
      const summary = automationSummary(row);
      const data: AutomationRunData = {
        run: {
          ...summary,
          // The row's final status is final; before that the run's own is the fresher one (as GET /automation/{id}).
          status: state && !isFinalAutomationStatus(row.status) ? state.status : row.status,
          summary: state?.summary ?? row.summary,
          error: state?.error ?? row.error,
          currentStep: state?.currentStep ?? null,
          awaitingApprovalOf:
            (state?.approval ?? row.approval)?.decision === 'pending' ? (state?.artifactsHash ?? row.artifactsHash) : null,
          recap: recapSource
            ? Object.fromEntries(
                Object.entries(recapSource).map(([host, r]) => [
                  host,
                  { ok: r.ok, changed: r.changed, failed: r.failed, unreachable: r.unreachable },
                ]),
              )
            : null,
        },
      };
      const run = data.run;
      return {
        content: boundedContent([
          describeRun(run),
          `Step: ${run.currentStep ?? 'none'}${run.awaitingApprovalOf ? `; waiting for approval of artifacts ${run.awaitingApprovalOf.slice(0, 12)}…` : ''}`,
          ...(run.recap
            ? Object.entries(run.recap).map(
                ([host, r]) => `${host}: ok=${r.ok} changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}`,
              )
            : []),
        ]),
        data,
        links: [automationLink(row)],
      };
    },
  };

  const start: ChatTool<z.output<typeof StartRunArgs>> = {
    name: BUILTIN_TOOL.automationStartRun,
    description:
      'Start an Ansible automation run: a playbook is written from the request for the target CMDB items, validated, and (unless check mode) ' +
      'waits for approval of its artifacts before it runs. Changes something: the user confirms the exact call first.',
    input: StartRunArgs,
    role: 'operator',
    risk: () => 'change',
    async run(args, { caller, callKey, childRuns }) {
      const { run, created, childRun } = await deps.startRun(
        caller,
        { ...args, idempotencyKey: `chat:${callKey}` },
        { asChild: childRuns === true },
      );
      const data: AutomationStartedData = { run: automationSummary(run), created, workflowId: run.workflowId };
      const started = childRun
        ? `Recorded automation ${describeRun(data.run)}; its run starts now from this conversation, which shows its progress`
        : `${created ? 'Started' : 'Already started'} automation: ${describeRun(data.run)}`;
      return {
        content: `${started}. Follow it with automation_run_get.`,
        data,
        links: [automationLink(run)],
        ...(childRun ? { childRun } : {}),
      };
    },
  };

  return [list, get, start];
}
