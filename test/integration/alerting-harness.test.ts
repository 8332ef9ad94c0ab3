import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alertingProblems,
  serviceDownRule,
  startAlerting,
  type AlertingHarness,
  type ReceiverAuth,
  type WebhookNotification,
} from '../support/alerting.js';
import { listenLocal, localUrl } from '../support/local-server.js';
import { waitFor } from '../support/stack.js';

// The harness the real end-to-end test (test/lab/alert-self-healing.test.ts) stands on, proven with
// nothing of InfraAI in it: Debian's Prometheus scrapes a small local target every second, the
// ServiceDown rule fires when the target stops answering, Debian's Alertmanager posts the firing
// notification (webhook payload version 4) to a local receiver with the credentials of its
// http_config, and the resolved one once the target answers again.

const problems = alertingProblems();
// A fresh machine gets both packages from `npm ci` (scripts/setup.ts): under CI a missing one fails the file.
if (problems.length > 0 && process.env.CI === 'true') throw new Error(`The alerting harness cannot run under CI: ${problems.join('; ')}`);

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: WebhookNotification;
}

/** A scrape target on a fixed port that can be taken down (connections refused) and brought back. */
class ToggledTarget {
  private server: Server | null = null;
  port = 0;

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE toy_up gauge\ntoy_up 1\n');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A webhook receiver that records every notification with its headers and answers 200. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      received.push({ at: Date.now(), headers: req.headers, body: JSON.parse(raw) as WebhookNotification });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await listenLocal(server);
  return {
    url: `${localUrl(server)}/api/v1/alerts`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(problems.length > 0)(`alerting harness${problems.length ? ` (skipped: ${problems.join('; ')})` : ''}`, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Target up and scraped, then down until the firing notification, then up until the resolved one. */
  async function downAndBack(auth: ReceiverAuth) {
    const target = new ToggledTarget();
    await target.up();
    cleanups.push(() => target.down());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const harness: AlertingHarness = await startAlerting({
      jobs: [{ job: 'toy', targets: [{ address: `127.0.0.1:${target.port}`, labels: { instance: 'toy-01', service: 'toy' } }] }],
      rules: [serviceDownRule('toy')],
      receiver: { url: receiver.url, auth },
    });
    cleanups.push(() => harness.stop());
    const explain = () => `${JSON.stringify(receiver.received, null, 2)}\n${harness.describe()}`;

    await waitFor(async () => (await harness.query('up{job="toy"}'))[0]?.value === 1, 'the first successful scrape', 20_000, 100);
    const downAt = Date.now();
    await target.down();
    const firing = await waitFor(
      () => receiver.received.find((r) => r.body.status === 'firing'),
      `the firing notification (${explain()})`,
      30_000,
      50,
    );
    // Prometheus sees the target down in its own data too.
    expect((await harness.query('up{job="toy"}'))[0]?.value).toBe(0);
    const upAt = Date.now();
    await target.up();
    const resolved = await waitFor(
      () => receiver.received.find((r) => r.body.status === 'resolved'),
      `the resolved notification (${explain()})`,
      30_000,
      50,
    );
    return { firing, resolved, downAt, upAt, receiver, harness };
  }

  it('delivers the firing notification (webhook v4, Bearer credentials) and the resolved one after the target is back', async () => {
    const key = 'iai_test-alertmanager-key-0123456789abcdefghij';
    const { firing, resolved, downAt, upAt, receiver } = await downAndBack({ bearer: key });

    expect(firing.headers.authorization).toBe(`Bearer ${key}`);
    expect(firing.headers['content-type']).toMatch(/^application\/json/);
    expect(firing.headers['user-agent']).toMatch(/^Alertmanager\//);
    expect(firing.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'webhook',
      truncatedAlerts: 0,
      groupLabels: { alertname: 'ServiceDown', instance: 'toy-01' },
      commonLabels: { alertname: 'ServiceDown', instance: 'toy-01', job: 'toy', service: 'toy', severity: 'critical' },
    });
    expect(firing.body.groupKey).toContain('alertname="ServiceDown"');
    expect(firing.body.alerts).toHaveLength(1);
    const alert = firing.body.alerts[0]!;
    expect(alert).toMatchObject({
      status: 'firing',
      labels: { alertname: 'ServiceDown', instance: 'toy-01', job: 'toy', service: 'toy', severity: 'critical' },
      annotations: { summary: 'toy on toy-01 does not answer its scrape' },
      endsAt: '0001-01-01T00:00:00Z',
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(Date.parse(alert.startsAt)).toBeGreaterThan(downAt - 2_000);
    // Scrape, `for: 1s`, evaluation and group_wait each about a second: well within 15 s.
    expect(firing.at - downAt).toBeLessThan(15_000);

    // The resolved one names the same alert (fingerprint and startsAt: the run's identity) and when it ended.
    expect(resolved.headers.authorization).toBe(`Bearer ${key}`);
    expect(resolved.body.version).toBe('4');
    expect(resolved.body.groupKey).toBe(firing.body.groupKey);
    const ended = resolved.body.alerts[0]!;
    expect(ended).toMatchObject({ status: 'resolved', fingerprint: alert.fingerprint, startsAt: alert.startsAt });
    expect(Date.parse(ended.endsAt)).toBeGreaterThan(Date.parse(alert.startsAt));
    expect(Date.parse(ended.endsAt)).toBeGreaterThan(upAt - 2_000);
    expect(resolved.at - upAt).toBeLessThan(15_000);
    // repeat_interval is long: one firing and one resolved notification, nothing else.
    expect(receiver.received.map((r) => r.body.status)).toEqual(['firing', 'resolved']);
  });

  it('sends basic auth credentials when the receiver is configured with them', async () => {
    const { firing, resolved } = await downAndBack({ basic: { username: 'alertmanager', password: 'iai_basic-secret-0123456789' } });
    const expected = `Basic ${Buffer.from('alertmanager:iai_basic-secret-0123456789').toString('base64')}`;
    expect(firing.headers.authorization).toBe(expected);
    expect(resolved.headers.authorization).toBe(expected);
    expect(resolved.body.alerts[0]!.fingerprint).toBe(firing.body.alerts[0]!.fingerprint);
  });
});
