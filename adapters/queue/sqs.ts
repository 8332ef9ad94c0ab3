import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import {
  DELETE_BATCH_MAX,
  MAX_MESSAGE_BYTES,
  QueueMessageNotFoundError,
  QueueMessageRejectedError,
  QueueUnavailableError,
  REMOVE_BY_ID_SCAN_LIMIT,
  type DeleteBatchResult,
  type EventQueue,
  type QueueDescription,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  type RemoveByIdOptions,
  type SendOptions,
  type SentMessage,
} from './port.js';

// The event queue on Amazon SQS (or an SQS-compatible server: moto, LocalStack, ElasticMQ) through
// @aws-sdk/client-sqs. The only file that imports the SDK.

export interface SqsQueueOptions {
  queueUrl: string;
  /** The dead-letter queue the redrive policy moves messages to; stats() counts it. Null: none. */
  deadLetterQueueUrl?: string | null;
  region: string;
  /** An SQS-compatible endpoint (tests, LocalStack); null: AWS's. */
  endpoint?: string | null;
  /** Tests pass static credentials; otherwise the SDK's chain (environment, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  client?: SQSClient;
}

/** A long poll with no answer this long after its wait time is given up (the queue counts as unreachable). */
const RECEIVE_MARGIN_SECONDS = 10;

/** Scanned messages stay invisible while a removeById scan runs, then are released at once. */
const SCAN_VISIBILITY_SECONDS = 30;

const NOT_FOUND = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidIdFormat']);
const REJECTED = new Set([
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'MissingParameter',
  'InvalidMessageContents',
  'InvalidAttributeValue',
  'InvalidAttributeName',
  'BatchRequestTooLong',
  'ValidationException',
]);

/** An SDK error as a port error: unknown handle, refused message, or the queue unavailable. */
function translate(err: unknown, what: string): Error {
  const name = (err as { name?: string }).name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (NOT_FOUND.has(name)) return new QueueMessageNotFoundError(`${what}: ${message}`);
  if (REJECTED.has(name)) return new QueueMessageRejectedError(`${what}: ${message}`);
  return new QueueUnavailableError(`${what}: ${name ? `${name}: ` : ''}${message}`);
}

function stringAttributes(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (typeof value.StringValue === 'string') out[name] = value.StringValue;
  }
  return out;
}

function toReceived(message: Message): ReceivedMessage {
  const system = message.Attributes ?? {};
  const sent = Number(system.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    receiveCount: Number(system.ApproximateReceiveCount ?? 1),
    groupId: system.MessageGroupId ?? null,
    deduplicationId: system.MessageDeduplicationId ?? null,
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    attributes: stringAttributes(message.MessageAttributes),
  };
}

export class SqsEventQueue implements EventQueue {
  readonly url: string;
  readonly fifo: boolean;
  private readonly deadLetterUrl: string | null;
  private readonly client: SQSClient;

  constructor(options: SqsQueueOptions) {
    this.url = options.queueUrl;
    this.fifo = options.queueUrl.endsWith('.fifo');
    this.deadLetterUrl = options.deadLetterQueueUrl ?? null;
    this.client =
      options.client ??
      new SQSClient({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        // Bounded: a queue that does not answer fails the call (the API answers 503) instead of hanging it.
        maxAttempts: 3,
      });
  }

