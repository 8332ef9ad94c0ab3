import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../launcher/ports.js';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const prometheusAvailable = () => existsSync(PROMETHEUS_BINARY);

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Ends the child with the test process, should the test never reach stop() (a crash, a worker
 * killed on a timeout): Prometheus and Alertmanager would otherwise keep scraping and notifying.
 */
export function killWithProcess(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** One scrape job: plain `host:port` targets, or targets with labels of their own (e.g. `instance` set to a CMDB tagId). */
export interface ScrapeJob {
  job: string;
  targets: (string | { address: string; labels?: Record<string, string> })[];
  /** Default /metrics. */
  metricsPath?: string;
}

/** A Prometheus alerting rule (rule file syntax: `for` as a duration such as `1s`). */
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PrometheusOptions {
  /** Alerting rules, in one group evaluated every evaluation interval. */
  rules?: AlertingRule[];
  /** Alertmanagers (`host:port`) the firing and resolved alerts go to. */
  alertmanagers?: string[];
  /** Scrape and evaluation interval (default 1s). */
  interval?: string;
  /** Default 900ms (below the 1 s interval). */
  scrapeTimeout?: string;
}

export interface PrometheusHandle {
  url: string;
  /** The configuration it was started with (YAML), for failure messages. */
  config: string;
  /** Its stderr so far (the tail). */
  log(): string;
  stop(): Promise<void>;
}

/** The prometheus.yml and rules.yml of a run: scrape jobs, one rule group, the Alertmanagers. */
export function prometheusConfig(jobs: ScrapeJob[], options: PrometheusOptions = {}): { config: string; rules: string | null } {
  const interval = options.interval ?? '1s';
  const config = stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    ...(options.rules?.length ? { rule_files: ['rules.yml'] } : {}),
    ...(options.alertmanagers?.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } } : {}),
    scrape_configs: jobs.map((job) => {
      const plain = job.targets.filter((t): t is string => typeof t === 'string');
      const labelled = job.targets.filter((t): t is { address: string; labels?: Record<string, string> } => typeof t !== 'string');
      return {
        job_name: job.job,
        scrape_timeout: options.scrapeTimeout ?? '900ms',
        ...(job.metricsPath ? { metrics_path: job.metricsPath } : {}),
        static_configs: [
          ...(plain.length ? [{ targets: plain }] : []),
          ...labelled.map((t) => ({ targets: [t.address], ...(t.labels ? { labels: t.labels } : {}) })),
        ],
      };
    }),
  });
  const rules = options.rules?.length
    ? stringify({
        groups: [
          {
            name: 'infraai-test',
            interval,
            rules: options.rules.map((r) => ({
              alert: r.alert,
              expr: r.expr,
              ...(r.for ? { for: r.for } : {}),
              ...(r.labels ? { labels: r.labels } : {}),
              ...(r.annotations ? { annotations: r.annotations } : {}),
            })),
          },
        ],
      })
    : null;
  return { config, rules };
}

/** Debian's Prometheus on a free port, scraping the given targets every second, data in a temp dir. */
export async function startPrometheus(
  targets: (ScrapeJob | { job: string; targets: string[] })[],
  options: PrometheusOptions = {},
): Promise<PrometheusHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'infraai-prom-'));
  const port = await freePort();
  const { config, rules } = prometheusConfig(targets, options);
  await writeFile(join(dir, 'prometheus.yml'), config);
  if (rules) await writeFile(join(dir, 'rules.yml'), rules);
  const child: ChildProcess = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  killWithProcess(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
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
      throw new Error(`prometheus exited (${child.exitCode}): ${stderr}\nconfiguration:\n${config}${rules ? `\nrules:\n${rules}` : ''}`);
    }
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, config, log: () => stderr, stop };
}
