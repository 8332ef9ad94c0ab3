import { patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  addIncidentContextSignal,
  incidentStateQuery,
  resolvedElsewhereSignal,
  SEARCH_ATTRIBUTES,
  type IncidentRunProjectionState,
  type IncidentStepName,
  type IncidentWorkflowState,
  type RemediateIncidentInput,
} from '../../core/contracts/incident.js';
import type { IncidentStatus } from '../../core/incident.js';
import { localStoreSteps, notifySteps, storeSteps } from './activities.js';
import type { RunEventType } from '../../core/contracts/run-events.js';
import { failureMessage } from '../runs/failures.js';
import { RunProjector } from '../runs/projector.js';
import { ProjectedWorkflow, recordStep } from '../runs/run-record.js';

type FinalStatus = 'resolved' | 'escalated' | 'failed' | 'cancelled';

/**
 * One incident run's state and the helpers every stage uses: each step recorded as it runs (the
 * state query and the API show it), the status mirrored into the IncidentStatus search attribute,
 * and the end of the run (result write, then notifications).
 */
export class IncidentRun {
  readonly ref: { tenantId: string; incidentId: string };
  readonly targetRef: { tenantId: string; tagId: string };
  readonly state: IncidentWorkflowState;
  /** Set when the host lease was lost while changing the host: the run escalates instead of resolving. */
  hostLeaseLost: string | null = null;
  /** Set once the run starts changing the host: from then on it finishes what it started, whatever it hears. */
  changingHost = false;
  /** Whether this run writes its projection (runs recorded before projections existed do not). */
  readonly projecting: boolean;
  /** The store steps: local activities, or task-queue activities for runs recorded before 'local-store-steps'. */
  readonly store: typeof storeSteps;
  private readonly projector: RunProjector;
  private commandsProjected = 0;
  private readonly workflow = new ProjectedWorkflow();
  private finalStatus: FinalStatus | null = null;

  constructor(readonly input: RemediateIncidentInput) {
    this.projecting = patched('run-projection');
    this.store = patched('local-store-steps') ? this.exclusively(localStoreSteps) : storeSteps;
    this.ref = { tenantId: input.tenantId, incidentId: input.incidentId };
    this.targetRef = { tenantId: input.tenantId, tagId: input.tagId };
    this.state = {
      incidentId: input.incidentId,
      status: 'open',
      currentStep: null,
      steps: [],
      target: null,
      findings: [],
      context: [],
      summary: null,
      error: null,
    };
    const state = this.state;
    this.projector = new RunProjector(
      { tenantId: input.tenantId, family: 'incident', runId: input.incidentId, workflowId: workflowInfo().workflowId },
      () => ({
        status: state.status,
        ended: !this.workflow.running,
        state: { run: state, workflow: this.workflow.view() } satisfies IncidentRunProjectionState as unknown as Record<string, unknown>,
      }),
      this.projecting,
    );
    setHandler(incidentStateQuery, () => state);
    setHandler(addIncidentContextSignal, ({ note, author }) => {
      state.context.push({ note: note.slice(0, 2000), author: author.slice(0, 200), at: new Date().toISOString() });
    });
    // Only records the notice (no command): the stages act on it at their next checkpoint, so runs
    // that never receive it replay exactly as recorded.
    setHandler(resolvedElsewhereSignal, ({ source, by, at }) => {
      if (state.resolvedElsewhere) return;
      const notice = { source: source.slice(0, 100), by: by?.slice(0, 200) ?? null, at: at.slice(0, 64), outcome: 'received' as const };
      state.resolvedElsewhere = notice;
      state.context.push({
        note: `Resolved in ${notice.source}${notice.by ? ` by ${notice.by}` : ''} at ${notice.at}.`,
        author: notice.source,
        at: new Date().toISOString(),
      });
    });
  }

  /**
   * Whether another tool reported the incident resolved and the run has not acted on it yet. A
   * plain read, so that the checkpoints cost runs that never hear of it not even an extra await.
   */
  get resolvedElsewherePending(): boolean {
    return this.state.resolvedElsewhere?.outcome === 'received';
  }

  /**
   * A checkpoint of the stages before the host is changed, once `resolvedElsewherePending`: the run
   * ends `resolved` here, without changing the host (a read-only step under way when the notice came
   * has finished; nothing else starts).
   */
  async stopResolvedElsewhere(stage: string): Promise<void> {
    const notice = this.state.resolvedElsewhere!;
    notice.outcome = 'stopped';
    const where = this.state.target ? ` on ${this.state.target.hostname}` : '';
    await this.finish(
      'resolved',
      `Resolved in ${notice.source}${notice.by ? ` by ${notice.by}` : ''} while InfraAI was ${stage}: the remediation stopped; nothing was changed${where}.`,
    );
  }