  async send(body: string, options: SendOptions = {}): Promise<SentMessage> {
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
      throw new QueueMessageRejectedError(`the message is ${Buffer.byteLength(body)} bytes; SQS takes at most ${MAX_MESSAGE_BYTES}`);
    }
    if (this.fifo && !options.groupId) throw new QueueMessageRejectedError('a FIFO queue needs a message group id');
    const attributes = Object.entries(options.attributes ?? {});
    try {
      const sent = await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.url,
          MessageBody: body,
          // A standard queue refuses FIFO parameters: they are sent only where they mean something.
          ...(this.fifo ? { MessageGroupId: options.groupId } : {}),
          ...(this.fifo && options.deduplicationId ? { MessageDeduplicationId: options.deduplicationId } : {}),
          ...(attributes.length > 0
            ? { MessageAttributes: Object.fromEntries(attributes.map(([k, v]) => [k, { DataType: 'String', StringValue: v }])) }
            : {}),
        }),
      );
      return { messageId: sent.MessageId ?? '', sequenceNumber: sent.SequenceNumber ?? null };
    } catch (err) {
      throw translate(err, 'SendMessage');
    }
  }

  async receive({ max, waitSeconds, visibilitySeconds, signal }: ReceiveOptions): Promise<ReceivedMessage[]> {
    if (signal?.aborted) return [];
    // A long poll the server never answers (a half-open connection, a proxy that swallows it) would
    // hang the consumer for good: past the wait plus a margin it fails like an unreachable queue.
    const deadline = AbortSignal.timeout((waitSeconds + RECEIVE_MARGIN_SECONDS) * 1000);
    try {
      const received = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: visibilitySeconds,
          MessageAttributeNames: ['All'],
          // SQS reads MessageSystemAttributeNames; the deprecated AttributeNames is what older
          // compatible servers (moto 5.1) read. Both asked, every server answers the same.
          MessageSystemAttributeNames: ['All'],
          AttributeNames: ['All'],
        }),
        { abortSignal: signal ? AbortSignal.any([signal, deadline]) : deadline },
      );
      return (received.Messages ?? []).map(toReceived);
    } catch (err) {
      if (signal?.aborted) return [];
      if (deadline.aborted) {
        throw new QueueUnavailableError(`ReceiveMessage: no answer within ${waitSeconds + RECEIVE_MARGIN_SECONDS} s`);
      }
      throw translate(err, 'ReceiveMessage');
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    try {
      await this.client.send(new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: receiptHandle }));
    } catch (err) {
      throw translate(err, 'DeleteMessage');
    }
  }

  async deleteBatch(receiptHandles: string[]): Promise<DeleteBatchResult> {
    if (receiptHandles.length < 1 || receiptHandles.length > DELETE_BATCH_MAX) {
      throw new QueueMessageRejectedError(
        `DeleteMessageBatch takes 1 to ${DELETE_BATCH_MAX} receipt handles, not ${receiptHandles.length}`,
      );
    }
    let answer;
    try {
      answer = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.url,
          // Entry ids are the handles' positions: unique within the call, as SQS requires.
          Entries: receiptHandles.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
        }),
      );
    } catch (err) {
      // The call as a whole failed: nothing is known to be deleted. A refused request (its shape) is
      // the caller's bug; anything else is the queue not answering.
      const translated = translate(err, 'DeleteMessageBatch');
      throw translated instanceof QueueMessageRejectedError ? translated : new QueueUnavailableError(translated.message);
    }
    const failed = (answer.Failed ?? []).map((entry) => ({
      receiptHandle: receiptHandles[Number(entry.Id)] ?? '',
      reason: `${entry.Code ?? 'unknown'}${entry.SenderFault ? ' (sender fault)' : ''}: ${entry.Message ?? ''}`.trim(),
    }));
    return { failed };
  }

  async extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.url, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      );
    } catch (err) {
      throw translate(err, 'ChangeMessageVisibility');
    }
  }

  async removeById(messageId: string, { match }: RemoveByIdOptions = {}): Promise<boolean> {
    // Everything scanned is held invisible until the scan ends, so that each receive brings messages
    // not seen yet; then all of it is released in one go (also when the scan fails half-way).
    const held: ReceivedMessage[] = [];
    let removed = false;
    try {
      while (held.length < REMOVE_BY_ID_SCAN_LIMIT) {
        // One second of long polling: a short poll samples only some of SQS's servers and can come back empty.
        const batch = await this.receive({
          max: Math.min(10, REMOVE_BY_ID_SCAN_LIMIT - held.length),
          waitSeconds: 1,
          visibilitySeconds: SCAN_VISIBILITY_SECONDS,
        });
        if (batch.length === 0) break;
        for (const message of batch) {
          const matches =
            !removed &&
            message.messageId === messageId &&
            Object.entries(match ?? {}).every(([name, value]) => message.attributes[name] === value);
          if (matches) {
            await this.delete(message.receiptHandle);
            removed = true;
          } else held.push(message);
        }
        if (removed) break;
      }
    } finally {
      await this.release(held);
    }
    return removed;
  }

  /** Makes held deliveries visible again now, ten per call (a handle gone meanwhile is no error). */
  private async release(messages: ReceivedMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      try {
        await this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.url,
            Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })),
          }),
        );
      } catch {
        // Not released now, they reappear when SCAN_VISIBILITY_SECONDS run out: late, never lost.
      }
    }
  }

  async stats(): Promise<QueueStats> {
    try {
      const main = await this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      const dead = this.deadLetterUrl
        ? await this.client.send(
            new GetQueueAttributesCommand({ QueueUrl: this.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
          )
        : null;
      const count = (value: string | undefined) => Number(value ?? 0) || 0;
      return {
        visible: count(main.Attributes?.ApproximateNumberOfMessages),
        inFlight: count(main.Attributes?.ApproximateNumberOfMessagesNotVisible),
        delayed: count(main.Attributes?.ApproximateNumberOfMessagesDelayed),
        deadLetter: dead ? count(dead.Attributes?.ApproximateNumberOfMessages) : null,
      };
    } catch (err) {
      throw translate(err, 'GetQueueAttributes');
    }
  }

  async describe(): Promise<QueueDescription> {
    try {
      const answer = await this.client.send(
        new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
      );
      const policy = answer.Attributes?.RedrivePolicy;
      let redrive: QueueDescription['redrive'] = null;
      if (policy) {
        const parsed = JSON.parse(policy) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        const maxReceiveCount = Number(parsed.maxReceiveCount);
        if (typeof parsed.deadLetterTargetArn === 'string' && Number.isInteger(maxReceiveCount) && maxReceiveCount > 0) {
          redrive = { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount };
        }
      }
      return { visibilitySeconds: Number(answer.Attributes?.VisibilityTimeout ?? 30) || 30, redrive };
    } catch (err) {
      throw translate(err, 'GetQueueAttributes');
    }
  }

  close(): void {
    this.client.destroy();
  }
}
