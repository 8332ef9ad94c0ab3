import type { AutomationHost } from '../automation.js';
import { parseAccountClause, parseFileClause, parseFirewallClause, parseLogrotateClause, parseSysctlClause } from './request-clauses.js';
import { HAS_QUOTE, prepareRequest, splitClauses, unquote } from './request-text.js';
import { clauseKind, FILLER, OBJECT_END, packageVerb, PRONOUN, serviceVerb, type ClauseKind } from './request-verbs.js';
import { PACKAGE_TEMPLATES, TEMPLATES_COVER, type FirewallKind, type TemplateId, type TemplateIntent } from './template-ids.js';
import { ACCESS_SERVICES, clip, packageName, serviceName } from './values.js';

// A natural-language request into template intents, without an LLM. The request is split into
// clauses; each clause is classified (request-verbs.ts) and read into a template and its checked
// parameters. A clause without a verb ("…, curl and git") takes the previous clause's verb; one
// without an object ("… and make sure it runs", "install and start nginx") takes the previous
// clause's object, or else the next one's. Anything not understood fails the whole request, saying
// what was understood and what is missing: a partial playbook never runs.

export type ParsedRequest =
  { ok: true; intents: TemplateIntent[]; mentionedTargets: string[] } | { ok: false; understood: Record<string, string>; message: string };

interface Unit {
  kind: ClauseKind | null;
  text: string;
  /** A bare list of names continuing the previous clause: same verb. */
  inheritsVerb: boolean;
}

const MAX_REQUEST = 4000;
const EXTRA_FILLER = new Set([
  'latest',
  'version',
  'versions',
  'newest',
  'date',
  'up-to-date',
  'boot',
  'startup',
  'reboot',
  'when',
  'whenever',
  'if',
  'needed',
  'config',
  'configuration',
  'changes',
  'changed',
  'by',
  'default',
  'at',
  'in',
  'named',
  'called',
]);
const ACCOUNT_VERB =
  /\b(?:create[sd]?|add(?:ed|s)?|make|ensure|remove[ds]?|delete[ds]?|drop|set\s*up|get\s+rid\s+of|purge[ds]?|(?:de)?provision|exists?|present|absent)\b/;
const NAMES_ONLY = /^(?:[a-z0-9][a-z0-9+._@-]*)(?:\s+[a-z0-9][a-z0-9+._@-]*){0,2}$/i;

export function parseRequest(request: string, hosts: readonly AutomationHost[], options: { firewall?: FirewallKind } = {}): ParsedRequest {
  if (request.length > MAX_REQUEST) return { ok: false, understood: {}, message: `The request is longer than ${MAX_REQUEST} characters.` };
  const prepared = prepareRequest(request, hosts);
  if (prepared.unknownHosts.length > 0)
    return {
      ok: false,
      understood: { hosts: prepared.unknownHosts.join(',') },
      message: `The request names ${prepared.unknownHosts.join(', ')}, which ${prepared.unknownHosts.length === 1 ? 'is' : 'are'} not among the targets (${hosts.map((h) => h.tagId).join(', ')}). Targets are chosen as CMDB items, not in the request's text.`,
    };
  // Targets are CMDB items chosen with the request; the text may not narrow them ("except web-02").
  const exclusion = /\b(?:except(?:\s+for)?|excluding|but\s+not|apart\s+from|other\s+than|skip(?:ping)?)\b/i.exec(prepared.text);
  if (exclusion)
    return {
      ok: false,
      understood: {},
      message: `The request excludes something ("${exclusion[0]}"): choose the target CMDB items to match instead of narrowing them in the text.`,
    };
  const units: Unit[] = [];
  for (const clause of splitClauses(prepared.text)) {
    let kind = clauseKind(clause.toLowerCase(), HAS_QUOTE.test(clause));
    const previous = units.at(-1);
    // "… to the developers and ops groups": a user or group clause without a verb continues the last one.
    if ((kind === 'user' || kind === 'group') && previous && !ACCOUNT_VERB.test(clause.toLowerCase())) kind = null;
    if (kind || !previous) units.push({ kind, text: clause, inheritsVerb: false });
    else if ((previous.kind === 'package' || previous.kind === 'service') && NAMES_ONLY.test(clause) && !PRONOUN.test(clause.toLowerCase()))
      units.push({ kind: previous.kind, text: clause, inheritsVerb: true });
    else previous.text += ` ${clause}`;
  }
  if (units.length === 0) return { ok: false, understood: {}, message: `The request is empty. Templates cover: ${TEMPLATES_COVER}.` };

  // "open ports 80 and 443 with firewalld": the firewall named anywhere applies to every port.
  const lowerText = prepared.text.toLowerCase();
  const firewall: FirewallKind = /\bfirewalld\b|\bfirewall-cmd\b/.test(lowerText)
    ? 'firewalld'
    : /\bufw\b/.test(lowerText)
      ? 'ufw'
      : (options.firewall ?? 'ufw');
  const intents: TemplateIntent[] = [];
  let lastObject: string[] | null = null;
  let lastTemplate: TemplateId | null = null;
  const failure = (understood: Record<string, string>, problem: string): ParsedRequest => {
    const known = flattenUnderstood([
      ...intents,
      ...(Object.keys(understood).length ? [{ template: understood.template as TemplateId, params: withoutTemplate(understood) }] : []),
    ]);
    const nothing = Object.keys(known).length === 0;
    return {
      ok: false,
      understood: known,
      message: `Could not build a playbook from the request: ${problem}.${nothing ? ` Templates cover: ${TEMPLATES_COVER}.` : ''}`,
    };
  };

  for (const [index, unit] of units.entries()) {
    const lower = unit.text.toLowerCase();
    switch (unit.kind) {
      case null:
        return failure({}, `no action the templates know in "${clip(unquote(unit.text, prepared.quotes))}"`);
      case 'package':
      case 'service': {
        const verb = unit.inheritsVerb ? null : unit.kind === 'service' ? serviceVerb(lower) : packageVerb(lower);
        const template: TemplateId | null = verb?.template ?? lastTemplate;
        if (!template) return failure({}, `no action in "${clip(unit.text)}"`);
        const rest = verb ? unit.text.slice(0, verb.start) + ' ' + unit.text.slice(verb.end) : unit.text;
        if (unit.kind === 'package' && /\bversions?\s+v?\d|(?:^|\s)v?\d+(?:\.\d+)+(?=[\s,.]|$)/i.test(rest))
          return failure({ template }, 'the templates install the version the package source offers; version pins are not supported');
        let names = objectNames(rest, prepared.quotes);
        if (names.length === 0) names = lastObject ?? nextObject(units, index, prepared.quotes) ?? [];
        const what = unit.kind === 'service' ? 'service' : 'package';
        if (names.length === 0)
          return failure(
            { template },
            `no ${what} to ${template.replace(/^\w+-/, '').replace('present', 'install').replace('absent', 'remove')} was named`,
          );
        for (const name of names) {
          const checked = unit.kind === 'service' ? serviceName(name) : packageName(name);
          if (!checked.ok) return failure({ template }, checked.reason);
          if ((template === 'service-stopped' || template === 'service-disabled') && ACCESS_SERVICES.has(name))
            return failure({ template, service: name }, `stopping or disabling ${name} would cut access to the host`);
        }
        if (PACKAGE_TEMPLATES.includes(template)) intents.push({ template, params: { packages: names.join(',') } });
        else for (const name of names) intents.push({ template, params: { service: name } });
        lastObject = names;
        lastTemplate = template;
        continue;
      }
      default: {
        const result =
          unit.kind === 'file'
            ? parseFileClause(unit.text, prepared.quotes)
            : unit.kind === 'user' || unit.kind === 'group'
              ? parseAccountClause(unit.text, unit.kind)
              : unit.kind === 'logrotate'
                ? parseLogrotateClause(unit.text)
                : unit.kind === 'sysctl'
                  ? parseSysctlClause(unit.text, prepared.quotes)
                  : parseFirewallClause(unit.text, firewall);
        if (!result.ok) return failure(result.understood, result.problem);
        intents.push(...result.intents);
        lastObject = null;
        lastTemplate = null;
      }
    }
  }
  return { ok: true, intents: mergePackages(intents), mentionedTargets: prepared.mentionedTargets };
}

