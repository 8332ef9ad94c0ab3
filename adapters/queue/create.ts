import type { EventQueue } from './port.js';
import { SqsEventQueue } from './sqs.js';

// Builds the event queue from config (INFRAAI_SQS_*). The composition root imports this file, never
// sqs.ts, so that nothing else loads the AWS SDK.

export interface EventQueueConfig {
  kind: 'sqs';
  queueUrl: string;
  /** The queue's dead-letter queue (its redrive policy's target), counted by stats(); null: none. */
  deadLetterQueueUrl: string | null;
  region: string;
  /** An SQS-compatible endpoint (moto, LocalStack); null: AWS. */
  endpoint: string | null;
}

/** The configured queue, or null when none is (the queue endpoints then answer 503). */
export function createEventQueue(config: EventQueueConfig | null): EventQueue | null {
  if (!config) return null;
  return new SqsEventQueue({
    queueUrl: config.queueUrl,
    deadLetterQueueUrl: config.deadLetterQueueUrl,
    region: config.region,
    endpoint: config.endpoint,
  });
}

/**
 * The dead-letter queue as a queue of its own (INFRAAI_SQS_DLQ_URL), for a consumer that moves a
 * message there itself with the reason attached; null when none is configured.
 */
export function createDeadLetterQueue(config: EventQueueConfig | null): EventQueue | null {
  if (!config?.deadLetterQueueUrl) return null;
  return new SqsEventQueue({
    queueUrl: config.deadLetterQueueUrl,
    region: config.region,
    endpoint: config.endpoint,
  });
}
