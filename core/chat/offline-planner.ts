// The chat's planner when no language model is configured: a model step's stand-in. Given the
// conversation (the turn's tool results included) and the tools the caller may use, it returns the
// tool calls to make next or the answer — the shape a model step returns — so the chat workflow runs
// the same loop, confirmations included, with or without a model. Pure and deterministic
// (workflow-safe): the same conversation always gives the same step.

import type { ToolDescription } from '../../tools/registry.js';
import {
  BUILTIN_TOOL,
  KNOWN_INTEGRATION_TOOL,
  type AutomationRunData,
  type AutomationRunsListData,
  type AutomationStartedData,
  type CmdbItemSummary,
  type CmdbLookupData,
  type HostDiagnosisData,
  type IncidentDetailData,
  type IncidentsListData,
  type KnowledgeSearchData,
  type RemediationStartedData,
} from './builtin-tools.js';
import { readQuestion, type MetricKind, type OfflineQuestion } from './offline-question.js';

export interface PlannerToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export type PlannerMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: readonly PlannerToolCall[] | undefined }
  | {
      role: 'tool';
      toolCallId: string;
      name: string;
      /** What the tool returned for the model, or why it did not run. */
      content: string;
      /** The tool's structured result (ToolResult.data); the planner reads hosts, items and ids from it. */
      data?: unknown;
      /** The call failed or was refused (role, invalid arguments, declined confirmation). */
      isError?: boolean | undefined;
    };

export type PlannerStep = { toolCalls: PlannerToolCall[] } | { answer: string };

/** Said at the top of every offline answer. */
export const OFFLINE_NOTICE = 'Offline mode (no language model configured): I answer from InfraAI’s own data with fixed rules.';

/** Tool calls one offline turn may make before it answers with what it has. */
const MAX_CALLS_PER_TURN = 8;
const LIST_LIMIT = 10;

type ToolMessage = Extract<PlannerMessage, { role: 'tool' }>;

interface Turn {
  question: OfflineQuestion;
  /** The turn's calls in order, with their results when they came back. */
  calls: { call: PlannerToolCall; result: ToolMessage | undefined }[];
  tools: ReadonlySet<string>;
  /** Index of the user's message in the conversation: call ids are unique per turn. */
  turnIndex: number;
}

/** The next step of an offline turn. */
export function planOfflineStep(messages: readonly PlannerMessage[], tools: readonly ToolDescription[]): PlannerStep {
  const turnIndex = messages.findLastIndex((m) => m.role === 'user');
  const user = messages[turnIndex];
  if (!user || user.role !== 'user') return answer([helpText(new Set(tools.map((t) => t.name)))]);
  const results = new Map<string, ToolMessage>();
  const calls: Turn['calls'] = [];
  for (const message of messages.slice(turnIndex + 1)) {
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) calls.push({ call, result: undefined });
    if (message.role === 'tool') results.set(message.toolCallId, message);
  }
  for (const entry of calls) entry.result = results.get(entry.call.id);
  const turn: Turn = { question: readQuestion(user.content), calls, tools: new Set(tools.map((t) => t.name)), turnIndex };
  if (calls.length >= MAX_CALLS_PER_TURN)
    return answer(['I stopped after the tool calls this turn allows. What I found:', ...calls.map(resultLine)]);
  return INTENTS[turn.question.intent](turn);
}

// ---- steps -------------------------------------------------------------------------------------

function answer(lines: readonly (string | null | undefined | false)[]): PlannerStep {
  return { answer: [OFFLINE_NOTICE, '', ...lines.filter((l): l is string => typeof l === 'string')].join('\n').trim() };
}

function callTools(turn: Turn, wanted: readonly { name: string; arguments: Record<string, unknown> }[]): PlannerStep {
  return {
    toolCalls: wanted.map((w, i) => ({
      id: `offline-${turn.turnIndex}-${turn.calls.length + i + 1}`,
      name: w.name,
      arguments: w.arguments,
    })),
  };
}

/** The latest result of a tool this turn (undefined: not called yet or still out). */
function resultOf(turn: Turn, name: string): ToolMessage | undefined {
  return turn.calls.findLast((c) => c.call.name === name)?.result;
}

const called = (turn: Turn, name: string) => turn.calls.some((c) => c.call.name === name);

function dataOf<T>(message: ToolMessage | undefined, key: string): T | null {
  if (!message || message.isError || message.data === null || typeof message.data !== 'object') return null;
  return key in message.data ? (message.data as T) : null;
}

