import { createDeadLetterQueue, createEventQueue } from '../adapters/queue/create.js';
import { createStore } from '../adapters/store/create.js';
import { lazyClient } from '../adapters/temporal/connection.js';
import { ConfigError, loadConfig } from '../config.js';
import { resolveTemporalTarget } from '../launcher/stack.js';
import { errorText, jsonLog } from './log.js';
import { startBridge, type RunningBridge } from './run.js';

// `npm run bridge`: the SQS bridge as a process of its own. SIGTERM or SIGINT stops polling,
// finishes the messages in flight (INFRAAI_BRIDGE_SHUTDOWN_SECONDS at most) and exits 0; a second
// signal exits at once (whatever was in flight comes back when its visibility runs out).

async function main(): Promise<void> {
  const config = loadConfig();
  const log = jsonLog(config.logLevel);
  if (!config.eventQueue)
    throw new ConfigError('Invalid configuration:\n  npm run bridge needs INFRAAI_SQS_QUEUE_URL (the queue to relay)');
  const target = await resolveTemporalTarget(config);
  const store = await createStore(config.store);
  const queue = createEventQueue(config.eventQueue)!;
  const deadLetter = createDeadLetterQueue(config.eventQueue);
  // Lazy: the bridge starts, answers its probes and holds what it receives while Temporal is down.
  const { client, connection } = lazyClient({ ...config.temporal, ...target });

  let running: RunningBridge | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log('warn', 'second signal: exiting now', { signal });
      process.exit(130);
    }
    stopping = true;
    log('info', 'stopping', { signal });
    let code = 0;
    try {
      await running?.stop();
    } catch (err) {
      log('error', 'stopping failed', { error: errorText(err) });
      code = 1;
    }
    queue.close();
    deadLetter?.close();
    await connection.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  running = await startBridge({ config, store, queue, deadLetter, client, log });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`[infraai] bridge failed: ${errorText(err, 2000)}`);
  process.exit(1);
});