  setStatus(status: IncidentStatus): void {
    this.state.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.incidentStatus, value: status }]);
    this.emit('status.changed', { status });
  }

  /** Records a change for the projection; host commands run since the last change go first. */
  emit(type: RunEventType, data: Record<string, unknown>): void {
    this.projectCommands();
    this.projector.emit(type, data);
  }

  /** Waits until the projection shows everything so far: before the run waits on a user. */
  async projected(): Promise<void> {
    this.projectCommands();
    await this.projector.flush();
  }

  /**
   * The local store steps, each run while no projection write is in flight (RunProjector.exclusive):
   * two local activities in flight at once would complete in an order replay cannot reproduce.
   */
  private exclusively(steps: typeof localStoreSteps): typeof localStoreSteps {
    return new Proxy(steps, {
      get: (target, name: string) => {
        const call = target[name as keyof typeof target] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => this.projector.exclusive(() => call(...args));
      },
    });
  }

  private projectCommands(): void {
    const commands = this.state.commands ?? [];
    while (this.commandsProjected < commands.length) {
      const run = commands[this.commandsProjected]!;
      this.commandsProjected += 1;
      this.projector.emit('command.ran', {
        index: this.commandsProjected - 1,
        phase: run.phase,
        id: run.id,
        command: run.command,
        allowedBy: run.allowedBy,
        exitCode: run.exitCode,
        timedOut: run.timedOut,
        durationMs: run.durationMs,
      });
    }
  }

  /** Runs one activity as a named step of the run, recording its start, end and failure. */
  step<T>(name: IncidentStepName, run: () => Promise<T>): Promise<T> {
    return recordStep(this.state, (type, data) => this.emit(type, data), name, run);
  }

  /** An intermediate status, on the run and on the incident row (lists and filters see it). */
  async markStatus(status: 'awaiting_approval' | 'remediating' | 'verifying'): Promise<void> {
    this.setStatus(status);
    await this.step('setIncidentStatus', () => this.store.setIncidentStatus({ ...this.ref, status }));
  }

  /** Everything the run established, as the result row keeps it. */
  outcomeDetails(): Record<string, unknown> {
    const state = this.state;
    return {
      target: state.target,
      plan: state.plan,
      metrics: state.metrics ?? null,
      findings: state.findings,
      rootCause: state.rootCause ?? null,
      proposedActions: state.proposedActions,
      approval: state.approval,
      commands: state.commands,
      verification: state.verification ?? null,
      context: state.context,
      ...(state.resolvedElsewhere ? { resolvedElsewhere: state.resolvedElsewhere } : {}),
    };
  }

  /** Ends the run: the result row and final status, then the configured notifiers. */
  async finish(status: FinalStatus, summary: string, details: Record<string, unknown> = this.outcomeDetails()): Promise<void> {
    const notice = this.state.resolvedElsewhere;
    if (notice?.outcome === 'received') {
      // Resolved elsewhere once the host was being changed (or as the run ended for another reason):
      // what was under way went to its end, and the summary says so.
      notice.outcome = 'noted';
      const who = notice.by ? ` by ${notice.by}` : '';
      summary = this.changingHost
        ? `${summary} (${notice.source} reported the incident resolved${who} while InfraAI was changing the host; the change was finished, not cut short.)`
        : `${summary} (${notice.source} reported the incident resolved${who} before this run ended.)`;
      details = { ...details, resolvedElsewhere: notice };
    }
    this.state.summary = summary;
    // Always a task-queue activity: its result row is keyed by the activity id, which only such an
    // activity keeps across a failed workflow task (local activities run again, maybe numbered anew).
    await this.step('writeIncidentResult', () => storeSteps.writeIncidentResult({ ...this.ref, status, summary, details }));
    this.emit('result.written', { status, summary });
    this.setStatus(status);
    if (patched('notifications')) await this.notify(status, summary);
    this.finalStatus = status;
  }

  /**
   * The run's last word to its projection, once nothing else will run (a host lease released after
   * the result is still a step): the final event and the workflow's closing status, stored.
   */
  async end(): Promise<void> {
    if (!this.finalStatus || !this.workflow.running) return;
    const status = this.finalStatus;
    this.workflow.close(status === 'failed' ? 'FAILED' : status === 'cancelled' ? 'CANCELLED' : 'COMPLETED');
    this.emit('run.ended', { status, summary: this.state.summary });
    await this.projected();
  }

  /** Posts the outcome to each configured tool; a tool that stays down is recorded, not fatal. */
  private async notify(status: FinalStatus, summary: string): Promise<void> {
    const names = await this.store.listNotifiers();
    const actions = (this.state.commands ?? [])
      .filter((c) => c.phase === 'fix')
      .map((c) => ({ command: c.command, outcome: c.exitCode === 0 ? 'applied' : `exit ${c.exitCode ?? 'none'}` }));
    this.state.notifications = [];
    for (const notifier of names) {
      try {
        this.state.notifications.push(
          await notifySteps.notifyIncident({ ...this.ref, notifier, status, summary, rootCause: this.state.rootCause ?? null, actions }),
        );
      } catch (err) {
        this.state.notifications.push({ notifier, delivered: false, detail: failureMessage(err) });
      }
    }
  }
}
