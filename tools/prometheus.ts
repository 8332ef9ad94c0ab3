import { z } from 'zod';
import {
  MAX_RANGE_POINTS,
  MetricsQueryError,
  MetricsUnavailableError,
  type MetricSample,
  type MetricSeries,
  type MetricsQueries,
} from '../adapters/metrics/port.js';
import { integrationClients } from './integration-clients.js';
import type { IntegrationSettings } from './integrations.js';
import type { ChatTool, ToolRunContext } from './tool.js';
import { boundedLines, translateFailures, type PortFailure } from './tool-output.js';

// Prometheus instant and range queries as chat tools (read only), on the caller's Prometheus
// settings, through the metrics port (adapters/metrics, the same client the diagnostics step uses).
// The model gets a few lines per series (a range as count, min, max and last value); `data` carries
// the numbers, bounded.

export interface PrometheusToolsDeps {
  /** Builds a client from the caller's settings; the Prometheus HTTP API client by default. */
  connect?: (settings: IntegrationSettings<'prometheus'>) => MetricsQueries;
  /** The clock relative times (`now-1h`) are read against. */
  now?: () => Date;
}

/** Series kept in `data`; the model's text is bounded separately. */
const MAX_DATA_SERIES = 50;
/** Points kept in `data` over all series of a range answer; beyond it only the per-series summary stays. */
const MAX_DATA_POINTS = 2_000;
/** A range without a step gets one giving at most this many points. */
const TARGET_POINTS = 250;
const NICE_STEPS = [15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400];
const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 } as const;

const DURATION = /^(\d{1,6})([smhdw])$/;
const TIME = /^now(?:-(\d{1,6}[smhdw]))?$/;
const promql = z.string().trim().min(1).max(4_000).describe('A PromQL expression');
const time = z
  .string()
  .trim()
  .refine((value) => TIME.test(value) || z.iso.datetime({ offset: true }).safeParse(value).success, {
    message: 'a time: now, now-<duration> (now-30m, now-2h, now-1d) or ISO 8601',
  });

const instantInput = z.strictObject({ query: promql, time: time.optional().describe('Evaluate at this time; default now') });
const rangeInput = z.strictObject({
  query: promql,
  start: time.default('now-1h').describe('now-<duration> or ISO 8601; default now-1h'),
  end: time.default('now').describe('now, now-<duration> or ISO 8601; default now'),
  step: z
    .string()
    .trim()
    .regex(DURATION, 'a duration: 15s, 1m, 5m, 1h')
    .optional()
    .describe(`Seconds between points (15s, 1m, 5m…); default: about ${TARGET_POINTS} points over the range`),
});

export function createPrometheusTools(deps: PrometheusToolsDeps = {}): ChatTool[] {
  const connect = deps.connect ?? integrationClients.prometheus;
  const now = deps.now ?? (() => new Date());
  const client = async (context: ToolRunContext) => {
    const settings = await context.integration('prometheus');
    return { metrics: connect(settings), url: settings.url };
  };

  const instant: ChatTool<z.output<typeof instantInput>> = {
    name: 'prometheus_query',
    description:
      'Run a PromQL instant query (the value of each series now, or at `time`): `up{job="node"}`, ' +
      '`rate(http_requests_total[5m])`, `topk(5, node_load1)`. Returns one line per series.',
    input: instantInput,
    integration: 'prometheus',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => {
        const { metrics, url } = await client(context);
        const at = args.time === undefined ? undefined : resolveTime(args.time, now());
        const answer = await metrics.instant(args.query, { time: at, signal: context.signal });
        const link = [{ title: 'Prometheus graph', url: graphUrl(url, args.query, 1) }];
        if (answer.resultType === 'matrix') return rangeResult(args.query, answer.series, link);
        const { samples } = answer;
        const header =
          samples.length === 0
            ? `No series for ${args.query}${at ? ` at ${at.toISOString()}` : ''}: check the metric name and label values.`
            : answer.resultType === 'vector'
              ? `${samples.length} series for ${args.query}${at ? ` at ${at.toISOString()}` : ''}:`
              : `${answer.resultType} result of ${args.query}:`;
        return {
          content: boundedLines(header, samples.map(sampleLine), 'narrow the query with label matchers, or use topk/sum by'),
          data: { resultType: answer.resultType, total: samples.length, samples: samples.slice(0, MAX_DATA_SERIES) },
          links: link,
        };
      }, classify),
  };

  const range: ChatTool<z.output<typeof rangeInput>> = {
    name: 'prometheus_query_range',
    description:
      'Run a PromQL range query over a time window (default the last hour) to see how series changed: returns per series the ' +
      `number of points, min, max and last value. At most ${MAX_RANGE_POINTS} points per series: widen step for long ranges.`,
    input: rangeInput,
    integration: 'prometheus',
    role: 'viewer',
    risk: () => 'read',
    run: (args, context) =>
      translateFailures(async () => {
        const { metrics, url } = await client(context);
        const clock = now();
        const start = resolveTime(args.start, clock);
        const end = resolveTime(args.end, clock);
        if (end.getTime() <= start.getTime()) throw new MetricsQueryError(`start (${args.start}) must be before end (${args.end})`);
        const span = (end.getTime() - start.getTime()) / 1000;
        const stepSeconds = args.step ? durationSeconds(args.step) : defaultStepSeconds(span);
        const series = await metrics.range(args.query, { start, end, stepSeconds }, { signal: context.signal });
        const window = `${start.toISOString()} to ${end.toISOString()}, step ${stepSeconds}s`;
        return rangeResult(args.query, series, [{ title: 'Prometheus graph', url: graphUrl(url, args.query, 0, span) }], window);
      }, classify),
  };

  return [instant, range];
}

