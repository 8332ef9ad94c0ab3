import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AlertmanagerPayload } from '../../core/ingress/alertmanager.js';
import { freePort } from '../../launcher/ports.js';
import {
  PROMETHEUS_BINARY,
  killWithProcess,
  startPrometheus,
  type AlertingRule,
  type PrometheusHandle,
  type ScrapeJob,
} from './prometheus.js';

// The real alerting path for tests: Debian's Prometheus scrapes targets and evaluates alerting rules
// every second and sends what fires to Debian's Alertmanager (package prometheus-alertmanager),
// which posts Alertmanager webhook (version 4) notifications to a receiver URL with the credentials
// its http_config carries: `authorization` (Bearer) or `basic_auth`. Both run as child processes
// on free loopback ports with temp directories; stop() ends them and removes the directories.

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

/** Why the alerting harness cannot run here (empty when it can). */
export function alertingProblems(): string[] {
  const problems: string[] = [];
  if (!existsSync(PROMETHEUS_BINARY)) problems.push(`${PROMETHEUS_BINARY} is missing (apt-get install prometheus)`);
  if (!existsSync(ALERTMANAGER_BINARY)) problems.push(`${ALERTMANAGER_BINARY} is missing (apt-get install prometheus-alertmanager)`);
  return problems;
}

export type ReceiverAuth = { bearer: string } | { basic: { username: string; password: string } };

export interface WebhookReceiver {
  url: string;
  auth?: ReceiverAuth;
  /** Default true: a resolved alert is notified too. */
  sendResolved?: boolean;
}

export interface AlertmanagerOptions {
  receiver: WebhookReceiver;
  /** Default [alertname, instance]. */
  groupBy?: string[];
  /** Defaults 1s, 1s and 4h: the first notification a second after the first alert, changes a second apart, no repeats in a test. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export interface AlertmanagerHandle {
  url: string;
  /** host:port, as Prometheus's alerting configuration names it. */
  address: string;
  config: string;
  log(): string;
  stop(): Promise<void>;
}

