import { Context } from '@temporalio/activity';

/**
 * How often a chat step heartbeats while it works: well inside the heartbeat timeout of
 * CHAT_TOOL_STEP and CHAT_MODEL_STEP, so a worker lost mid-step (killed, its host gone) is noticed
 * within that timeout and the step retried on another worker, not at startToClose minutes later.
 */
export const CHAT_HEARTBEAT_MS = 5_000;

export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  // A local activity has no heartbeat: the worker that runs it is the one running its workflow.
  if (context.info.isLocal) return work();
  // No beat at the start: the heartbeat timeout counts from the start, and most steps end well
  // before the first interval (an early beat was one more call to the server on every step).
  const beat = setInterval(() => context.heartbeat(), CHAT_HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
