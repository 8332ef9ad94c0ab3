import { HAS_QUOTE, QUOTE_MARK, unquote } from './request-text.js';
import { PATH_IN_TEXT, pathsIn } from './request-verbs.js';
import type { FirewallKind, TemplateId, TemplateIntent } from './template-ids.js';
import {
  absolutePath,
  accountName,
  clip,
  fileMode,
  literalContent,
  port,
  sysctlKey,
  sysctlValue,
  templateContent,
  type Checked,
} from './values.js';

// One clause of a request of a specific kind (file, user, group, log rotation, sysctl, firewall)
// into its template and checked parameters. Packages and services, whose object may come from a
// neighbouring clause, are read in request.ts.

export type ClauseResult = { ok: true; intents: TemplateIntent[] } | { ok: false; understood: Record<string, string>; problem: string };

const fail = (understood: Record<string, string>, problem: string): ClauseResult => ({ ok: false, understood, problem });
const one = (template: TemplateId, params: Record<string, string>): ClauseResult => ({ ok: true, intents: [{ template, params }] });

/** A checked value into params, or the failure naming it. */
function take(params: Record<string, string>, key: string, checked: Checked<string | number>): string | null {
  if (!checked.ok) return checked.reason;
  params[key] = String(checked.value);
  return null;
}

