import { ActivityFailure, condition, isCancellation, patched, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ChatToolOutcome } from '../../activities/chat/index.js';
import { knowledgeStep, stepDetail as detail } from '../../core/chat/turn-end.js';
import { CHAT_CHILD_RUNS_PATCH, type ChatStep } from '../../core/contracts/chat.js';
import type { ToolCaller } from '../../tools/tool.js';
import { failureMessage } from '../runs/failures.js';
import { chatTools } from './activities.js';
import { startChildRun } from './child-runs.js';
import type { ChatConversation, OpenProposal } from './conversation.js';

export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: unknown;
  /** The tool only reads the store (the model step says so): a local activity runs it. */
  local?: boolean | undefined;
}

/** What a turn needs to run its tool calls. */
export interface TurnContext {
  conv: ChatConversation;
  turn: number;
  caller: ToolCaller;
  steps: ChatStep[];
}

/**
 * One tool call as its own activity. A call whose activity failed for good (a lost worker on its
 * last attempt) is stored as failed, so the model still reads a result for every call it made.
 */
async function runCall(
  ctx: TurnContext,
  call: ToolCallRequest,
  options: { confirmedHash?: string; announce?: boolean; local?: boolean } = {},
): Promise<ChatToolOutcome> {
  const { conv, turn, caller } = ctx;
  const { confirmedHash, announce = false } = options;
  // Runs a confirmed call records start as children of this workflow; before the patch, the call's activity started them.
  const childRuns = !announce && patched(CHAT_CHILD_RUNS_PATCH);
  const run = options.local && conv.localReadTools ? conv.store.runReadTool : chatTools.runChatTool;
  const { local: _local, ...toolCall } = call;
  try {
    const outcome = await run({
      ref: conv.ref,
      caller,
      turn,
      callKey: `${workflowInfo().workflowId}/${turn}/${call.id}`,
      call: toolCall,
      ...(confirmedHash ? { confirmedHash } : {}),
      ...(announce ? { announce } : {}),
      ...(childRuns ? { childRuns } : {}),
    });
    if (childRuns && outcome.status === 'ok' && outcome.childRun) await startChildRun(conv, turn, call.id, outcome.childRun);
    return outcome;
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    const message = failureMessage(err);
    await conv.store.persistChatMessages({
      ref: conv.ref,
      messages: [
        {
          key: `t${turn}/${call.id}/result`,
          role: 'tool',
          turn,
          content: `The tool failed: ${message}`,
          toolCallId: call.id,
          toolName: call.name,
        },
      ],
    });
    return { status: 'failed', preview: message, reason: 'activity_failed' };
  }
}

/** The knowledge search the workflow makes before a turn's first model step (stored as the turn's first tool exchange). */
export async function searchKnowledgeFirst(ctx: TurnContext, toolName: string, question: string): Promise<void> {
  const outcome = await runCall(ctx, { id: `kb-${ctx.turn}`, name: toolName, arguments: { query: question } }, { announce: true });
  if (outcome.status === 'refused' && outcome.reason === 'unknown_tool') return;
  ctx.steps.push(knowledgeStep(toolName, outcome));
}

/**
 * The model's tool calls of one step, all at once (independent calls run concurrently). Calls that
 * change something come back unrun and are proposed; each runs once its own matching confirmation
 * arrives, or is recorded as not run when rejected or expired. Returns the time spent waiting for
 * confirmations (not counted in the turn's budget).
 */
export async function runToolRound(ctx: TurnContext, calls: ToolCallRequest[]): Promise<number> {
  // Calls that only read the store run as local activities, without a task-queue round trip, but
  // only when the whole round does: a workflow task completes once its local activities have, so a
  // task-queue call beside a local one would wait for it instead of running at the same time.
  const local = calls.every((call) => call.local === true);
  const outcomes = await Promise.all(calls.map((call) => runCall(ctx, call, { local })));
  const proposed: { call: ToolCallRequest; proposal: OpenProposal }[] = [];
  outcomes.forEach((outcome, index) => {
    const call = calls[index]!;
    if (outcome.status !== 'needs_confirmation') {
      ctx.steps.push({ kind: 'tool', name: call.name, status: outcome.status, detail: detail(outcome.preview) });
      return;
    }
    const proposal: OpenProposal = {
      proposalId: uuid4(),
      tool: call.name,
      args: outcome.args,
      hash: outcome.hash,
      expiresAt: new Date(Date.now() + ctx.conv.settings.confirmationTimeoutMs).toISOString(),
      status: 'pending',
      decidedBy: null,
      decidedRole: null,
    };
    ctx.conv.proposals.set(proposal.proposalId, proposal);
    proposed.push({ call, proposal });
  });
  if (proposed.length === 0) return 0;
  const waitStarted = Date.now();
  ctx.conv.setStep('awaiting confirmation');
  await ctx.conv.store.recordChatEvents({
    ref: ctx.conv.ref,
    events: proposed.map(({ call, proposal }) => ({
      key: `t${ctx.turn}/${call.id}/proposed`,
      type: 'confirmation.requested' as const,
      data: {
        turn: ctx.turn,
        callId: call.id,
        proposalId: proposal.proposalId,
        tool: proposal.tool,
        args: proposal.args,
        hash: proposal.hash,
        expiresAt: proposal.expiresAt,
      },
    })),
  });
  await Promise.all(proposed.map(({ call, proposal }) => settleProposal(ctx, call, proposal)));
  return Date.now() - waitStarted;
}

/** Waits (durable timer) for one proposal's decision, then runs the call once or records that it did not run. */
async function settleProposal(ctx: TurnContext, call: ToolCallRequest, proposal: OpenProposal): Promise<void> {
  const { conv, turn } = ctx;
  const decided = await condition(() => proposal.status !== 'pending', Math.max(0, Date.parse(proposal.expiresAt) - Date.now()));
  if (!decided) proposal.status = 'expired';
  await conv.store.recordChatEvents({
    ref: conv.ref,
    events: [
      {
        key: `t${turn}/${call.id}/decided`,
        type: 'confirmation.decided',
        data: { turn, callId: call.id, proposalId: proposal.proposalId, decision: proposal.status, by: proposal.decidedBy },
      },
    ],
  });
  if (proposal.status === 'approved') {
    ctx.steps.push({ kind: 'confirmation', name: call.name, status: 'approved', detail: proposal.decidedBy });
    const caller = { ...ctx.caller, role: proposal.decidedRole ?? ctx.caller.role };
    const outcome = await runCall({ ...ctx, caller }, call, { confirmedHash: proposal.hash });
    const status = outcome.status === 'needs_confirmation' ? 'refused' : outcome.status;
    ctx.steps.push({
      kind: 'tool',
      name: call.name,
      status,
      detail: detail(outcome.status === 'needs_confirmation' ? 'the call changed after it was confirmed' : outcome.preview),
    });
    return;
  }
  const why =
    proposal.status === 'rejected'
      ? `The user rejected this call; it did not run.`
      : `Nobody confirmed this call within ${Math.round(conv.settings.confirmationTimeoutMs / 1000)} s; it expired and did not run.`;
  ctx.steps.push({ kind: 'confirmation', name: call.name, status: proposal.status as 'rejected' | 'expired', detail: why });
  await conv.store.persistChatMessages({
    ref: conv.ref,
    messages: [
      {
        key: `t${turn}/${call.id}/result`,
        role: 'tool',
        turn,
        content: why,
        toolCallId: call.id,
        toolName: call.name,
        data: { error: true, reason: proposal.status },
      },
    ],
  });
}
