// The runbook planner: the default reasoning engine, no model needed. Pure and deterministic.
// classify → plan (commands rendered for the host's service manager) → analyse diagnostic output.
import type { CmdbItem } from './incident.js';
import type { FollowUp, Analysis as RemediationAnalysis, ProposedAction } from './remediation.js';
import { SERVICE_MANAGERS, type CommandVariants, type Risk, type Runbook, type ServiceManager } from './runbook.js';

// FollowUp is a remediation domain type (core/remediation.ts); re-exported for the planner's callers.
export type { FollowUp };

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
  unless: string[];
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
        unless: f.unless ?? [],
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
  /** Runbooks that cover the causes of established findings (signals with a `cause`), to follow next. */
  followUps: FollowUp[];
}

/**
 * Applies the runbook's signal rules to diagnostic output (keyed by diagnostic id). `catalogue` (the
 * loaded runbooks) lets it say which parameters a follow-up carries; without it a follow-up carries none.
 */
export function analyse(
  runbook: Runbook,
  outputs: Record<string, string>,
  context: PlanContext = {},
  catalogue: readonly Runbook[] = [],
): Analysis {
  const findings: Analysis['findings'] = [];
  const captured: Record<string, string> = {};
  const causes: { runbookId: string; finding: string; because: string; groups: Record<string, string> }[] = [];
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
      if (signal.cause && !causes.some((c) => c.runbookId === signal.cause)) {
        const finding = findings.find((f) => f.finding === signal.finding)!;
        causes.push({
          runbookId: signal.cause,
          finding: signal.finding,
          because: `${finding.finding} (${finding.diagnostic}): ${finding.evidence}`,
          groups: Object.fromEntries(Object.entries(found?.groups ?? {}).filter((entry): entry is [string, string] => Boolean(entry[1]))),
        });
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
    fixes: plan.fixes.filter(
      (fix) => fix.when.some((finding) => established.has(finding)) && !fix.unless.some((finding) => established.has(finding)),
    ),
    escalate: findings.length === 0,
    followUps: causes.map((cause) => ({
      runbookId: cause.runbookId,
      parameters: carriedParameters(
        runbook,
        catalogue.find((r) => r.id === cause.runbookId),
        plan.parameters,
        cause.groups,
      ),
      fromRunbookId: runbook.id,
      finding: cause.finding,
      because: cause.because,
    })),
  };
}

/** What a follow-up carries into its cause runbook (see FollowUp.parameters). */
function carriedParameters(
  from: Runbook,
  cause: Runbook | undefined,
  values: Record<string, string>,
  groups: Record<string, string>,
): Record<string, string> {
  const carried: Record<string, string> = {};
  for (const parameter of cause?.parameters ?? []) {
    const shared = from.parameters.find((p) => p.name === parameter.name && p.tag !== undefined && p.tag === parameter.tag);
    const value = groups[parameter.name] ?? (shared ? values[parameter.name] : undefined);
    if (value !== undefined && value !== '') carried[parameter.name] = value;
  }
  return carried;
}

// ---------------------------------------------------------------------------------------------
// Compound faults: a finding whose cause another runbook covers (a service down because its disk
// is full; a disk full because a log grew). The run follows the cause into that runbook, runs its
// read-only diagnostics, analyses them, and combines the chain into one plan.

/** How many causes deep a run follows: symptom → cause → the cause's cause, no further. */
export const MAX_CAUSE_DEPTH = 2;

/** One runbook of a cause chain and what its diagnostics established. */
export interface CauseLink {
  runbookId: string;
  title: string;
  /** 0: the incident's runbook; n + 1: a cause named by a link at depth n. */
  depth: number;
  /** The follow-up that led here; null for the incident's runbook. */
  via: FollowUp | null;
  analysis: RemediationAnalysis;
}

/**
 * The next cause to follow, or null when the chain is complete: the first follow-up (in chain order)
 * of a link above the depth bound whose runbook is not in the chain yet. A runbook is never
 * visited twice, so a cycle (disk-full → log-growth → disk-full) ends at its first repetition.
 */
export function nextFollowUp(
  chain: readonly Pick<CauseLink, 'runbookId' | 'depth' | 'analysis'>[],
  maxDepth: number = MAX_CAUSE_DEPTH,
): { followUp: FollowUp; depth: number } | null {
  const visited = new Set(chain.map((link) => link.runbookId));
  for (const link of chain) {
    if (link.depth >= maxDepth) continue;
    const followUp = link.analysis.followUps?.find((f) => !visited.has(f.runbookId));
    if (followUp) return { followUp, depth: link.depth + 1 };
  }
  return null;
}

/** A follow-up's read-only diagnostics for a host, ready for the command policy. */
export interface FollowUpPlan {
  runbookId: string;
  runbookTitle: string;
  /** What the cause runbook's commands were rendered with (CMDB tags, carried values, defaults). */
  parameters: Record<string, string>;
  diagnostics: { id: string; command: string; description: string }[];
  /** Diagnostics that cannot run on this host: no variant for its service manager, or a value missing. */
  refused: { id: string; command: string | null; reason: string }[];
}