const OWNER = /\b(?:owned\s+by|owner(?:ship)?(?:\s+is|\s+set\s+to|\s+to)?|chown(?:ed)?(?:\s+to)?)\s+(?:user\s+)?([A-Za-z0-9_.:-]+)/i;
const GROUP = /\b(?:(?:with|and)\s+group|group(?:\s+owner)?(?:\s+is|\s+set\s+to|\s+to)?)\s+([A-Za-z0-9_.-]+)/i;
const MODE = /\b(?:mode|permissions?|perms|chmod(?:ed)?)\s*(?:of\s+|to\s+|=\s*|:\s*|set\s+to\s+)?(0o?[0-7]{3,4}|[0-7]{3})\b/i;
/** Words a file request may hold besides its path, content, owner, group and mode. */
const FILE_GLUE = new Set(
  (
    'a an the to into in at as with and its it is be that this new named called on of for onto here please make sure ensure ' +
    'file files content contents containing text config configuration template templated render rendered deploy deployed write ' +
    'create put place copy drop push install add set delete remove rm erase get rid absent there should contain contains saying says'
  ).split(' '),
);
const OWNER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export function parseFileClause(clause: string, quotes: readonly string[]): ClauseResult {
  const lower = clause.toLowerCase();
  const paths = pathsIn(clause);
  const removing = /\b(?:delete|remove|rm|erase|get\s+rid\s+of|absent)\b/.test(lower) && !HAS_QUOTE.test(clause);
  const isTemplate = /\btemplat(?:e|ed)\b|\brender/.test(lower);
  const template: TemplateId = removing ? 'file-absent' : isTemplate ? 'file-template' : 'file-content';
  const params: Record<string, string> = {};
  const understood = () => ({ template, ...params });
  // A path the user quoted is still a path; quoted text that is not a path is the content.
  const quoted = [...clause.matchAll(QUOTE_MARK)].map((m) => quotes[Number(m[1])] ?? '');
  const quotedPath = quoted.find((q) => q.startsWith('/') && !q.includes('\n') && !/\s/.test(q));
  const path = paths[0] ?? quotedPath;
  if (!path) return fail(understood(), 'no absolute path of the file was given (such as /etc/motd)');
  const problem = take(params, 'path', absolutePath(unquote(path, quotes)));
  if (problem) return fail(understood(), problem);
  if (template === 'file-absent') return one(template, params);
  const content = quoted.find((q) => q !== quotedPath);
  if (content === undefined) return fail(understood(), 'no content to write was given in quotes (with content "...")');
  const text = unescapeContent(content);
  const checked = isTemplate ? templateContent(text) : literalContent(text);
  if (!checked.ok) return fail(understood(), checked.reason);
  params.content = checked.value;
  const owner = OWNER.exec(clause)?.[1];
  if (owner) {
    const [user, group] = owner.split(':');
    if (!OWNER_NAME.test(user!)) return fail(understood(), `"${clip(user!)}" is not an owner name`);
    params.owner = user!;
    if (group !== undefined) {
      if (!OWNER_NAME.test(group)) return fail(understood(), `"${clip(group)}" is not a group name`);
      params.group = group;
    }
  }
  const group = GROUP.exec(clause)?.[1];
  if (group && !params.group) {
    if (!OWNER_NAME.test(group)) return fail(understood(), `"${clip(group)}" is not a group name`);
    params.group = group;
  }
  const leftover = clause
    .replace(QUOTE_MARK, ' ')
    .replace(PATH_IN_TEXT, ' ')
    .replace(OWNER, ' ')
    .replace(GROUP, ' ')
    .replace(MODE, ' ')
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^[("'`]+|[)"'`.,!?:;]+$/g, ''))
    .filter((w) => w && !FILE_GLUE.has(w) && !/^0?[0-7]{3,4}$/.test(w));
  if (leftover.length > 0) return fail(understood(), `"${clip(leftover.join(' '))}" is not something a file template understands`);
  const mode = MODE.exec(clause)?.[1] ?? /(?:^|\s)(0[0-7]{3})(?=$|[\s,.])/.exec(clause)?.[1];
  const modeProblem = take(params, 'mode', fileMode(mode ?? '0644'));
  return modeProblem ? fail(understood(), modeProblem) : one(template, params);
}

/** `\n` and `\t` typed in a request mean a newline and a tab; the file ends with a newline. */
function unescapeContent(text: string): string {
  const out = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return out.endsWith('\n') || out.length === 0 ? out : `${out}\n`;
}

const ACCOUNT_AFTER = /\b(?:user|account|group)s?\s+(?:account\s+|called\s+|named\s+)?([^\s,]+)/i;
const ACCOUNT_BEFORE = /\b([a-z_][a-z0-9_-]*)\s+(?:user|account|group)\b/i;
const NOT_NAMES = new Set(['a', 'an', 'the', 'new', 'system', 'local', 'unix', 'linux', 'user', 'account', 'group', 'called', 'named']);
const SHELLS = new Set([
  '/bin/bash',
  '/usr/bin/bash',
  '/bin/sh',
  '/usr/bin/sh',
  '/bin/dash',
  '/bin/zsh',
  '/usr/bin/zsh',
  '/usr/bin/fish',
  '/usr/sbin/nologin',
  '/sbin/nologin',
  '/bin/false',
  '/usr/bin/false',
]);

function accountOf(clause: string, noun: 'user' | 'group'): string | undefined {
  const scope = noun === 'user' ? clause.replace(/\b(?:to|in|into|of)\s+(?:the\s+)?(?:groups?\s+)?.*$/i, '') : clause;
  const pattern = new RegExp(ACCOUNT_AFTER.source.replace('user|account|group', noun === 'user' ? 'user|account' : 'group'), 'i');
  const after = pattern.exec(scope)?.[1];
  if (after && !NOT_NAMES.has(after.toLowerCase())) return after;
  const given = noun === 'user' ? /\bgive\s+([a-z_][a-z0-9_-]*)\s+an?\s+(?:user\s+|login\s+)?account\b/i.exec(scope)?.[1] : undefined;
  if (given) return given;
  const before = new RegExp(ACCOUNT_BEFORE.source.replace('user|account|group', noun === 'user' ? 'user|account' : 'group'), 'i').exec(
    scope,
  )?.[1];
  return before && !NOT_NAMES.has(before.toLowerCase()) && !/^(?:create|add|remove|delete|drop)$/i.test(before) ? before : undefined;
}

const REMOVES_ACCOUNT = /\b(?:remove[ds]?|delete[ds]?|drop|get\s+rid\s+of|absent|deprovision|purge)\b/;

export function parseAccountClause(clause: string, noun: 'user' | 'group'): ClauseResult {
  const lower = clause.toLowerCase();
  const template: TemplateId = REMOVES_ACCOUNT.test(lower) ? `${noun}-absent` : `${noun}-present`;
  const params: Record<string, string> = {};
  const name = accountOf(clause, noun);
  if (!name) return fail({ template }, `no ${noun} name was given`);
  const problem = take(params, noun, accountName(name, noun));
  if (problem) return fail({ template }, problem);
  if (noun === 'group' || template === 'user-absent') return one(template, params);
  const groupName = '[a-z_][a-z0-9_-]*';
  const groups = new RegExp(
    `\\b(?:to|in|into|member\\s+of)\\s+(?:the\\s+)?(?:groups?\\s+)?(${groupName}(?:(?:\\s*(?:,|\\band\\b|&)\\s*|\\s+)(?!(?:with|shell|as|using|and|groups?)\\b)${groupName})*)`,
    'i',
  ).exec(clause);
  if (groups) {
    const names = groups[1]!.split(/\s*(?:,|\band\b|&)\s*|\s+/i).filter((g) => g && !/^(?:groups?|the)$/i.test(g));
    for (const group of names) {
      const checked = accountName(group, 'group');
      if (!checked.ok) return fail({ template, ...params }, checked.reason);
    }
    if (names.length > 0) params.groups = names.join(',');
  }
  const shell = /\bshell\s+(?:to\s+|of\s+|as\s+)?(\S+)/i.exec(clause)?.[1];
  if (shell) {
    if (!SHELLS.has(shell))
      return fail({ template, ...params }, `"${clip(shell)}" is not a login shell the templates set (${[...SHELLS].join(', ')})`);
    params.shell = shell;
  }
  return one(template, params);
}

const EVERY: Record<string, string> = { day: 'daily', week: 'weekly', month: 'monthly', year: 'yearly' };

export function parseLogrotateClause(clause: string): ClauseResult {
  const lower = clause.toLowerCase();
  const params: Record<string, string> = {};
  const path = pathsIn(clause)[0];
  if (!path) return fail({ template: 'logrotate' }, 'no log file to rotate was given as an absolute path (such as /var/log/myapp/*.log)');
  const problem = take(params, 'path', absolutePath(path, { glob: true }));
  if (problem) return fail({ template: 'logrotate' }, problem);
  const every = /\bevery\s+(day|week|month|year)\b/.exec(lower)?.[1];
  params.frequency = /\b(daily|weekly|monthly|yearly)\b/.exec(lower)?.[1] ?? (every ? EVERY[every]! : 'daily');
  const keep =
    /\b(?:keep(?:ing)?|retain(?:ing)?|rotate|preserve|store)\s+(?:the\s+)?(?:last\s+)?(\d{1,4})\b/.exec(lower)?.[1] ??
    /\b(\d{1,4})\s+(?:rotations?|copies|files|days|weeks|months|old\s+(?:logs|files|copies)|backups|generations|archives)\b/.exec(
      lower,
    )?.[1];
  params.rotate = keep ?? '7';
  if (Number(params.rotate) < 1 || Number(params.rotate) > 1000)
    return fail({ template: 'logrotate', ...params }, 'the rotation count must be between 1 and 1000');
  params.compress = /\b(?:without\s+compress(?:ion|ing)?|uncompressed|no\s+compression|(?:do\s*n[o']t|not)\s+compress)\b/.test(lower)
    ? 'false'
    : 'true';
  const size = /\b(?:size|maxsize|reaches|exceeds|over|larger\s+than|bigger\s+than|above)\s+(\d{1,6})\s*([kmg])(?:i?b)?\b/.exec(lower);
  if (size) params.size = `${size[1]}${size[2]!.toUpperCase()}`;
  return one('logrotate', params);
}

export function parseSysctlClause(clause: string, quotes: readonly string[]): ClauseResult {
  const lower = clause.toLowerCase();
  const m =
    /\b((?:net|vm|fs|kernel|[a-z0-9_]+)(?:\.[a-z0-9_-]+)+)\s*(?:=|:|\bto\b|\bas\b|\bat\b|\bvalue\b|\s)\s*(?:value\s+)?(\u27e6\d+\u27e7|-?[a-z0-9_-]+)/.exec(
      lower,
    );
  const key = m?.[1] ?? /\b((?:net|vm|fs|kernel)(?:\.[a-z0-9_-]+)+)/.exec(lower)?.[1];
  if (!key) return fail({ template: 'sysctl' }, 'no sysctl key was given (such as net.core.somaxconn)');
  const params: Record<string, string> = {};
  const problem = take(params, 'key', sysctlKey(key));
  if (problem) return fail({ template: 'sysctl' }, problem);
  if (!m?.[2]) return fail({ template: 'sysctl', ...params }, `no value to set ${params.key} to was given`);
  const valueProblem = take(params, 'value', sysctlValue(unquote(m[2], quotes).trim()));
  return valueProblem ? fail({ template: 'sysctl', ...params }, valueProblem) : one('sysctl', params);
}

const NAMED_PORTS: Record<string, [number, 'tcp' | 'udp']> = {
  http: [80, 'tcp'],
  https: [443, 'tcp'],
  ssh: [22, 'tcp'],
  dns: [53, 'udp'],
  smtp: [25, 'tcp'],
  mysql: [3306, 'tcp'],
  postgres: [5432, 'tcp'],
  postgresql: [5432, 'tcp'],
  redis: [6379, 'tcp'],
};

export function parseFirewallClause(clause: string, defaultFirewall: FirewallKind): ClauseResult {
  const lower = clause.toLowerCase();
  const firewall: FirewallKind = /\bfirewalld\b|\bfirewall-cmd\b/.test(lower)
    ? 'firewalld'
    : /\bufw\b/.test(lower)
      ? 'ufw'
      : defaultFirewall;
  if (/\b(?:close|block|deny|reject|forbid|drop|remove)\b/.test(lower))
    return fail({ template: 'firewall-port', firewall }, 'the templates open ports; they do not close or block them');
  const protocol = /\budp\b/.test(lower) ? 'udp' : 'tcp';
  const ports: [string, string][] = [];
  for (const m of lower.matchAll(/(?<![\w.])(\d{1,6})(?:\/(tcp|udp))?(?![\w.])/g)) ports.push([m[1]!, m[2] ?? protocol]);
  if (ports.length === 0 && /\bweb\s+traffic\b/.test(lower)) ports.push(['80', 'tcp'], ['443', 'tcp']);
  if (ports.length === 0)
    for (const [name, [number, proto]] of Object.entries(NAMED_PORTS))
      if (new RegExp(`\\b${name}\\b`).test(lower.replace(/\bfirewalld?\b|\bufw\b/g, ''))) ports.push([String(number), proto]);
  if (ports.length === 0) return fail({ template: 'firewall-port', firewall }, 'no port to open was given (such as 443/tcp)');
  const intents: TemplateIntent[] = [];
  for (const [value, proto] of ports) {
    const checked = port(value);
    if (!checked.ok) return fail({ template: 'firewall-port', firewall }, checked.reason);
    intents.push({ template: 'firewall-port', params: { port: String(checked.value), protocol: proto, firewall } });
  }
  return { ok: true, intents };
}
