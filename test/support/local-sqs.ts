import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { SqsEventQueue } from '../../adapters/queue/sqs.js';
import { startFauxqs } from './fauxqs.js';
import { startMoto, type MotoServer } from './moto.js';

// SQS queues on a local SQS-compatible server: moto's server mode for the queue tests, fauxqs for the
// bridge's throughput benchmark (test/support/fauxqs.ts says why). Each test makes queues of its own
// (unique names), FIFO or standard, optionally with a dead-letter queue and a redrive policy.

export const LOCAL_SQS_REGION = 'us-east-1';
export const LOCAL_SQS_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LocalQueue {
  url: string;
  arn: string;
  /** The adapter over this queue (and its dead-letter queue, when there is one). */
  queue: SqsEventQueue;
  deadLetter: { url: string; arn: string } | null;
}

export interface LocalSqs {
  server: MotoServer;
  client: SQSClient;
  createQueue(options: { fifo: boolean; deadLetter?: { maxReceiveCount: number } }): Promise<LocalQueue>;
  stop(): Promise<void>;
}

export async function startMotoSqs(executable: string): Promise<LocalSqs> {
  return sqsOn(await startMoto(executable));
}

export async function startFauxqsSqs(): Promise<LocalSqs> {
  return sqsOn(await startFauxqs());
}

function sqsOn(server: MotoServer): LocalSqs {
  const client = new SQSClient({ region: LOCAL_SQS_REGION, endpoint: server.endpoint, credentials: LOCAL_SQS_CREDENTIALS });
  const queues: SqsEventQueue[] = [];

  async function make(name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
    const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = created.QueueUrl!;
    const described = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: described.Attributes!.QueueArn! };
  }

  return {
    server,
    client,
    async createQueue({ fifo, deadLetter }) {
      const base = `infraai-${randomUUID().slice(0, 8)}`;
      const suffix = fifo ? '.fifo' : '';
      const kind: Record<string, string> = fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
      const dlq = deadLetter ? await make(`${base}-dlq${suffix}`, kind) : null;
      const main = await make(`${base}${suffix}`, {
        ...kind,
        ...(dlq && deadLetter
          ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: deadLetter.maxReceiveCount }) }
          : {}),
      });
      const queue = new SqsEventQueue({
        queueUrl: main.url,
        deadLetterQueueUrl: dlq?.url ?? null,
        region: LOCAL_SQS_REGION,
        endpoint: server.endpoint,
        credentials: LOCAL_SQS_CREDENTIALS,
      });
      queues.push(queue);
      return { ...main, queue, deadLetter: dlq };
    },
    async stop() {
      for (const queue of queues) queue.close();
      client.destroy();
      await server.stop();
    },
  };
}
