// The event queue port: the queue PagerDuty events travel on between a webhook-to-SQS relay (or
// EventBridge, or POST /api/v1/queueAdd) and the bridge that relays them into Temporal. No vendor
// SDK here: the API and the bridge import this file; sqs.ts holds the implementation, create.ts
// builds it from config.
//
// Delivery is at least once. A received message stays on the queue, invisible for the visibility
// timeout, until it is deleted; one received more often than the redrive policy's maxReceiveCount
// moves to the dead-letter queue. On a FIFO queue the messages of one group are delivered in order
// and a deduplication id seen in the last 5 minutes is accepted and dropped.

export interface SendOptions {
  /** FIFO: the ordering group (a PagerDuty event's incident id). Ignored by a standard queue. */
  groupId?: string;
  /** FIFO: a repeat within 5 minutes is accepted and not delivered (a PagerDuty event's id). Ignored by a standard queue. */
  deduplicationId?: string;
  /** String message attributes (who sent it, which tenant), at most 10. */
  attributes?: Record<string, string>;
}

export interface SentMessage {
  /**
   * The queue's id of the message. A FIFO repeat inside the deduplication window is accepted without
   * being delivered: what comes back then is not the id of a message anyone will receive.
   */
  messageId: string;
  /** FIFO: the message's place in its group; null on a standard queue. */
  sequenceNumber: string | null;
}

export interface ReceiveOptions {
  /** 1 to 10 messages. */
  max: number;
  /** Long polling: wait up to this many seconds (0 to 20) for a first message. */
  waitSeconds: number;
  /** How long the received messages stay invisible to other receivers (0 to 43200 s). */
  visibilitySeconds: number;
  /**
   * Ends the long poll early (a consumer shutting down): the receive then resolves with no messages.
   * Any message the server handed out to the abandoned call reappears when its visibility runs out.
   */
  signal?: AbortSignal;
}

export interface ReceivedMessage {
  messageId: string;
  /** Names this delivery (changes with every receive); needed to delete it or extend its visibility. */
  receiptHandle: string;
  body: string;
  /** How often the message has been received, this delivery included (1 the first time). */
  receiveCount: number;
  /** FIFO: its group and deduplication id; null on a standard queue. */
  groupId: string | null;
  deduplicationId: string | null;
  sentAt: string | null;
  /** The string message attributes it was sent with. */
  attributes: Record<string, string>;
}

export interface QueueStats {
  /** Approximate, as SQS counts them (eventually consistent, may lag by a minute). */
  visible: number;
  inFlight: number;
  delayed: number;
  /** Messages waiting in the dead-letter queue; null when none is configured. */
  deadLetter: number | null;
}

/** How the queue itself is set up (read from the queue, not from config). */
export interface QueueDescription {
  /** The queue's default visibility timeout, used by a receive that names none. */
  visibilitySeconds: number;
  /**
   * The redrive policy: after maxReceiveCount receives the queue itself moves a message to this
   * dead-letter queue, whatever its consumer does (the backstop for a consumer that keeps failing
   * or crashing on it). Null: none, a message that is never deleted stays until its retention ends.
   */
  redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | null;
}

export interface RemoveByIdOptions {
  /** Only a message whose attributes hold these values is removed; others count as not seen. */
  match?: Record<string, string>;
}

export interface DeleteBatchResult {
  /** The entries not deleted, each with the queue's reason; the others were deleted. */
  failed: { receiptHandle: string; reason: string }[];
}

/** At most this many receipt handles per deleteBatch (SQS's batch limit). */
export const DELETE_BATCH_MAX = 10;

export interface EventQueue {
  readonly url: string;
  readonly fifo: boolean;
  send(body: string, options?: SendOptions): Promise<SentMessage>;
  receive(options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Throws QueueMessageNotFoundError when the queue does not know the receipt handle. */
  delete(receiptHandle: string): Promise<void>;
  /**
   * Deletes 1 to 10 deliveries in one call (SQS DeleteMessageBatch). An entry the queue refuses (an
   * unknown or expired handle) is reported in `failed` with its reason, not thrown; the call as a
   * whole failing (the queue unreachable) throws QueueUnavailableError.
   */
  deleteBatch(receiptHandles: string[]): Promise<DeleteBatchResult>;
  /** The delivery stays invisible for `seconds` from now; QueueMessageNotFoundError for an unknown handle. */
  extendVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /**
   * Deletes a message by its id, which SQS itself cannot do: receives the visible messages in a
   * bounded scan (REMOVE_BY_ID_SCAN_LIMIT at most) and deletes the one with that id, making every
   * other scanned message visible again at once. False when it was not seen: it may not exist, be in
   * flight with a consumer, be delayed, or sit beyond the scan. Each scanned message's receive count
   * goes up by one, which counts toward the redrive policy's maxReceiveCount.
   */
  removeById(messageId: string, options?: RemoveByIdOptions): Promise<boolean>;
  stats(): Promise<QueueStats>;
  describe(): Promise<QueueDescription>;
  close(): void;
}

/** At most this many messages are received by one removeById scan (10 per receive). */
export const REMOVE_BY_ID_SCAN_LIMIT = 100;

/** SQS's largest message body (256 KiB) for the queues it creates by default. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** The queue is unreachable or refused the call for a reason other than the request (retry later). */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** The receipt handle names no delivery the queue knows (deleted, or never issued). */
export class QueueMessageNotFoundError extends Error {
  override readonly name = 'QueueMessageNotFoundError';
}

/** The message or its options are not what the queue accepts (size, a FIFO send without a group). */
export class QueueMessageRejectedError extends Error {
  override readonly name = 'QueueMessageRejectedError';
}
