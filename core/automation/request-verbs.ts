import type { TemplateId } from './template-ids.js';

// Which kind of change a clause asks for, and its verb. Patterns run on the lowercased clause, in
// order: the more specific kinds (sysctl, log rotation, firewall, file, user, group) before
// services and packages, whose verbs are common words.

export type ClauseKind = 'sysctl' | 'logrotate' | 'firewall' | 'file' | 'user' | 'group' | 'service' | 'package';

export interface VerbMatch {
  template: TemplateId;
  /** The verb phrase's span in the clause, removed before the object is read. */
  start: number;
  end: number;
}

/** Absolute paths in a clause, except a user's shell or home. */
export const PATH_IN_TEXT = /(?<![\w/.~-])\/[^\s,;'"()]*/g;
const SHELL_OR_HOME_PATH = /\b(?:shell|home(?:\s+dir(?:ectory)?)?)\s+(?:to\s+|of\s+|at\s+|as\s+)?$/;

export function pathsIn(clause: string): string[] {
  const paths: string[] = [];
  for (const m of clause.matchAll(PATH_IN_TEXT)) {
    if (SHELL_OR_HOME_PATH.test(clause.slice(0, m.index))) continue;
    paths.push(m[0].replace(/[.:!?]+$/, ''));
  }
  return paths;
}

const SYSCTL = /\bsysctl\b|\bkernel\s+param(?:eter)?s?\b|\b(?:net|vm|fs|kernel)\.[a-z0-9_-]+/;
const LOGROTATE = /\blog\s*rotat|\blogrotate\b|\brotat(?:e|es|ed|ion|ing)\b/;
const FIREWALL =
  /\bfirewall[ds]?\b|\bweb\s+traffic\b|\bufw\b|\b(?:open|allow|permit|unblock|expose|accept|close|block|deny)\b[^.]*\bports?\b|\bports?\s+\d|\b\d{1,5}\/(?:tcp|udp)\b|\b(?:open|allow|permit)\s+(?:incoming\s+|inbound\s+)?(?:tcp|udp|http|https|ssh|dns|smtp)\b/;
const FILE_WORD = /\b(?:file|files|content|contents|containing|template|templated|render(?:ed)?|config(?:uration)? file)\b/;
const FILE_VERB = /\b(?:deploy|write|create|put|place|copy|drop|push|install|add|ensure|set|delete|remove|rm|erase|get rid of)\b/;
const USER = /\b(?:user|users|account|accounts|login)\b/;
const GROUP = /\bgroups?\b/;

export function clauseKind(lower: string, hasQuote: boolean): ClauseKind | null {
  if (SYSCTL.test(lower)) return 'sysctl';
  if (LOGROTATE.test(lower)) return 'logrotate';
  if (FIREWALL.test(lower)) return 'firewall';
  const paths = pathsIn(lower);
  if (/\btemplate\b/.test(lower) || (paths.length > 0 && (hasQuote || FILE_WORD.test(lower) || FILE_VERB.test(lower)))) return 'file';
  if (hasQuote && FILE_WORD.test(lower)) return 'file';
  if (USER.test(lower)) return 'user';
  if (GROUP.test(lower)) return 'group';
  if (serviceVerb(lower)) return 'service';
  if (packageVerb(lower)) return 'package';
  return null;
}

const SERVICE_VERBS: readonly [RegExp, TemplateId][] = [
  [
    /\b(?:disable[sd]?|(?:does\s*n[o']t|do\s*n[o']t|not|never|no longer)\s+(?:be\s+)?(?:start(?:ed|s)?|run|come up|launch(?:ed)?)\s+(?:automatically\s+)?(?:at|on|after)\s+(?:boot|startup|reboot))\b/,
    'service-disabled',
  ],
  [
    /\b(?:enable[sd]?|(?:start(?:s|ed)?|run(?:s|ning)?|come(?:s)? up|launch(?:ed|es)?|is started)\s+(?:automatically\s+)?(?:at|on|after)\s+(?:a\s+)?(?:boot|startup|reboot)|(?:at|on)\s+boot|autostart|start(?:s)?\s+automatically|survives?\s+(?:a\s+)?reboots?)\b/,
    'service-enabled',
  ],
  [
    /\b(?:not\s+(?:be\s+)?running|stop(?:ped|s)?|shut\s*(?:s\s*)?down|halt(?:ed|s)?|kill(?:ed|s)?|turn(?:ed)?\s+off|bring\s+down|take\s+down)\b/,
    'service-stopped',
  ],
  [/\b(?:re-?start(?:ed|s|ing)?|bounce[ds]?|cycle|kick)\b/, 'service-restarted'],
  [/\b(?:reload(?:ed|s|ing)?|re-?read\s+(?:its\s+)?config(?:uration)?)\b/, 'service-reloaded'],
  [
    /\b(?:start(?:ed|s)?|runs?|running|(?:is|be|stays?)\s+up|up\s+and\s+running|keep\s+\S+\s+(?:up|alive)|launch(?:ed)?|bring\s+up|turn(?:ed)?\s+on|is\s+active|alive)\b/,
    'service-running',
  ],
];

export function serviceVerb(lower: string): VerbMatch | null {
  return firstMatch(lower, SERVICE_VERBS);
}

const PACKAGE_VERBS: readonly [RegExp, TemplateId][] = [
  [
    /\b(?:uninstall(?:ed|s)?|remove[ds]?|purge[ds]?|delete[ds]?|erase[ds]?|get\s+rid\s+of|not\s+(?:be\s+)?installed|absent|drop|(?:no\s+longer|do\s*n[o']t|does\s*n[o']t)\s+need(?:ed)?|take\s+\S+\s+off)\b/,
    'package-absent',
  ],
  [/\b(?:upgrade[ds]?|update[ds]?|latest|newest|up\s+to\s+date|up-to-date)\b/, 'package-latest'],
  [/\b(?:install(?:ed|s)?|add(?:ed|s)?|present|set\s*up|provision(?:ed)?|get|deploy(?:ed)?)\b/, 'package-present'],
];

export function packageVerb(lower: string): VerbMatch | null {
  return firstMatch(lower, PACKAGE_VERBS);
}

function firstMatch(lower: string, rules: readonly [RegExp, TemplateId][]): VerbMatch | null {
  for (const [rule, template] of rules) {
    const m = rule.exec(lower);
    if (m) return { template, start: m.index, end: m.index + m[0].length };
  }
  return null;
}

/** Words that carry no name: what is left of a package or service clause after them is the object. */
export const FILLER = new Set(
  (
    "a an the please pls kindly ensure ensuring that it its it's is are be being been get gets got to of for me us now right away " +
    'immediately package packages pkg service services daemon daemons software program programs application tool utility utilities ' +
    'and also then too as well keep kept always should must will would can could have has all every each both them they those ' +
    'these this via using use with apt apt-get yum dnf system systemd systemctl currently still again new ' +
    'mode state properly correctly fully automatically do does just need needs want we i you our my from onto on up running ' +
    'afterwards after so installed here there host hosts server servers machine machines node nodes target targets unit units web client'
  ).split(' '),
);

/** Where a package or service clause stops naming things: "nginx for the web team", "nginx so that …". */
export const OBJECT_END = /\b(?:for|because|since|so\s+that|so|which|who|unless|until|before|while|as\s+a|as\s+the|in\s+order)\b[\s\S]*$/i;

/** Pronouns that name the previous clause's object. */
export const PRONOUN = /\b(?:it|them|its|they|the\s+same|those|these|this|that)\b/;