/** Plans the diagnostics of the runbook a follow-up names, for the CMDB item of the incident's host. */
export function planFollowUp(
  runbook: Runbook,
  item: Pick<CmdbItem, 'serviceManager' | 'tags'> | null,
  followUp: Pick<FollowUp, 'parameters'>,
): FollowUpPlan {
  const rendered = planFromRunbook(runbook, planContextFor(item, followUp.parameters));
  const plan: FollowUpPlan = {
    runbookId: runbook.id,
    runbookTitle: runbook.title,
    parameters: rendered.parameters,
    diagnostics: [],
    refused: [],
  };
  for (const diagnostic of rendered.diagnostics) {
    if (!diagnostic.command)
      plan.refused.push({
        id: diagnostic.id,
        command: null,
        reason: `no variant for service manager '${item?.serviceManager ?? 'unknown'}'`,
      });
    else if (diagnostic.unresolved.length)
      plan.refused.push({ id: diagnostic.id, command: diagnostic.command, reason: `no value for ${diagnostic.unresolved.join(', ')}` });
    else if (!plan.diagnostics.some((d) => d.command === diagnostic.command))
      plan.diagnostics.push({ id: diagnostic.id, command: diagnostic.command, description: diagnostic.description });
  }
  return plan;
}

/**
 * One analysis for a cause chain, as the approval gate and the fix loop expect it:
 * - findings of every link, each labelled with its runbook;
 * - the root cause as a chain: the symptom's, then `Because: [title] cause` for each link that found one;
 * - actions cause first (deepest link first, chain order within a depth), then the symptom's own fixes:
 *   fixing the log growth frees the disk before anything that needs the disk runs; a symptom fix made
 *   unnecessary by its cause's fix is skipped at run time by its guard. A change proposed twice runs once;
 *   ids of a cause runbook's actions and checks carry its runbook id (`log-growth:truncate-oversized-logs`);
 * - verification: every link's checks (the symptom's still say whether the host is healthy);
 * - risk and approval as for one runbook: each action keeps its risk (any high one waits for a human) and
 *   `planHash` (the activities' sha256, passed in: core cannot hash) covers every action of the chain.
 * A cause that was named but not followed (depth bound, or its runbook already in the chain) is recorded
 * as a `cause-not-followed` finding.
 */
export function combineAnalyses(
  chain: readonly CauseLink[],
  planHash: (actions: readonly ProposedAction[]) => string,
  maxDepth: number = MAX_CAUSE_DEPTH,
): RemediationAnalysis {
  const label = (link: CauseLink, id: string) => (link.depth === 0 ? id : `${link.runbookId}:${id}`);
  const findings: RemediationAnalysis['findings'] = [];
  for (const link of chain) {
    for (const finding of link.analysis.findings) findings.push({ ...finding, runbookId: link.runbookId });
    for (const followUp of link.analysis.followUps ?? []) {
      const followed = chain.some((l) => l.runbookId === followUp.runbookId && l.via?.fromRunbookId === link.runbookId);
      if (followed) continue;
      const why = chain.some((l) => l.runbookId === followUp.runbookId)
        ? 'its runbook is already in the chain'
        : `the chain stops at depth ${maxDepth}`;
      findings.push({
        finding: 'cause-not-followed',
        diagnostic: followUp.finding,
        evidence: `${followUp.runbookId} covers the cause of ${followUp.finding}, not followed: ${why}`,
        runbookId: link.runbookId,
      });
    }
  }

  const causes = chain.flatMap((link) =>
    link.analysis.rootCause ? [link.depth === 0 ? link.analysis.rootCause : `[${link.title}] ${link.analysis.rootCause}`] : [],
  );

  const order = chain.map((link, index) => ({ link, index })).sort((a, b) => b.link.depth - a.link.depth || a.index - b.index);
  const actions: ProposedAction[] = [];
  for (const { link } of order) {
    for (const action of link.analysis.actions) {
      if (actions.some((a) => a.command === action.command && a.guard === action.guard)) continue;
      actions.push({ ...action, id: label(link, action.id) });
    }
  }

  const verification: RemediationAnalysis['verification'] = [];
  for (const link of chain) {
    for (const check of link.analysis.verification) {
      if (verification.some((v) => v.command === check.command && v.expect === check.expect)) continue;
      verification.push({ ...check, id: label(link, check.id) });
    }
  }

  const rollbacks = chain.filter((link) => link.analysis.rollback);
  const first = chain[0]?.analysis;
  return {
    findings,
    rootCause: causes.length ? causes.join(' Because: ') : null,
    actions,
    refused: chain.flatMap((link) => link.analysis.refused.map((r) => ({ ...r, id: label(link, r.id) }))),
    planHash: actions.length ? planHash(actions) : null,
    verification,
    rollback:
      rollbacks.length === 0
        ? null
        : rollbacks.length === 1
          ? rollbacks[0]!.analysis.rollback
          : rollbacks.map((link) => `[${link.title}] ${link.analysis.rollback}`).join(' '),
    ...(first?.llm !== undefined ? { llm: first.llm } : {}),
    ...(first?.llmError !== undefined ? { llmError: first.llmError } : {}),
    followUps: [],
    chain: chain.map((link) => ({ runbookId: link.runbookId, title: link.title, depth: link.depth, because: link.via?.because ?? null })),
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