function resultLine({ call, result }: Turn['calls'][number]): string {
  if (!result) return `- ${call.name}: no result`;
  return `- ${call.name}${result.isError ? ' failed' : ''}: ${firstLines(result.content, 3)}`;
}

function firstLines(text: string, count: number): string {
  return text.split('\n').slice(0, count).join(' ').slice(0, 400);
}

const failure = (name: string, result: ToolMessage) => `The ${name} call did not succeed: ${firstLines(result.content, 2)}`;

// ---- hosts ---------------------------------------------------------------------------------------

type HostResolution = { kind: 'found'; item: CmdbItemSummary } | { kind: 'missing' | 'ambiguous'; items: CmdbItemSummary[] };

/** The CMDB item the question's host names, from cmdb_lookup's result. */
function resolveHost(turn: Turn): HostResolution | null {
  const lookup = resultOf(turn, BUILTIN_TOOL.cmdbLookup);
  if (!lookup) return null;
  const items = dataOf<CmdbLookupData>(lookup, 'items')?.items ?? [];
  const wanted = (turn.calls.findLast((c) => c.call.name === BUILTIN_TOOL.cmdbLookup)?.call.arguments.query as string | undefined) ?? '';
  const lower = wanted.toLowerCase();
  const exact = items.filter(
    (i) =>
      i.tagId.toLowerCase() === lower ||
      i.hostname.toLowerCase() === lower ||
      i.address === wanted ||
      i.hostname.toLowerCase().startsWith(`${lower}.`),
  );
  if (exact.length === 1) return { kind: 'found', item: exact[0]! };
  if (items.length === 1) return { kind: 'found', item: items[0]! };
  return { kind: items.length === 0 ? 'missing' : 'ambiguous', items };
}

function lookupHost(turn: Turn, extra: { name: string; arguments: Record<string, unknown> }[] = []): PlannerStep {
  return callTools(turn, [{ name: BUILTIN_TOOL.cmdbLookup, arguments: { query: turn.question.hosts[0]!, limit: 5 } }, ...extra]);
}

function hostNotResolved(turn: Turn, resolution: Exclude<HostResolution, { kind: 'found' }>): PlannerStep {
  const host = turn.question.hosts[0]!;
  if (resolution.kind === 'missing') {
    return answer([
      `I found no CMDB item named "${host}". Check the name, or ask "which hosts are in production" to see what the CMDB holds.`,
    ]);
  }
  return answer([`"${host}" matches several CMDB items; which one do you mean?`, ...resolution.items.map((i) => `- ${describeItem(i)}`)]);
}

function describeItem(i: CmdbItemSummary): string {
  const tags = Object.entries(i.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    `${i.tagId} — ${i.hostname} (${i.address}), ${i.environment}${i.os ? `, ${i.os}` : ''}` +
    `${i.owner ? `, owner ${i.owner}` : ''}${tags ? `, tags ${tags}` : ''}${i.description ? `: ${i.description}` : ''}`
  );
}

// ---- knowledge -------------------------------------------------------------------------------

function knowledgeQuery(q: OfflineQuestion): string {
  return q.text.slice(0, 2000);
}

/**
 * Lines citing the knowledge passages found, best first, with their sources. `about` (the subject
 * words of a request, e.g. the service) keeps only passages that mention one of them: a search run
 * alongside a change finds something for any words, and an unrelated runbook is noise there.
 */
function citeKnowledge(result: ToolMessage | undefined, question: string, max = 3, about?: readonly string[]): string[] {
  const found = dataOf<KnowledgeSearchData>(result, 'hits')?.hits ?? [];
  const hits = about ? found.filter((h) => about.some((word) => `${h.title} ${h.excerpt}`.toLowerCase().includes(word))) : found;
  if (hits.length === 0) return [];
  const shown = hits.slice(0, max);
  return [
    'From the knowledge base:',
    ...shown.map(
      (h, i) =>
        `${i + 1}. ${h.title}${h.section && h.section !== h.title ? ` — ${h.section}` : ''}: ${focusedExcerpt(h.excerpt, question, h.title)}`,
    ),
    `Sources: ${[...new Set(shown.map((h) => h.title))].join('; ')}`,
  ];
}

