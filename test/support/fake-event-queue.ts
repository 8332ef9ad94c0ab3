import { randomUUID } from 'node:crypto';
import {
  DELETE_BATCH_MAX,
  QueueMessageNotFoundError,
  QueueMessageRejectedError,
  type DeleteBatchResult,
  type EventQueue,
  type QueueDescription,
  type QueueStats,
  type ReceivedMessage,
  type RemoveByIdOptions,
  type SendOptions,
  type SentMessage,
} from '../../adapters/queue/port.js';

/**
 * An in-memory stand-in for the event queue where no SQS server runs (the OpenAPI fuzz run): it
 * keeps what is sent and removes it by id or by a receipt handle it issued. No visibility timeouts,
 * no FIFO deduplication, no redrive: what SQS does is tested against moto (test/integration/queue-sqs.test.ts).
 */
export class FakeEventQueue implements EventQueue {
  readonly url = 'memory://event-queue';
  readonly fifo = false;
  readonly messages: (ReceivedMessage & { sendOptions: SendOptions })[] = [];

  send(body: string, options: SendOptions = {}): Promise<SentMessage> {
    const messageId = randomUUID();
    this.messages.push({
      messageId,
      receiptHandle: `fake-${randomUUID()}`,
      body,
      receiveCount: 0,
      groupId: options.groupId ?? null,
      deduplicationId: options.deduplicationId ?? null,
      sentAt: new Date().toISOString(),
      attributes: { ...options.attributes },
      sendOptions: options,
    });
    return Promise.resolve({ messageId, sequenceNumber: null });
  }

  receive(): Promise<ReceivedMessage[]> {
    return Promise.resolve(this.messages.slice(0, 10));
  }

  delete(receiptHandle: string): Promise<void> {
    const at = this.messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (at < 0) return Promise.reject(new QueueMessageNotFoundError(`no delivery ${receiptHandle}`));
    this.messages.splice(at, 1);
    return Promise.resolve();
  }

  /** Calls to deleteBatch so far (tests count them). */
  deleteBatchCalls = 0;

  deleteBatch(receiptHandles: string[]): Promise<DeleteBatchResult> {
    if (receiptHandles.length < 1 || receiptHandles.length > DELETE_BATCH_MAX) {
      return Promise.reject(new QueueMessageRejectedError(`deleteBatch takes 1 to ${DELETE_BATCH_MAX} handles`));
    }
    this.deleteBatchCalls += 1;
    const failed: DeleteBatchResult['failed'] = [];
    for (const handle of receiptHandles) {
      const at = this.messages.findIndex((m) => m.receiptHandle === handle);
      if (at < 0) failed.push({ receiptHandle: handle, reason: 'ReceiptHandleIsInvalid: no such delivery' });
      else this.messages.splice(at, 1);
    }
    return Promise.resolve({ failed });
  }

  extendVisibility(receiptHandle: string): Promise<void> {
    return this.messages.some((m) => m.receiptHandle === receiptHandle)
      ? Promise.resolve()
      : Promise.reject(new QueueMessageNotFoundError(`no delivery ${receiptHandle}`));
  }

  removeById(messageId: string, { match }: RemoveByIdOptions = {}): Promise<boolean> {
    const at = this.messages.findIndex(
      (m) => m.messageId === messageId && Object.entries(match ?? {}).every(([k, v]) => m.attributes[k] === v),
    );
    if (at >= 0) this.messages.splice(at, 1);
    return Promise.resolve(at >= 0);
  }

  stats(): Promise<QueueStats> {
    return Promise.resolve({ visible: this.messages.length, inFlight: 0, delayed: 0, deadLetter: null });
  }

  describe(): Promise<QueueDescription> {
    return Promise.resolve({ visibilitySeconds: 30, redrive: null });
  }

  close(): void {}
}