function rangeResult(query: string, series: MetricSeries[], links: { title: string; url: string }[], window?: string) {
  const header =
    series.length === 0
      ? `No series for ${query}${window ? ` from ${window}` : ''}: check the metric name and label values.`
      : `${series.length} series for ${query}${window ? ` from ${window}` : ''}:`;
  const kept = series.slice(0, MAX_DATA_SERIES);
  const points = kept.reduce((sum, s) => sum + s.points.length, 0);
  return {
    content: boundedLines(header, series.map(seriesLine), 'narrow the query with label matchers, or aggregate (sum by, topk)'),
    data: {
      resultType: 'matrix',
      total: series.length,
      pointsOmitted: points > MAX_DATA_POINTS,
      series: kept.map((s) => ({ labels: s.labels, ...stats(s), ...(points > MAX_DATA_POINTS ? {} : { points: s.points }) })),
    },
    links,
  };
}

function stats(series: MetricSeries) {
  const values = series.points.map(([, value]) => value).filter((value) => !Number.isNaN(value));
  const last = series.points.at(-1);
  return {
    count: series.points.length,
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
    last: last ? { time: last[0], value: last[1] } : null,
  };
}

function seriesLine(series: MetricSeries): string {
  const { count, min, max, last } = stats(series);
  if (!last) return `${labelText(series.labels)}: no points`;
  return `${labelText(series.labels)}: ${count} points, min ${format(min)}, max ${format(max)}, last ${format(last.value)} at ${new Date(last.time * 1000).toISOString()}`;
}

function sampleLine(sample: MetricSample): string {
  return `${labelText(sample.labels)} = ${format(sample.value)}`;
}

function labelText(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}

function format(value: number | null): string {
  if (value === null) return 'none';
  return Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** A round step giving at most about TARGET_POINTS points over `spanSeconds`. */
export function defaultStepSeconds(spanSeconds: number): number {
  return NICE_STEPS.find((s) => spanSeconds / s <= TARGET_POINTS) ?? 86_400;
}

/** `15s`, `5m`, `1h`… in seconds. */
export function durationSeconds(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
}

/** now, now-<duration>, or ISO 8601 (validated by the input schema). */
export function resolveTime(text: string, now: Date): Date {
  const relative = TIME.exec(text);
  if (relative) return new Date(now.getTime() - (relative[1] ? durationSeconds(relative[1]) * 1000 : 0));
  return new Date(text);
}

/** The expression in Prometheus' own UI (table tab for an instant query, graph tab over the range for a range one). */
function graphUrl(base: string, query: string, tab: 0 | 1, rangeSeconds?: number): string {
  const params = new URLSearchParams({ 'g0.expr': query, 'g0.tab': String(tab) });
  if (rangeSeconds !== undefined) params.set('g0.range_input', `${Math.max(1, Math.round(rangeSeconds))}s`);
  return `${base}/graph?${params}`;
}

function classify(err: unknown): PortFailure | null {
  if (err instanceof MetricsUnavailableError)
    return { message: err.message, retryable: true, status: err.status, retryAfterMs: err.retryAfterMs };
  if (err instanceof MetricsQueryError) return { message: err.message, retryable: false, status: err.status };
  return null;
}