/** What a request is about: its words without the asking, the acting, the hosts and the filler. */
function subjectWords(q: OfflineQuestion): string[] {
  const hosts = new Set(q.hosts.map((h) => h.toLowerCase()));
  return (q.text.toLowerCase().match(/[a-z0-9_-]+/g) ?? []).filter(
    (w) => w.length > 2 && !STOP_WORDS.has(w) && !ACTION_WORDS.has(w) && !hosts.has(w),
  );
}

const ACTION_WORDS = new Set(
  'please could would kindly fix remediate resolve repair heal mitigate restart reload start stop install uninstall remove upgrade update deploy reboot apply patch enable disable rotate flush clear clean run check mode dry wrong going status state health healthy host server'.split(
    ' ',
  ),
);

const EXCERPT_CHARS = 360;
const STOP_WORDS = new Set(
  'a an the is are was were be to of in on for and or with from by at as it this that what how do does did i we you my our can should why when which who whom from into about'.split(
    ' ',
  ),
);

/** The passage's sentences that share most words with the question, in their own order, within EXCERPT_CHARS. */
function focusedExcerpt(text: string, question: string, title: string): string {
  // Chunks open with their document's heading, which the citation already names.
  const heading = /^#+\s+/.exec(text);
  if (heading && text.slice(heading[0].length).startsWith(title)) text = text.slice(heading[0].length + title.length).trim();
  if (text.length <= EXCERPT_CHARS) return text;
  const wanted = new Set((question.toLowerCase().match(/[a-z0-9_-]+/g) ?? []).filter((w) => w.length > 1 && !STOP_WORDS.has(w)));
  const sentences = text.split(/(?<=[.!?])\s+/).map((sentence, index) => ({
    sentence,
    index,
    score: (sentence.toLowerCase().match(/[a-z0-9_-]+/g) ?? []).filter((w) => wanted.has(w)).length,
  }));
  const picked: typeof sentences = [];
  let length = 0;
  for (const s of [...sentences].sort((a, b) => b.score - a.score || a.index - b.index)) {
    if (length + s.sentence.length > EXCERPT_CHARS && picked.length > 0) continue;
    picked.push(s);
    length += s.sentence.length + 1;
  }
  const excerpt = picked
    .sort((a, b) => a.index - b.index)
    .map((s) => s.sentence)
    .join(' … ');
  return excerpt.length > EXCERPT_CHARS ? `${excerpt.slice(0, EXCERPT_CHARS - 1)}…` : excerpt;
}

// ---- intents -------------------------------------------------------------------------------------

