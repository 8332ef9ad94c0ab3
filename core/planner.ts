// The runbook planner: the default reasoning engine, no model needed. Pure and deterministic.
// classify → plan (commands rendered for the host's service manager) → analyse diagnostic output.
import type { CmdbItem } from './incident.js';
import { SERVICE_MANAGERS, type CommandVariants, type Risk, type Runbook, type ServiceManager } from './runbook.js';

/** Text longer than this is cut before matching, so a huge log line cannot stall the regexes. */
const MAX_TEXT = 20_000;
const PATTERN_SCORE = 10;
const KEYWORD_SCORE = 2;
/** Below this a runbook is not considered a match (one keyword alone is not enough). */
export const MIN_MATCH_SCORE = 4;

export interface RunbookMatch {
  runbookId: string;
  title: string;
  score: number;
  /** 0..1, relative to the best possible evidence (a pattern plus several keywords). */
  confidence: number;
  matchedPatterns: string[];
  matchedKeywords: string[];
  /** Parameter values captured by named groups in the matching patterns. */
  parameters: Record<string, string>;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Ranks runbooks by how well their patterns and keywords match the text; best first. */
export function classify(text: string, runbooks: readonly Runbook[]): RunbookMatch[] {
  const subject = text.slice(0, MAX_TEXT);
  const matches: RunbookMatch[] = [];
  for (const runbook of runbooks) {
    const matchedPatterns: string[] = [];
    const parameters: Record<string, string> = {};
    for (const pattern of runbook.patterns) {
      const found = new RegExp(pattern, 'i').exec(subject);
      if (!found) continue;
      matchedPatterns.push(pattern);
      for (const [name, value] of Object.entries(found.groups ?? {})) if (value && !parameters[name]) parameters[name] = value;
    }
    const matchedKeywords = runbook.keywords.filter((keyword) =>
      new RegExp(`(?:^|[^a-z0-9])${escapeRegex(keyword)}(?:$|[^a-z0-9])`, 'i').test(subject),
    );
    const score = matchedPatterns.length * PATTERN_SCORE + matchedKeywords.length * KEYWORD_SCORE;
    if (score < MIN_MATCH_SCORE) continue;
    matches.push({
      runbookId: runbook.id,
      title: runbook.title,
      score,
      confidence: Math.min(1, score / (PATTERN_SCORE + 3 * KEYWORD_SCORE)),
      matchedPatterns,
      matchedKeywords,
      parameters,
    });
  }
  // A runbook that explains another matched one's symptom outranks it (OOMKilled over CrashLoopBackOff).
  const scores = new Map(matches.map((m) => [m.runbookId, m.score]));
  for (const match of matches) {
    const refined = runbooks.find((r) => r.id === match.runbookId)?.refines ?? [];
    for (const id of refined) {
      const other = scores.get(id);
      if (other !== undefined && other >= match.score) match.score = other + 1;
    }
  }
  return matches.sort((a, b) => b.score - a.score || a.runbookId.localeCompare(b.runbookId));
}

export interface PlannedCommand {
  id: string;
  description: string;
  /** Rendered command, or null when this host's service manager has no variant. */
  command: string | null;
  /** Parameters the command needs that have no value yet. */
  unresolved: string[];
}

export interface PlannedFix extends PlannedCommand {
  risk: Exclude<Risk, 'read-only'>;
  when: string[];
  guard: string | null;
  rollback: string | null;
}

export interface RunbookPlan {
  runbookId: string;
  title: string;
  parameters: Record<string, string>;
  diagnostics: PlannedCommand[];
  expectedSignals: { diagnostic: string; pattern: string; finding: string; absent: boolean }[];
  hypotheses: { finding: string; rootCause: string }[];
  fixes: PlannedFix[];
  verification: (PlannedCommand & { expect: string })[];
  rollback: string;
  prevention: string[];
}

export interface PlanContext {
  serviceManager?: ServiceManager | null | undefined;
  /** Values from the classification, CMDB tags and the caller; earlier sources win. */
  parameters?: Record<string, string> | undefined;
  /** CMDB item tags, looked up through each parameter's `tag`. */
  tags?: Record<string, string> | undefined;
}

/**
 * Parameter values: the CMDB item's tag first (the operator's own description of the host), then
 * what was captured from text or given by the caller, then the runbook's default. Text from an
 * incident or a log therefore cannot redirect a command at another service or path of a host
 * whose CMDB item says which one it runs.
 */
export function resolveParameters(runbook: Runbook, context: PlanContext): Record<string, string> {
  const values: Record<string, string> = {};
  for (const parameter of runbook.parameters) {
    const tagged = parameter.tag ? context.tags?.[parameter.tag] : undefined;
    const value = (tagged !== undefined && tagged !== '' ? tagged : undefined) ?? context.parameters?.[parameter.name] ?? parameter.default;
    if (value !== undefined && value !== '') values[parameter.name] = value;
  }
  return values;
}

/**
 * What a value may look like to be put into a command: a name, number, path or address. No
 * spaces, quotes or shell syntax, and no leading dash (it would read as an option).
 */
const SAFE_VALUE = /^(?!-)[A-Za-z0-9_.,:@%+=/-]{1,256}$/;
export const isSafeParameterValue = (value: string): boolean => SAFE_VALUE.test(value) && !value.includes('..');

function pickVariant(variants: CommandVariants | undefined, manager: ServiceManager | null | undefined): string | null {
  if (!variants) return null;
  return (manager ? variants[manager] : undefined) ?? variants.any ?? variants.systemd ?? null;
}

/** Fills `{name}` placeholders; names without a value stay as they are and are reported. */
export function renderCommand(template: string | null, values: Record<string, string>): { command: string | null; unresolved: string[] } {
  if (template === null) return { command: null, unresolved: [] };
  const unresolved = new Set<string>();
  const command = template.replace(/\{([a-zA-Z][a-zA-Z0-9]*)\}/g, (whole, name: string) => {
    const value = values[name];
    // A value that could change the command's shape is never substituted: the command stays unresolved.
    if (value === undefined || !isSafeParameterValue(value)) {
      unresolved.add(name);
      return whole;
    }
    return value;
  });
  return { command, unresolved: [...unresolved] };
}

/** The structured plan an LLM would produce, from the runbook alone. */
export function planFromRunbook(runbook: Runbook, context: PlanContext = {}): RunbookPlan {
  const values = resolveParameters(runbook, context);
  const manager = context.serviceManager;
  const render = (variants: CommandVariants | undefined) => renderCommand(pickVariant(variants, manager), values);
  return {
    runbookId: runbook.id,
    title: runbook.title,
    parameters: values,
    diagnostics: runbook.diagnostics.map((d) => ({ id: d.id, description: d.description, ...render(d.command) })),
    expectedSignals: runbook.diagnostics.flatMap((d) =>
      d.signals.map((s) => ({ diagnostic: d.id, pattern: s.pattern, finding: s.finding, absent: s.absent === true })),
    ),
    hypotheses: runbook.hypotheses.map((h) => ({
      finding: h.finding,
      rootCause: renderCommand(h.rootCause, values).command ?? h.rootCause,
    })),
    fixes: runbook.fixes.map((f) => {
      const main = render(f.command);
      return {
        id: f.id,
        description: f.description,
        risk: f.risk,
        when: f.when,
        ...main,
        guard: render(f.guard).command,
        rollback: render(f.rollback).command,
      };
    }),
    verification: runbook.verification.map((v, i) => ({
      id: `verify-${i + 1}`,
      description: v.description,
      expect: v.expect,
      ...render(v.command),
    })),
    rollback: runbook.rollback,
    prevention: runbook.prevention,
  };
}

export interface Analysis {
  runbookId: string;
  findings: { finding: string; diagnostic: string; evidence: string }[];
  /** Root causes of the established findings, in runbook order; empty when nothing was established. */
  rootCauses: string[];
  /** Parameters captured from diagnostic output (e.g. a PID), merged over the plan's. */
  parameters: Record<string, string>;
  /** Fixes whose findings were established, re-rendered with the captured parameters. */
  fixes: PlannedFix[];
  /** True when no finding was established: the planner recommends escalation. */
  escalate: boolean;
}

/** Applies the runbook's signal rules to diagnostic output (keyed by diagnostic id). */
export function analyse(runbook: Runbook, outputs: Record<string, string>, context: PlanContext = {}): Analysis {
  const findings: Analysis['findings'] = [];
  const captured: Record<string, string> = {};
  for (const diagnostic of runbook.diagnostics) {
    const output = outputs[diagnostic.id];
    if (output === undefined) continue;
    const text = output.slice(0, MAX_TEXT * 5);
    for (const signal of diagnostic.signals) {
      const found = new RegExp(signal.pattern, 'im').exec(text);
      const holds = signal.absent ? !found : Boolean(found);
      if (!holds) continue;
      if (!findings.some((f) => f.finding === signal.finding)) {
        const evidence = found
          ? (text.split('\n').find((line) => new RegExp(signal.pattern, 'i').test(line)) ?? found[0])
          : `no match for /${signal.pattern}/`;
        findings.push({ finding: signal.finding, diagnostic: diagnostic.id, evidence: evidence.trim().slice(0, 300) });
      }
      for (const [name, value] of Object.entries(found?.groups ?? {})) if (value && !captured[name]) captured[name] = value;
    }
  }
  const established = new Set(findings.map((f) => f.finding));
  const plan = planFromRunbook(runbook, { ...context, parameters: { ...captured, ...context.parameters } });
  return {
    runbookId: runbook.id,
    findings,
    rootCauses: plan.hypotheses.filter((h) => established.has(h.finding)).map((h) => h.rootCause),
    parameters: plan.parameters,
    fixes: plan.fixes.filter((fix) => fix.when.some((finding) => established.has(finding))),
    escalate: findings.length === 0,
  };
}

/** The plan context for a CMDB item: its service manager (when one we know) and its tags. */
export function planContextFor(
  item: Pick<CmdbItem, 'serviceManager' | 'tags'> | null,
  parameters: Record<string, string> = {},
): PlanContext {
  const manager =
    item?.serviceManager && (SERVICE_MANAGERS as readonly string[]).includes(item.serviceManager)
      ? (item.serviceManager as ServiceManager)
      : null;
  return { serviceManager: manager, parameters, tags: item?.tags ?? {} };
}

/**
 * Read-only facts every host diagnosis starts from, whatever the runbook: load, disk, memory, the
 * busiest processes, and the CMDB item's service with its recent logs when the item names one.
 */
export function baselineDiagnostics(
  item: Pick<CmdbItem, 'serviceManager' | 'tags'>,
): { id: string; command: string; description: string }[] {
  const service = item.tags.service && isSafeParameterValue(item.tags.service) ? item.tags.service : null;
  const manager = planContextFor(item).serviceManager;
  const status: Record<ServiceManager, string> = {
    systemd: `systemctl status ${service} --no-pager --lines=20`,
    sysv: `service ${service} status`,
    supervisor: `supervisorctl status ${service}`,
  };
  const logs: Record<ServiceManager, string> = {
    systemd: `journalctl -u ${service} --no-pager -n 50`,
    sysv: `tail -n 50 /var/log/${service}.log`,
    supervisor: `supervisorctl tail ${service} stderr`,
  };
  return [
    { id: 'baseline-uptime', command: 'uptime', description: 'Load and uptime.' },
    { id: 'baseline-disk', command: 'df -P', description: 'Filesystem usage.' },
    { id: 'baseline-memory', command: 'free -m', description: 'Memory use.' },
    { id: 'baseline-top-cpu', command: 'ps -eo pid,user,pcpu,pmem,etimes,comm --sort=-pcpu', description: 'Processes by CPU.' },
    ...(service && manager
      ? [
          { id: 'baseline-service', command: status[manager], description: `Whether ${service} runs.` },
          { id: 'baseline-service-logs', command: logs[manager], description: `Recent ${service} logs.` },
        ]
      : []),
  ];
}
