import { MemoryRunEventBus } from './memory.js';
import type { RunEventBus } from './port.js';
import { PostgresRunEventBus } from './postgres.js';
import { RedisRunEventBus } from './redis.js';

export type EventBusConfig = { kind: 'memory' } | { kind: 'postgres'; url: string } | { kind: 'redis'; url: string };

export function createRunEventBus(config: EventBusConfig, onError?: (err: Error) => void): RunEventBus {
  switch (config.kind) {
    case 'memory':
      return new MemoryRunEventBus();
    case 'postgres':
      return new PostgresRunEventBus({ connectionString: config.url, ...(onError ? { onError } : {}) });
    case 'redis':
      return new RedisRunEventBus(config.url, onError);
  }
}
