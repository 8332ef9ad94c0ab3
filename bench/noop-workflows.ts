import { condition, defineSignal, defineUpdate, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';

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

const local = proxyLocalActivities<BenchNoopActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });

/**
 * Answers once its no-op steps have run one after another: a number of activities (0: at once), or a
 * shape, one letter a step: `A` an activity, `L` a local activity (`ALAL`: a chat turn of two model steps).
 */
export const benchTurnUpdate = defineUpdate<number, [number | string]>('benchTurn');
export const benchStopSignal = defineSignal('benchStop');

/** A conversation's Temporal floor: a long-lived run whose update runs N activities in sequence. */
export async function benchUpdatable(): Promise<void> {
  let stop = false;
  setHandler(benchTurnUpdate, async (shape) => {
    const steps = typeof shape === 'number' ? 'A'.repeat(shape) : shape;
    for (const step of steps) await (step === 'L' ? local.benchNoopActivity() : benchNoopActivity());
    return steps.length;
  });
  setHandler(benchStopSignal, () => void (stop = true));
  await condition(() => stop);
}
