import { WorkflowExecutionAlreadyStartedError, type SearchAttributePair } from '@temporalio/common';
import { CancellationScope, isCancellation, startChild } from '@temporalio/workflow';
import type { ChatChildRun } from '../../core/contracts/chat.js';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import { failureMessage } from '../runs/failures.js';
import { chatWatch } from './activities.js';
import type { ChatConversation } from './conversation.js';

// Runs a confirmed chat call recorded (a remediation, an Ansible run) started as children of the
// conversation, with the id, argument and search attributes the API would use. ABANDON on both
// parent close and cancellation: ending or cancelling the conversation never stops a remediation.
// The conversation records `run.started`, then, without holding up its next turn, `run.status` as
// the run's record moves (watched by an activity that answers on a change or every five minutes)
// and `run.ended` when the child completes; it stays open (no idle end, no continue-as-new) while a
// child it tracks runs.

/** How long one watch waits for a change before it answers anyway. */
const WATCH_MS = 5 * 60_000;

function searchAttributesOf(run: ChatChildRun): SearchAttributePair[] {
  return Object.entries(run.searchAttributes)
    .filter((pair): pair is [keyof typeof SEARCH_ATTRIBUTES, string] => !!pair[1])
    .map(([name, value]) => ({ key: SEARCH_ATTRIBUTES[name], value }));
}

/** The outcome a run's final state names (`status`), or `completed`. */
function finalStatus(result: unknown): string {
  const status = (result as { status?: unknown } | null)?.status;
  return typeof status === 'string' ? status : 'completed';
}

/**
 * Starts `run` as a child of the conversation and tracks it; `t<turn>/<callId>` keys its stream
 * events. A run someone else already started under that id is joined by name only (child workflow
 * starts take no conflict policy, and only a workflow's own children can be awaited): its
 * `run.started` says `joined`, and its end is read from the run itself (incidents_get).
 */
export async function startChildRun(conv: ChatConversation, turn: number, callId: string, run: ChatChildRun): Promise<void> {
  const eventKey = `t${turn}/${callId}`;
  const base = { turn, callId, kind: run.kind, workflowId: run.workflowId, label: run.label };
  const record = (type: 'run.started' | 'run.status' | 'run.ended', data: Record<string, unknown>, key: string = type) =>
    conv.store.recordChatEvents({ ref: conv.ref, events: [{ key: `${eventKey}/${key}`, type, data: { ...base, ...data } }] });
  let handle;
  try {
    handle = await CancellationScope.nonCancellable(() =>
      startChild(run.workflowType, {
        workflowId: run.workflowId,
        args: [run.input],
        parentClosePolicy: 'ABANDON',
        cancellationType: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: searchAttributesOf(run),
      }),
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    const joined = err instanceof WorkflowExecutionAlreadyStartedError;
    await record(joined ? 'run.started' : 'run.ended', {
      status: joined ? 'running' : 'failed_to_start',
      joined,
      ...(joined ? {} : { error: failureMessage(err) }),
    });
    return;
  }
  await record('run.started', { status: 'running', joined: false, runId: handle.firstExecutionRunId });
  const watching = new CancellationScope();
  // Stopped when the child ends (its cancellation is expected); a watch that fails only ends the status events.
  watching.run(() => watchStatus(conv, run, record)).catch(() => undefined);
  const tracked = handle
    .result()
    .then(
      (result) => record('run.ended', { status: finalStatus(result) }),
      (err: unknown) => record('run.ended', { status: isCancellation(err) ? 'cancelled' : 'failed', error: failureMessage(err) }),
    )
    // The stream event is best effort: the run's own record stays the truth.
    .catch(() => undefined)
    .finally(() => {
      watching.cancel();
      conv.children.delete(run.workflowId);
    });
  conv.children.set(run.workflowId, tracked);
}

/** Records each status the run's record moves through, until the scope is cancelled (the child ended). */
async function watchStatus(
  conv: ChatConversation,
  run: ChatChildRun,
  record: (type: 'run.status', data: Record<string, unknown>, key: string) => Promise<unknown>,
): Promise<void> {
  let last: string | null = null;
  for (let change = 1; ;) {
    const { status }: { status: string | null } = await chatWatch.watchChatChildRun({
      ref: conv.ref,
      kind: run.kind,
      recordId: run.recordId,
      lastStatus: last,
      maxWaitMs: WATCH_MS,
    });
    if (status === null) return;
    if (status === last) continue;
    last = status;
    await record('run.status', { status }, `run.status/${change++}`);
  }
}