/** The alertmanager.yml of a run: one route to one webhook receiver. */
export function alertmanagerConfig(options: AlertmanagerOptions): string {
  const { receiver } = options;
  const auth = receiver.auth;
  const httpConfig =
    auth === undefined
      ? undefined
      : 'bearer' in auth
        ? { authorization: { type: 'Bearer', credentials: auth.bearer } }
        : { basic_auth: { username: auth.basic.username, password: auth.basic.password } };
  return stringify({
    route: {
      receiver: 'webhook',
      group_by: options.groupBy ?? ['alertname', 'instance'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '1s',
      repeat_interval: options.repeatInterval ?? '4h',
    },
    receivers: [
      {
        name: 'webhook',
        webhook_configs: [
          {
            url: receiver.url,
            send_resolved: receiver.sendResolved ?? true,
            ...(httpConfig ? { http_config: httpConfig } : {}),
          },
        ],
      },
    ],
  });
}

/** Debian's Alertmanager on a free loopback port, clustering off, data in a temp dir. */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'infraai-am-'));
  const port = await freePort();
  const config = alertmanagerConfig(options);
  await writeFile(join(dir, 'alertmanager.yml'), config, { mode: 0o600 });
  const child: ChildProcess = spawn(
    ALERTMANAGER_BINARY,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // A single instance: no gossip port (an HA pair is not what these tests are about).
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  killWithProcess(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited (${child.exitCode}): ${stderr}\nconfiguration:\n${config}`);
    }
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager did not become ready: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, address, config, log: () => stderr, stop };
}

/** A sample of an instant query. */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** An alert as Prometheus's /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** An alert as Alertmanager's /api/v2/alerts lists it. */
export interface AlertmanagerAlertView {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed' };
}

export interface AlertingHarness {
  prometheus: PrometheusHandle;
  alertmanager: AlertmanagerHandle;
  /** An instant query on Prometheus. */
  query(expr: string): Promise<PromSample[]>;
  /** Prometheus's pending and firing alerts. */
  rulesAlerts(): Promise<PromAlert[]>;
  /** Alertmanager's alerts (active ones, and resolved ones it still keeps). */
  alertmanagerAlerts(): Promise<AlertmanagerAlertView[]>;
  /** The configurations and logs of both, for a failure message. */
  describe(): string;
  stop(): Promise<void>;
}

export interface AlertingOptions extends Omit<AlertmanagerOptions, 'receiver'> {
  jobs: ScrapeJob[];
  rules: AlertingRule[];
  receiver: WebhookReceiver;
  /** Scrape and evaluation interval (default 1s). */
  interval?: string;
  /** How long to wait until both answer and Prometheus has its Alertmanager (default 30 s). */
  readyTimeoutMs?: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Alertmanager, then Prometheus pointed at it, with the given scrape jobs and alerting rules; resolves
 * once Prometheus lists the Alertmanager as active and has loaded the rules, so an alert that fires
 * from now on is delivered.
 */
export async function startAlerting(options: AlertingOptions): Promise<AlertingHarness> {
  const { jobs, rules, receiver, interval, readyTimeoutMs = 30_000, ...routing } = options;
  const alertmanager = await startAlertmanager({ ...routing, receiver });
  let prometheus: PrometheusHandle;
  try {
    prometheus = await startPrometheus(jobs, { rules, alertmanagers: [alertmanager.address], ...(interval ? { interval } : {}) });
  } catch (err) {
    await alertmanager.stop();
    throw err;
  }
  const harness: AlertingHarness = {
    prometheus,
    alertmanager,
    async query(expr) {
      const body = await getJson<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(
        `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    },
    async rulesAlerts() {
      return (await getJson<{ data: { alerts: PromAlert[] } }>(`${prometheus.url}/api/v1/alerts`)).data.alerts;
    },
    async alertmanagerAlerts() {
      return getJson<AlertmanagerAlertView[]>(`${alertmanager.url}/api/v2/alerts`);
    },
    describe() {
      return [
        `prometheus ${prometheus.url}:\n${prometheus.config}`,
        `prometheus log (tail):\n${prometheus.log().slice(-3000) || '(empty)'}`,
        `alertmanager ${alertmanager.url}:\n${alertmanager.config.replace(/(credentials|password): .*/g, '$1: <redacted>')}`,
        `alertmanager log (tail):\n${alertmanager.log().slice(-3000) || '(empty)'}`,
      ].join('\n');
    },
    async stop() {
      await Promise.allSettled([prometheus.stop(), alertmanager.stop()]);
    },
  };
  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const [managers, groups] = await Promise.all([
        getJson<{ data: { activeAlertmanagers: { url: string }[] } }>(`${prometheus.url}/api/v1/alertmanagers`),
        getJson<{ data: { groups: { rules: { name: string }[] }[] } }>(`${prometheus.url}/api/v1/rules?type=alert`),
      ]);
      const active = managers.data.activeAlertmanagers.some((m) => m.url.includes(alertmanager.address));
      const loaded = new Set(groups.data.groups.flatMap((g) => g.rules.map((r) => r.name)));
      if (active && rules.every((r) => loaded.has(r.alert))) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not take its Alertmanager and rules in time:\n${harness.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    await harness.stop();
    throw err;
  }
  return harness;
}

/** The body of one Alertmanager webhook notification (payload version 4): the type the API's webhook reads. */
export type WebhookNotification = AlertmanagerPayload;

/** The `ServiceDown` rule of the lab: the service's scrape fails (`up == 0`) for a second. */
export function serviceDownRule(job: string, severity = 'critical'): AlertingRule {
  return {
    alert: 'ServiceDown',
    expr: `up{job="${job}"} == 0`,
    for: '1s',
    labels: { severity },
    annotations: { summary: '{{ $labels.service }} on {{ $labels.instance }} does not answer its scrape' },
  };
}