const INTENTS: Record<OfflineQuestion['intent'], (turn: Turn) => PlannerStep> = {
  help: (turn) => answer([helpText(turn.tools)]),
  unknown: (turn) => answer(['I could not tell what you are asking.', helpText(turn.tools)]),

  knowledge(turn) {
    if (!turn.tools.has(BUILTIN_TOOL.knowledgeSearch)) return answer(['The knowledge base is not available to you.', helpText(turn.tools)]);
    const result = resultOf(turn, BUILTIN_TOOL.knowledgeSearch);
    if (!called(turn, BUILTIN_TOOL.knowledgeSearch)) {
      return callTools(turn, [{ name: BUILTIN_TOOL.knowledgeSearch, arguments: { query: knowledgeQuery(turn.question), k: 5 } }]);
    }
    if (!result) return answer(['The knowledge search gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.knowledgeSearch, result)]);
    const cited = citeKnowledge(result, turn.question.text);
    if (cited.length === 0) {
      return answer([
        `Nothing in the knowledge base matches "${turn.question.text}".`,
        'Upload the runbook or SOP that covers it, or ask differently.',
      ]);
    }
    return answer(cited);
  },

  cmdb(turn) {
    const q = turn.question;
    const result = resultOf(turn, BUILTIN_TOOL.cmdbLookup);
    if (!called(turn, BUILTIN_TOOL.cmdbLookup)) {
      const tags = tagFilter(q.text);
      const query = q.hosts[0] ?? (tags || q.environment ? undefined : freeTextOf(q.text));
      return callTools(turn, [
        {
          name: BUILTIN_TOOL.cmdbLookup,
          arguments: {
            ...(query ? { query } : {}),
            ...(q.environment ? { environment: q.environment } : {}),
            ...(tags ? { tags } : {}),
            limit: 20,
          },
        },
      ]);
    }
    if (!result) return answer(['The CMDB lookup gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.cmdbLookup, result)]);
    const data = dataOf<CmdbLookupData>(result, 'items');
    if (!data) return answer([result.content]);
    if (data.items.length === 0) return answer([`No CMDB item matches your question. ${result.content}`]);
    return answer([
      `${data.items.length} CMDB item(s)${data.nextCursor ? ' (there are more; narrow the question)' : ''}:`,
      ...data.items.map((i) => `- ${describeItem(i)}`),
    ]);
  },

  incidents_list(turn) {
    const q = turn.question;
    const result = resultOf(turn, BUILTIN_TOOL.incidentsList);
    if (!called(turn, BUILTIN_TOOL.incidentsList)) {
      return callTools(turn, [
        {
          name: BUILTIN_TOOL.incidentsList,
          arguments: {
            ...(q.status ? { status: q.status } : {}),
            ...(q.hosts[0] ? { host: q.hosts[0] } : {}),
            ...(q.since ? { since: q.since } : {}),
            ...(q.severity ? { severity: q.severity } : {}),
            limit: LIST_LIMIT,
          },
        },
      ]);
    }
    if (!result) return answer(['The incident list gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.incidentsList, result)]);
    const data = dataOf<IncidentsListData>(result, 'items');
    if (!data) return answer([result.content]);
    const what = describeIncidentFilter(data.filter);
    if (data.items.length === 0) return answer([`There are no ${what}.`]);
    return answer([
      `${data.items.length} ${what}${data.nextCursor ? ' (newest shown; there are more)' : ''}:`,
      ...data.items.map(
        (i) =>
          `- INC-${i.number} [${i.status}, ${i.severity}] ${i.title} — ${i.targetHost ?? i.tagId} (opened ${i.createdAt}) /api/v1/incidents/${i.id}`,
      ),
    ]);
  },

  incident_get(turn) {
    const q = turn.question;
    const result = resultOf(turn, BUILTIN_TOOL.incidentsGet);
    if (!called(turn, BUILTIN_TOOL.incidentsGet))
      return callTools(turn, [{ name: BUILTIN_TOOL.incidentsGet, arguments: { id: q.incident! } }]);
    if (!result) return answer(['The incident lookup gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.incidentsGet, result)]);
    const data = dataOf<IncidentDetailData>(result, 'incident');
    if (!data) return answer([result.content]);
    return answer(describeIncidentDetail(data));
  },

  host_status(turn) {
    const q = turn.question;
    if (!called(turn, BUILTIN_TOOL.cmdbLookup)) return lookupHost(turn);
    const host = resolveHost(turn);
    if (!host) return answer(['The CMDB lookup gave no result.']);
    if (host.kind !== 'found') return hostNotResolved(turn, host);
    const tagId = host.item.tagId;
    const wanted: { name: string; arguments: Record<string, unknown> }[] = [];
    if (!called(turn, BUILTIN_TOOL.incidentsList)) wanted.push({ name: BUILTIN_TOOL.incidentsList, arguments: { host: tagId, limit: 5 } });
    if (turn.tools.has(BUILTIN_TOOL.automationRunsList) && !called(turn, BUILTIN_TOOL.automationRunsList)) {
      wanted.push({ name: BUILTIN_TOOL.automationRunsList, arguments: { target: tagId, limit: 3 } });
    }
    const symptom = q.services.length > 0 || /\b(?:error|down|full|fail|slow|timeout|crash|5\d\d)/.test(q.text.toLowerCase());
    if (symptom && turn.tools.has(BUILTIN_TOOL.knowledgeSearch) && !called(turn, BUILTIN_TOOL.knowledgeSearch)) {
      wanted.push({ name: BUILTIN_TOOL.knowledgeSearch, arguments: { query: knowledgeQuery(q), k: 3 } });
    }
    if (wanted.length > 0) return callTools(turn, wanted);
    return answer([
      `${tagId}: ${describeItem(host.item)}`,
      ...hostActivity(turn, tagId),
      ...citeKnowledge(resultOf(turn, BUILTIN_TOOL.knowledgeSearch), q.text, 2, subjectWords(q)),
    ]);
  },

  diagnose(turn) {
    const q = turn.question;
    if (!turn.tools.has(BUILTIN_TOOL.hostDiagnose)) return INTENTS.host_status(turn);
    if (!called(turn, BUILTIN_TOOL.cmdbLookup)) return lookupHost(turn);
    const host = resolveHost(turn);
    if (!host) return answer(['The CMDB lookup gave no result.']);
    if (host.kind !== 'found') return hostNotResolved(turn, host);
    if (!called(turn, BUILTIN_TOOL.hostDiagnose)) {
      return callTools(turn, [
        { name: BUILTIN_TOOL.hostDiagnose, arguments: { tagId: host.item.tagId, errorMessage: q.text.slice(0, 20_000) } },
      ]);
    }
    const result = resultOf(turn, BUILTIN_TOOL.hostDiagnose);
    if (!result) return answer(['The diagnosis gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.hostDiagnose, result)]);
    const data = dataOf<HostDiagnosisData>(result, 'rootCause');
    if (!data) return answer([result.content]);
    return answer([
      `Diagnosis of ${host.item.tagId} (${data.workflowId}): ${data.category}, confidence ${data.confidence}.`,
      `Root cause: ${data.rootCause}`,
      ...data.findings.map((f) => `- Finding: ${f}`),
      ...data.fixCommands.map((f) => `- Suggested fix (${f.risk} risk, not run): ${f.command ?? '(none)'} — ${f.description}`),
      data.runbooks.length ? `Runbooks: ${data.runbooks.join('; ')}` : null,
      data.escalate ? 'This needs a human: escalate it.' : null,
      data.fixCommands.length ? 'Ask me to fix it on this host and I will propose a remediation for you to confirm.' : null,
    ]);
  },

  metrics(turn) {
    const q = turn.question;
    if (!called(turn, BUILTIN_TOOL.cmdbLookup)) return lookupHost(turn);
    const host = resolveHost(turn);
    if (!host) return answer(['The CMDB lookup gave no result.']);
    if (host.kind !== 'found') return hostNotResolved(turn, host);
    const metric = q.metric!;
    if (!turn.tools.has(KNOWN_INTEGRATION_TOOL.prometheusQuery)) {
      return answer([
        `${host.item.tagId}: ${describeItem(host.item)}`,
        `I cannot read ${metric} metrics: Prometheus is not configured for you (PUT /api/v1/integrations/prometheus/config).`,
      ]);
    }
    if (!called(turn, KNOWN_INTEGRATION_TOOL.prometheusQuery)) {
      return callTools(turn, [{ name: KNOWN_INTEGRATION_TOOL.prometheusQuery, arguments: { query: promQl(metric, host.item) } }]);
    }
    const result = resultOf(turn, KNOWN_INTEGRATION_TOOL.prometheusQuery);
    if (!result) return answer(['The Prometheus query gave no result.']);
    if (result.isError) return answer([failure(KNOWN_INTEGRATION_TOOL.prometheusQuery, result)]);
    return answer([`${METRIC_LABEL[metric]} on ${host.item.tagId} (${host.item.address}), from Prometheus:`, result.content]);
  },

  remediate(turn) {
    return proposeChange(turn, BUILTIN_TOOL.incidentsStartRemediation, (q, item) => ({
      tagId: item.tagId,
      title: withoutPoliteness(q.text).slice(0, 200),
      description: q.text,
      severity: q.severity ?? 'medium',
    }));
  },

  automate(turn) {
    return proposeChange(turn, BUILTIN_TOOL.automationStartRun, (q, item) => ({
      request: automationRequest(q, item),
      targets: [item.tagId],
      checkMode: q.checkMode,
    }));
  },

  automation_list(turn) {
    const q = turn.question;
    if (q.hosts.length > 0 && !called(turn, BUILTIN_TOOL.cmdbLookup)) return lookupHost(turn);
    const host = q.hosts.length > 0 ? resolveHost(turn) : null;
    if (host && host.kind !== 'found') return hostNotResolved(turn, host);
    if (!called(turn, BUILTIN_TOOL.automationRunsList)) {
      return callTools(turn, [
        {
          name: BUILTIN_TOOL.automationRunsList,
          arguments: {
            ...(q.automationStatus ? { status: q.automationStatus } : {}),
            ...(host?.kind === 'found' ? { target: host.item.tagId } : {}),
            limit: LIST_LIMIT,
          },
        },
      ]);
    }
    const result = resultOf(turn, BUILTIN_TOOL.automationRunsList);
    if (!result) return answer(['The automation run list gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.automationRunsList, result)]);
    const data = dataOf<AutomationRunsListData>(result, 'items');
    if (!data) return answer([result.content]);
    const what = `${q.automationStatus ? `${q.automationStatus} ` : ''}automation run(s)${host?.kind === 'found' ? ` on ${host.item.tagId}` : ''}`;
    if (data.items.length === 0) return answer([`There are no ${what}.`]);
    return answer([
      `${data.items.length} ${what}:`,
      ...data.items.map(
        (r) =>
          `- Run ${r.number} [${r.status}${r.checkMode ? ', check mode' : ''}] "${r.request}" on ${r.targets.join(', ')}${r.summary ? ` — ${r.summary}` : ''}`,
      ),
    ]);
  },

  automation_get(turn) {
    const q = turn.question;
    if (!called(turn, BUILTIN_TOOL.automationRunGet))
      return callTools(turn, [{ name: BUILTIN_TOOL.automationRunGet, arguments: { id: q.run! } }]);
    const result = resultOf(turn, BUILTIN_TOOL.automationRunGet);
    if (!result) return answer(['The automation run lookup gave no result.']);
    if (result.isError) return answer([failure(BUILTIN_TOOL.automationRunGet, result)]);
    const data = dataOf<AutomationRunData>(result, 'run');
    if (!data) return answer([result.content]);
    const run = data.run;
    return answer([
      `Automation run ${run.number} is ${run.status}${run.checkMode ? ' (check mode)' : ''}: "${run.request}" on ${run.targets.join(', ')}.`,
      run.currentStep ? `Current step: ${run.currentStep}.` : null,
      run.awaitingApprovalOf
        ? `It waits for approval of its artifacts (hash ${run.awaitingApprovalOf}): POST /api/v1/automation/${run.id}/approve.`
        : null,
      ...Object.entries(run.recap ?? {}).map(
        ([h, r]) => `- ${h}: ok=${r.ok} changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}`,
      ),
      run.summary ? `Summary: ${run.summary}` : null,
      run.error ? `Error: ${run.error}` : null,
      `Details: /api/v1/automation/${run.id}`,
    ]);
  },
};

// ---- changes -------------------------------------------------------------------------------------

/**
 * Looks the host up and searches the knowledge base at once, then proposes the change tool with the
 * arguments a model would give: the chat workflow asks the user to confirm that exact call.
 */
function proposeChange(
  turn: Turn,
  tool: string,
  argsOf: (q: OfflineQuestion, item: CmdbItemSummary) => Record<string, unknown>,
): PlannerStep {
  const q = turn.question;
  if (q.hosts.length === 0) {
    return answer(['Which host? Name the CMDB item (for example "restart nginx on web-01"), or ask "which hosts are in production".']);
  }
  if (!called(turn, BUILTIN_TOOL.cmdbLookup)) {
    const knowledge = turn.tools.has(BUILTIN_TOOL.knowledgeSearch)
      ? [{ name: BUILTIN_TOOL.knowledgeSearch, arguments: { query: knowledgeQuery(q), k: 3 } }]
      : [];
    return lookupHost(turn, knowledge);
  }
  const host = resolveHost(turn);
  if (!host) return answer(['The CMDB lookup gave no result.']);
  if (host.kind !== 'found') return hostNotResolved(turn, host);
  const cited = citeKnowledge(resultOf(turn, BUILTIN_TOOL.knowledgeSearch), q.text, 2, subjectWords(q));
  if (!turn.tools.has(tool)) {
    return answer([
      `I would start ${tool === BUILTIN_TOOL.automationStartRun ? 'an automation run' : 'a remediation'} on ${host.item.tagId}, but ${tool} is not available to you (it needs the operator role, or it is not configured).`,
      ...cited,
    ]);
  }
  if (!called(turn, tool)) return callTools(turn, [{ name: tool, arguments: argsOf(q, host.item) }]);
  const result = resultOf(turn, tool);
  if (!result) return answer([`The proposed ${tool} call has no result yet.`]);
  if (result.isError) return answer([`Nothing was started on ${host.item.tagId}. ${failure(tool, result)}`, ...cited]);
  const remediation = dataOf<RemediationStartedData>(result, 'incident');
  if (remediation) {
    const i = remediation.incident;
    return answer([
      `${remediation.created ? 'Started' : 'Already started'} remediation of ${host.item.tagId}: INC-${i.number} "${i.title}" (${i.status}).`,
      `Follow it at /api/v1/incidents/${i.id}; fix commands it proposes wait for your approval.`,
      ...cited,
    ]);
  }
  const automation = dataOf<AutomationStartedData>(result, 'run');
  if (automation) {
    const r = automation.run;
    return answer([
      `${automation.created ? 'Started' : 'Already started'} automation run ${r.number} on ${r.targets.join(', ')}: "${r.request}"${r.checkMode ? ' in check mode' : ''} (${r.status}).`,
      `Follow it at /api/v1/automation/${r.id}${r.checkMode ? '' : '; its playbook waits for your approval before it runs'}.`,
      ...cited,
    ]);
  }
  return answer([result.content, ...cited]);
}

function withoutPoliteness(text: string): string {
  return text.replace(/^(?:please|can you|could you|would you|go ahead and|kindly)\s+/i, '').replace(/[?.!\s]+$/, '') || text;
}

function automationRequest(q: OfflineQuestion, item: CmdbItemSummary): string {
  // The request without the host and the politeness: "restart nginx" for the template generator.
  const host = q.hosts[0] ?? item.tagId;
  const escaped = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (
    q.text
      .replace(/^(?:please|can you|could you|would you|go ahead and|kindly)\s+/i, '')
      .replace(new RegExp(`\\s*\\b(?:(?:on|at|for|in)\\s+)?(?:(?:the\\s+)?(?:host|server)\\s+)?${escaped}\\b`, 'i'), '')
      .replace(/\s*\b(?:as a |in )?(?:dry[- ]run|check mode|check-mode)\b/i, '')
      .replace(/[?.!\s]+$/, '')
      .trim() || q.text
  );
}

// ---- describing ------------------------------------------------------------------------------------

function hostActivity(turn: Turn, tagId: string): string[] {
  const lines: string[] = [];
  const incidents = resultOf(turn, BUILTIN_TOOL.incidentsList);
  const list = dataOf<IncidentsListData>(incidents, 'items');
  if (incidents?.isError) lines.push(failure(BUILTIN_TOOL.incidentsList, incidents));
  else if (list) {
    const active = list.items.filter((i) => !['resolved', 'escalated', 'failed', 'cancelled'].includes(i.status));
    if (list.items.length === 0) lines.push(`No incident has been raised on ${tagId}.`);
    else {
      lines.push(
        active.length > 0 ? `${active.length} active incident(s) on ${tagId}:` : `No active incident on ${tagId}; the most recent ones:`,
      );
      for (const i of active.length > 0 ? active : list.items.slice(0, 3)) {
        lines.push(`- INC-${i.number} [${i.status}, ${i.severity}] ${i.title}${i.summary ? ` — ${i.summary}` : ''}`);
      }
    }
  }
  const runs = dataOf<AutomationRunsListData>(resultOf(turn, BUILTIN_TOOL.automationRunsList), 'items');
  if (runs && runs.items.length > 0) {
    lines.push('Recent automation runs:');
    for (const r of runs.items) lines.push(`- Run ${r.number} [${r.status}] "${r.request}"`);
  }
  return lines;
}

function describeIncidentFilter(filter: IncidentsListData['filter']): string {
  const status = filter.status === 'active' ? 'active ' : filter.status ? `${filter.status.replace('_', ' ')} ` : '';
  const severity = filter.severity ? `${filter.severity} ` : '';
  return `${status}${severity}incident(s)${filter.tagId ? ` on ${filter.tagId}` : ''}${filter.since ? ` since ${filter.since}` : ''}`;
}

function describeIncidentDetail(data: IncidentDetailData): string[] {
  const i = data.incident;
  const run = data.run;
  return [
    `INC-${i.number}: ${i.title}`,
    `Status ${run?.status ?? i.status}, severity ${i.severity}, host ${i.targetHost ?? i.tagId}, opened ${i.createdAt}${i.resolvedAt ? `, ended ${i.resolvedAt}` : ''}.`,
    i.description ? `Description: ${i.description}` : null,
    run
      ? `Run: ${run.workflowStatus.toLowerCase()}${run.currentStep ? `, at step ${run.currentStep}` : ''}${run.runbookTitle ? `, runbook "${run.runbookTitle}"` : ''}.`
      : null,
    run?.awaitingApproval ? `It waits for approval of its fix: POST /api/v1/incidents/${i.id}/approve.` : null,
    run?.rootCause ? `Root cause: ${run.rootCause}` : null,
    ...(run?.findings ?? []).map((f) => `- ${f}`),
    data.result ? `Latest result (${data.result.status}): ${data.result.summary}` : null,
    i.summary && !data.result ? `Summary: ${i.summary}` : null,
    `Details: /api/v1/incidents/${i.id}`,
  ].filter((l): l is string => l !== null);
}

const METRIC_LABEL: Record<MetricKind, string> = {
  cpu: 'CPU use (%)',
  memory: 'Memory use (%)',
  disk: 'Disk use (%) per mount',
  load: 'Load average (1 min)',
  network: 'Network traffic (bytes/s received)',
  up: 'Scrape target up',
};

/** node_exporter queries for one host, matched on its instance label (hostname or address, any port). */
export function promQl(metric: MetricKind, item: Pick<CmdbItemSummary, 'hostname' | 'address' | 'tagId'>): string {
  const names = [...new Set([item.tagId, item.hostname, item.address])].map((n) => n.replace(/[.\\]/g, (c) => `\\\\${c}`));
  const instance = `instance=~"(${names.join('|')})(:[0-9]+)?"`;
  switch (metric) {
    case 'cpu':
      return `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",${instance}}[5m])))`;
    case 'memory':
      return `100 * (1 - node_memory_MemAvailable_bytes{${instance}} / node_memory_MemTotal_bytes{${instance}})`;
    case 'disk':
      return `100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay",${instance}} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay",${instance}})`;
    case 'load':
      return `node_load1{${instance}}`;
    case 'network':
      return `sum by (instance) (rate(node_network_receive_bytes_total{device!="lo",${instance}}[5m]))`;
    case 'up':
      return `up{${instance}}`;
  }
}

/** `role:db`, `tagged team=payments`: the tag pairs a CMDB question names. */
function tagFilter(text: string): Record<string, string> | null {
  const pairs = [...text.matchAll(/\b([a-z][a-z0-9_-]{0,40})[:=]([a-z0-9][a-z0-9_.-]{0,60})\b/gi)].filter(
    ([, key]) => !/^https?$/i.test(key!),
  );
  return pairs.length ? Object.fromEntries(pairs.map(([, k, v]) => [k!, v!])) : null;
}

/** The words of a CMDB question that can match a description ("hosts running postgres" → "postgres"). */
function freeTextOf(text: string): string | undefined {
  const stop =
    /^(?:which|what|list|show|me|all|the|a|an|of|in|are|is|our|my|hosts?|servers?|machines?|nodes?|vms?|cmdb|items?|running|run|with|that|have|has|do|does|we|where|find|search|for|inventory|configuration|give|there|any|to|on|who|owns|owner|owned|by|ip|address|and)$/;
  const words = text
    .toLowerCase()
    .replace(/[?.!,]/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !stop.test(w));
  return words.length ? words.slice(0, 5).join(' ') : undefined;
}

function helpText(tools: ReadonlySet<string>): string {
  const can = [
    tools.has(BUILTIN_TOOL.knowledgeSearch) && '- search the knowledge base: "how do I restart nginx?", "runbook for a full disk"',
    tools.has(BUILTIN_TOOL.cmdbLookup) &&
      '- look up hosts in the CMDB: "which hosts are in production?", "what is web-01?", "who owns 10.0.0.12?"',
    tools.has(BUILTIN_TOOL.incidentsList) && '- list incidents: "list open incidents", "incidents on db-01 this week"',
    tools.has(BUILTIN_TOOL.incidentsGet) && '- inspect an incident: "show incident 42"',
    tools.has(BUILTIN_TOOL.cmdbLookup) && tools.has(BUILTIN_TOOL.incidentsList) && '- check a host: "what is wrong with web-01?"',
    tools.has(BUILTIN_TOOL.hostDiagnose) && '- diagnose a host: "diagnose web-01: nginx returns 502"',
    tools.has(KNOWN_INTEGRATION_TOOL.prometheusQuery) && '- read metrics: "cpu on db-01", "memory of web-01"',
    tools.has(BUILTIN_TOOL.automationRunsList) && '- follow automation: "status of ansible run 3", "list failed ansible runs"',
    tools.has(BUILTIN_TOOL.incidentsStartRemediation) && '- start a remediation after your confirmation: "fix nginx on web-01"',
    tools.has(BUILTIN_TOOL.automationStartRun) && '- start an Ansible run after your confirmation: "restart nginx on web-01"',
  ].filter((line): line is string => typeof line === 'string');
  return can.length ? ['I can:', ...can].join('\n') : 'No tools are available to you.';
}
