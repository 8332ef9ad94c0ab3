import { condition, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

// The baseline's trivial workflows: they do nothing of their own, so a bench measures Temporal alone.

export async function benchNoop(): Promise<string> {
  return 'ok';
}

/** A no-op activity (bench/chat.ts registers it in its own worker). */
export interface BenchNoopActivities {
  benchNoopActivity(): Promise<void>;
}

const { benchNoopActivity } = proxyActivities<BenchNoopActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/** Answers once its `activities` no-op activities have run one after another (0: at once). */
export const benchTurnUpdate = defineUpdate<number, [number]>('benchTurn');
export const benchStopSignal = defineSignal('benchStop');

/** A conversation's Temporal floor: a long-lived run whose update runs N activities in sequence. */
export async function benchUpdatable(): Promise<void> {
  let stop = false;
  setHandler(benchTurnUpdate, async (activities) => {
    for (let i = 0; i < activities; i += 1) await benchNoopActivity();
    return activities;
  });
  setHandler(benchStopSignal, () => void (stop = true));
  await condition(() => stop);
}
