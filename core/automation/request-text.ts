import type { AutomationHost } from '../automation.js';

// The request's text, prepared for the clause parser: quoted strings set aside (file content keeps
// its commas and case), host mentions checked against the targets and removed, and the text split
// into clauses at `and`, `then`, commas and semicolons.

/** Placeholder for the n-th quoted string; the brackets never occur in a plain request. */
export const quoteMark = (n: number) => `\u27e6${n}\u27e7`;
export const QUOTE_MARK = /\u27e6(\d+)\u27e7/g;
export const HAS_QUOTE = /\u27e6\d+\u27e7/;

export interface PreparedRequest {
  text: string;
  quotes: string[];
  /** Host names the request mentioned that are targets (removed from the text). */
  mentionedTargets: string[];
  /** Host-like names the request mentioned that are not targets: the request is refused. */
  unknownHosts: string[];
}

/** Quoted strings; the single-quote form needs a word boundary so apostrophes (don't) stay text. */
const QUOTED: readonly [RegExp, boolean][] = [
  [/"([^"]*)"/g, false],
  [/\u201c([^\u201d]*)\u201d/g, false],
  [/`([^`]*)`/g, false],
  [/(^|[\s:=(])'([^'\n]*)'(?=$|[\s,.;:)!?])/g, true],
  [/\u2018([^\u2019]*)\u2019/g, false],
];

const HOST_NOUN = '(?:hosts?|servers?|machines?|nodes?|boxes|box|vms?|instances?|targets?)';
const GENERIC_TARGETS = new RegExp(
  `\\b(?:on|across|to|for|in)\\s+(?:all|every|each|both|the|these|those|my|our|selected)?\\s*(?:of\\s+the\\s+)?(?:target(?:ed)?\\s+|selected\\s+|given\\s+|web\\s+)?${HOST_NOUN}\\b|\\beverywhere\\b`,
  'gi',
);
const NAME = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const HOST_LIST = new RegExp(`\\b(?:on|across|to)\\s+(?:the\\s+)?(${HOST_NOUN}\\s+)?(${NAME}(?:\\s*(?:,|\\band\\b|&)\\s*${NAME})*)`, 'gi');
/** Looks like a host name rather than a word: `web-01`, `db1`, `app.example.com`. */
const HOST_LIKE = /^(?:[A-Za-z][A-Za-z0-9_-]*\d[A-Za-z0-9_.-]*|[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)$/;
/** Words after "on" that are never hosts. */
const NOT_HOSTS = new Set(['boot', 'startup', 'reboot', 'port', 'ports', 'it', 'them', 'the', 'a', 'an', 'all', 'every', 'each']);

export function prepareRequest(request: string, hosts: readonly AutomationHost[]): PreparedRequest {
  const quotes: string[] = [];
  let text = request.replace(/\r\n?/g, '\n');
  for (const [pattern, lead] of QUOTED) {
    text = text.replace(pattern, (_whole, first: string, second: string) => {
      quotes.push(lead ? second : first);
      return `${lead ? first : ''}${quoteMark(quotes.length - 1)}`;
    });
  }
  const known = new Map<string, string>();
  for (const host of hosts) {
    known.set(host.tagId.toLowerCase(), host.tagId);
    known.set(host.hostname.toLowerCase(), host.tagId);
  }
  const mentionedTargets: string[] = [];
  const unknownHosts: string[] = [];
  text = text.replace(GENERIC_TARGETS, ' ');
  text = text.replace(HOST_LIST, (whole, noun: string | undefined, list: string) => {
    const names = list.split(/\s*(?:,|\band\b|&)\s*/i).filter(Boolean);
    const first = names[0]!.toLowerCase();
    if (NOT_HOSTS.has(first)) return whole;
    const isHostMention = noun !== undefined || names.every((n) => known.has(n.toLowerCase()) || HOST_LIKE.test(n));
    if (!isHostMention) return whole;
    // Only the leading run of host names is a host list: "on web-01 and restart it" keeps "restart it".
    const taken: string[] = [];
    for (const name of names) {
      const target = known.get(name.toLowerCase());
      if (target) mentionedTargets.push(target);
      else if (noun !== undefined || HOST_LIKE.test(name)) unknownHosts.push(name);
      else break;
      taken.push(name);
    }
    const rest = list.slice(list.indexOf(taken.at(-1)!) + taken.at(-1)!.length);
    return ` ${rest}`;
  });
  return { text: text.replace(/[ \t]+/g, ' ').trim(), quotes, mentionedTargets, unknownHosts };
}

/** Splits at sentence-level joins; quoted strings are already placeholders, so their commas stay. */
export function splitClauses(text: string): string[] {
  return text
    .split(/\s*(?:[,;\n]+|\.\s+|\s&\s|\s\+\s|\b(?:and then|and also|and|then|also|plus|as well as|after that|afterwards)\b)\s*/i)
    .map((c) => c.replace(/^[\s.,;]+|[\s.,;!?]+$/g, '').trim())
    .filter((c) => c.length > 0);
}

/** Restores quoted strings in a value (a path or a name the user quoted). */
export const unquote = (value: string, quotes: readonly string[]) => value.replace(QUOTE_MARK, (_m, n: string) => quotes[Number(n)] ?? '');
