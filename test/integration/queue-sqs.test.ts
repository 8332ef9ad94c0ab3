import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QueueMessageNotFoundError,
  QueueMessageRejectedError,
  QueueUnavailableError,
  REMOVE_BY_ID_SCAN_LIMIT,
} from '../../adapters/queue/port.js';
import { SqsEventQueue } from '../../adapters/queue/sqs.js';
import { ensureMoto } from '../support/moto.js';
import { LOCAL_SQS_CREDENTIALS, LOCAL_SQS_REGION, startMotoSqs, type LocalSqs } from '../support/local-sqs.js';

// The event queue port's contract, against SQS as moto's server mode serves it (a local
// SQS-compatible endpoint; FIFO groups and deduplication, visibility timeouts and redrive to a
// dead-letter queue are moto's own): every queue is made by the test, standard and FIFO alike.

const moto = await ensureMoto();
if ('error' in moto) {
  if (process.env.CI === 'true') throw new Error(`moto is required under CI (npm ci installs it): ${moto.error}`);
  console.warn(`SQS queue tests skipped: ${moto.error.split('\n')[0]}`);
}

let sqs: LocalSqs;

beforeAll(async () => {
  if ('error' in moto) return;
  sqs = await startMotoSqs(moto.executable);
});

afterAll(async () => {
  await sqs?.stop();
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.skipIf('error' in moto).each([
  { kind: 'standard', fifo: false },
  { kind: 'FIFO', fifo: true },
])('the SQS event queue ($kind)', ({ fifo }) => {
  const opts = (n: number) => ({ groupId: 'PGR0VU2', deduplicationId: `event-${n}-${Math.random()}` });

  it('sends a message and receives it with its id, body, receive count and attributes', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    expect(queue.fifo).toBe(fifo);
    const sent = await queue.send('{"hello":"world"}', { ...opts(1), attributes: { 'infraai.tenant': 't-1' } });
    expect(sent.messageId).toMatch(/^[0-9a-f-]{36}$/);
    // SQS gives a FIFO message's sequence number on send; moto 5.1 does not, so only the standard case is asserted.
    if (!fifo) expect(sent.sequenceNumber).toBeNull();
    const [message, ...rest] = await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 30 });
    expect(rest).toEqual([]);
    expect(message).toMatchObject({
      messageId: sent.messageId,
      body: '{"hello":"world"}',
      receiveCount: 1,
      attributes: { 'infraai.tenant': 't-1' },
    });
    expect(message!.receiptHandle.length).toBeGreaterThan(0);
    expect(Date.parse(message!.sentAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(message!.groupId).toBe(fifo ? 'PGR0VU2' : null);
    expect(message!.deduplicationId === null).toBe(!fifo);
    // In flight: nobody else receives it until its visibility runs out.
    expect(await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
  });

  it('deletes by receipt handle, and says not found for a handle it never issued', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    await queue.send('one', opts(1));
    const [message] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 1 });
    await queue.delete(message!.receiptHandle);
    await sleep(1500);
    expect(await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 0 });
    await expect(queue.delete('not-a-receipt-handle')).rejects.toBeInstanceOf(QueueMessageNotFoundError);
  });

  it('deletes up to ten deliveries in one batch, reporting a refused entry instead of throwing', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    // FIFO: a group hands out one message at a time only while one is in flight, so three groups.
    for (let n = 1; n <= 3; n++) await queue.send(`batch ${n}`, { ...opts(n), groupId: `G${n}` });
    const received = [];
    for (let tries = 0; received.length < 3 && tries < 5; tries++) {
      received.push(...(await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 1 })));
    }
    expect(received).toHaveLength(3);
    const { failed } = await queue.deleteBatch([...received.map((m) => m.receiptHandle), 'not-a-receipt-handle']);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ receiptHandle: 'not-a-receipt-handle' });
    expect(failed[0]!.reason).toMatch(/ReceiptHandleIsInvalid/);
    await sleep(1500);
    expect(await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 0 });
    await expect(queue.deleteBatch([])).rejects.toBeInstanceOf(QueueMessageRejectedError);
    await expect(queue.deleteBatch(Array.from({ length: 11 }, (_, i) => `h${i}`))).rejects.toBeInstanceOf(QueueMessageRejectedError);
    // The call as a whole failing (nothing answers there) is the queue unavailable.
    const unreachable = new SqsEventQueue({
      queueUrl: queue.url,
      region: LOCAL_SQS_REGION,
      endpoint: 'http://127.0.0.1:9',
      credentials: LOCAL_SQS_CREDENTIALS,
    });
    try {
      await expect(unreachable.deleteBatch(['any'])).rejects.toBeInstanceOf(QueueUnavailableError);
    } finally {
      unreachable.close();
    }
  });

  it('extends a delivery’s visibility, and ends it early with 0 (the message is received again, count 2)', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    await queue.send('slow work', opts(1));
    const [first] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 1 });
    await queue.extendVisibility(first!.receiptHandle, 30);
    await sleep(1500);
    expect(await queue.receive({ max: 1, waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
    await queue.extendVisibility(first!.receiptHandle, 0);
    const [again] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 30 });
    expect(again).toMatchObject({ messageId: first!.messageId, receiveCount: 2 });
    await expect(queue.extendVisibility('not-a-receipt-handle', 10)).rejects.toBeInstanceOf(QueueMessageNotFoundError);
  });

  it('removes by message id through a bounded scan, releasing every other message at once', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    // Three incidents (three groups on FIFO): each message is at the head of its group.
    const ids: string[] = [];
    for (const group of ['PA', 'PB', 'PC']) {
      ids.push(
        (await queue.send(`m-${group}`, { groupId: group, deduplicationId: `d-${group}`, attributes: { 'infraai.tenant': 'acme' } }))
          .messageId,
      );
    }
    expect(await queue.removeById(ids[1]!, { match: { 'infraai.tenant': 'acme' } })).toBe(true);
    // The others are visible again now, not after the scan's visibility timeout.
    const left = await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 30 });
    expect(left.map((m) => m.body).sort()).toEqual(['m-PA', 'm-PC']);
    for (const m of left) await queue.extendVisibility(m.receiptHandle, 0);

    // Another tenant's message, an unknown id: not seen, nothing removed, nothing held back.
    expect(await queue.removeById(ids[0]!, { match: { 'infraai.tenant': 'globex' } })).toBe(false);
    expect(await queue.removeById('00000000-0000-4000-8000-000000000000')).toBe(false);
    expect(await queue.stats()).toMatchObject({ visible: 2, inFlight: 0 });
  });

  it('reports a message in flight with a consumer as not seen by removeById', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    const { messageId } = await queue.send('busy', opts(1));
    await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 30 });
    expect(await queue.removeById(messageId)).toBe(false);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 1 });
  });

  it('moves a message received more often than maxReceiveCount to the dead-letter queue', async () => {
    const { queue, deadLetter } = await sqs.createQueue({ fifo, deadLetter: { maxReceiveCount: 2 } });
    const { messageId } = await queue.send('poison', opts(1));
    for (const expected of [1, 2]) {
      const [message] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 0 });
      expect(message).toMatchObject({ messageId, receiveCount: expected });
    }
    // The third receive finds it over the limit: SQS moves it instead of delivering it.
    expect(await queue.receive({ max: 1, waitSeconds: 0, visibilitySeconds: 0 })).toEqual([]);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 0, deadLetter: 1 });
    const dlq = new SqsEventQueue({
      queueUrl: deadLetter!.url,
      region: LOCAL_SQS_REGION,
      endpoint: sqs.server.endpoint,
      credentials: LOCAL_SQS_CREDENTIALS,
    });
    try {
      const [dead] = await dlq.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 30 });
      expect(dead).toMatchObject({ messageId, body: 'poison' });
    } finally {
      dlq.close();
    }
  });

  it('counts messages in stats and refuses a message over the size limit', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    for (const n of [1, 2, 3]) await queue.send(`m${n}`, { groupId: `G${n}`, deduplicationId: `d${n}` });
    expect(await queue.stats()).toEqual({ visible: 3, inFlight: 0, delayed: 0, deadLetter: null });
    await expect(queue.send('x'.repeat(256 * 1024 + 1), opts(9))).rejects.toBeInstanceOf(QueueMessageRejectedError);
  });

  it('describes its redrive policy (the backstop a consumer reads at start), or none', async () => {
    const plain = await sqs.createQueue({ fifo });
    expect(await plain.queue.describe()).toEqual({ visibilitySeconds: 30, redrive: null });
    const guarded = await sqs.createQueue({ fifo, deadLetter: { maxReceiveCount: 4 } });
    expect(await guarded.queue.describe()).toMatchObject({
      redrive: { deadLetterTargetArn: guarded.deadLetter!.arn, maxReceiveCount: 4 },
    });
  });

  it('ends a long poll at once when its signal aborts, with no messages', async () => {
    const { queue } = await sqs.createQueue({ fifo });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 200);
    expect(await queue.receive({ max: 10, waitSeconds: 20, visibilitySeconds: 30, signal: abort.signal })).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe.skipIf('error' in moto)('the SQS event queue (FIFO only)', () => {
  it('delivers one message for the same deduplication id within 5 minutes', async () => {
    const { queue } = await sqs.createQueue({ fifo: true });
    await queue.send('{"event":1}', { groupId: 'PGR0VU2', deduplicationId: 'evt-1' });
    await queue.send('{"event":1}', { groupId: 'PGR0VU2', deduplicationId: 'evt-1' });
    expect(await queue.stats()).toMatchObject({ visible: 1 });
  });

  it('keeps the order of one group', async () => {
    const { queue } = await sqs.createQueue({ fifo: true });
    for (const n of [1, 2, 3, 4]) await queue.send(`e${n}`, { groupId: 'PGR0VU2', deduplicationId: `e${n}` });
    const bodies: string[] = [];
    while (bodies.length < 4) {
      const batch = await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 30 });
      expect(batch.length).toBeGreaterThan(0);
      for (const m of batch) {
        bodies.push(m.body);
        await queue.delete(m.receiptHandle);
      }
    }
    expect(bodies).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it('refuses a FIFO send without a group', async () => {
    const { queue } = await sqs.createQueue({ fifo: true });
    await expect(queue.send('x')).rejects.toBeInstanceOf(QueueMessageRejectedError);
  });
});

describe.skipIf('error' in moto)('the SQS event queue (standard only)', () => {
  it('scans at most REMOVE_BY_ID_SCAN_LIMIT messages: one beyond them is reported not seen, and left on the queue', async () => {
    const { queue } = await sqs.createQueue({ fifo: false });
    const ids: string[] = [];
    for (let n = 0; n < REMOVE_BY_ID_SCAN_LIMIT + 5; n++) ids.push((await queue.send(`m${n}`)).messageId);
    // moto hands a standard queue's messages out in the order they came (SQS promises no order).
    expect(await queue.removeById(ids.at(-1)!)).toBe(false);
    expect(await queue.removeById(ids[0]!)).toBe(true);
    expect(await queue.stats()).toMatchObject({ visible: REMOVE_BY_ID_SCAN_LIMIT + 4, inFlight: 0 });
  });
});