/** The names left in a package or service clause once verbs and filler words are gone. */
function objectNames(text: string, quotes: readonly string[]): string[] {
  const words = text
    .replace(OBJECT_END, '')
    .replace(/\b(?:make|be)\s+sure\b/gi, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^[("'`]+|[)"'`.!?:]+$/g, ''))
    .map((w) => (HAS_QUOTE.test(w) ? unquote(w, quotes) : w.toLowerCase()))
    .filter((w) => w.length > 0 && !FILLER.has(w) && !EXTRA_FILLER.has(w));
  return [...new Set(words)];
}

function nextObject(units: readonly Unit[], index: number, quotes: readonly string[]): string[] | null {
  for (const unit of units.slice(index + 1)) {
    if (unit.kind !== 'package' && unit.kind !== 'service') return null;
    const lower = unit.text.toLowerCase();
    const verb = unit.kind === 'service' ? serviceVerb(lower) : packageVerb(lower);
    const names = objectNames(verb ? unit.text.slice(0, verb.start) + ' ' + unit.text.slice(verb.end) : unit.text, quotes);
    if (names.length > 0) return names;
  }
  return null;
}

/** "install nginx, curl and git": one package task with three names; a repeated intent once. */
function mergePackages(intents: TemplateIntent[]): TemplateIntent[] {
  const out: TemplateIntent[] = [];
  for (const intent of intents) {
    const previous = out.at(-1);
    const same = (a: TemplateIntent) => a.template === intent.template && JSON.stringify(a.params) === JSON.stringify(intent.params);
    if (out.some(same)) continue;
    if (previous && previous.template === intent.template && PACKAGE_TEMPLATES.includes(intent.template)) {
      const names = new Set([...previous.params.packages!.split(','), ...intent.params.packages!.split(',')]);
      previous.params = { packages: [...names].join(',') };
    } else out.push({ template: intent.template, params: { ...intent.params } });
  }
  return out;
}

function withoutTemplate(understood: Record<string, string>): Record<string, string> {
  const { template: _template, ...rest } = understood;
  return rest;
}

/** One intent: `{template, ...params}`; several: `{template: "a + b", "1.param": …, "2.param": …}`. */
export function flattenUnderstood(intents: readonly TemplateIntent[]): Record<string, string> {
  if (intents.length === 0) return {};
  if (intents.length === 1) return { template: intents[0]!.template, ...intents[0]!.params };
  const out: Record<string, string> = { template: intents.map((i) => i.template).join(' + ') };
  intents.forEach((intent, i) => {
    for (const [key, value] of Object.entries(intent.params)) out[`${i + 1}.${key}`] = value;
  });
  return out;
}
