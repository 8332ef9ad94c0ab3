import type { ProvisionConventions } from './conventions.js';
import type { ProvisionRequirements } from './types.js';

// A DNS record's parts: its type, its name, the zone it lives in, its value and TTL. The value is
// never guessed: an A record without an IPv4 address, a CNAME without a host name, a TXT record
// without quoted text are refused.

type Problem = { field: string; reason: string };
type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

const HOST = String.raw`(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?\.)+[a-z]{2,63}`;
const HOST_TOKEN = new RegExp(String.raw`(?<![\w@.\-\uE000])(${HOST})\.?(?![\w-]|\.\w)`, 'g');
const IPV4 = String.raw`(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}`;
const IPV6 = String.raw`[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}`;
const PLACEHOLDER = String.raw`\uE000q\d+\uE000`;
const VALUE = `(${PLACEHOLDER}|${IPV4}|${IPV6}|${HOST})`;
const VALUE_LEAD = String.raw`(?:point(?:s|ing)?|resolv(?:es|ing|e)|alias(?:ed|ing)?|rout(?:es|ing|e)|target(?:s|ing)?|mapp(?:ed|ing)|map|forward(?:s|ing)?)\s+(?:it\s+)?(?:to|at|for)\s+|->\s*|=>\s*|\bvalue\s*(?:of|=|:)?\s*|\bwith\s+(?:the\s+)?(?:value|content|text)\s*(?:of)?\s*|\bcontaining\s+|\bto\s+|\bat\s+`;
const LABEL_STOP = new Set([
  'pointing',
  'points',
  'to',
  'for',
  'in',
  'on',
  'with',
  'that',
  'which',
  'resolving',
  'record',
  'named',
  'called',
]);

export function parseDnsRecord(
  original: string,
  plain: string,
  quoted: string[],
  conventions: ProvisionConventions,
): { options: ProvisionRequirements['options']; slug: string | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const lower = plain.toLowerCase();
  const options: ProvisionRequirements['options'] = {};

  const stated = new Set<RecordType>();
  if (/\bcname\b/i.test(original)) stated.add('CNAME');
  if (/\btxt\b/i.test(original)) stated.add('TXT');
  if (/\baaaa\b/i.test(original)) stated.add('AAAA');
  if (/\bA[- ]record\b|\ban\s+a\s+record\b|\btype\s+a\b|\ba-record\b/i.test(original.replace(/\baaaa\b/gi, ''))) stated.add('A');
  if (stated.size > 1) problems.push({ field: 'recordType', reason: `more than one record type is named (${[...stated].join(', ')})` });

  const valueMatch = new RegExp(`(?:${VALUE_LEAD})${VALUE}(?![\\w-]|\\.\\w)`, 'i').exec(lower);
  let value = valueMatch?.[1] ?? null;
  if (value && new RegExp(`^${PLACEHOLDER}$`).test(value)) value = quoted[Number(value.replace(/\D/g, ''))] ?? null;
  const valueIsText = Boolean(valueMatch?.[1]?.startsWith('\uE000'));

  const zoneMatch = new RegExp(
    String.raw`\b(?:in|on|under|within)\s+(?:the\s+)?(?:hosted\s+)?(?:zone|domain)\s+(${HOST})|\b(?:in|on|under|within)\s+(?:the\s+)?(${HOST})\s+(?:hosted\s+)?(?:zone|domain)\b|\bzone\s*[:=]\s*(${HOST})`,
  ).exec(lower);
  let zone = zoneMatch?.[1] ?? zoneMatch?.[2] ?? zoneMatch?.[3] ?? null;

  const hosts = [...lower.matchAll(HOST_TOKEN)].map((m) => m[1] ?? '').filter((h) => h && h !== value && h !== zone);
  let recordName: string | null = null;
  const labelled = new RegExp(
    String.raw`\b(?:record|cname|entry)\s+(?:for\s+|named\s+|called\s+|of\s+)?(${HOST}|[a-z0-9_][a-z0-9_-]*)(?![\w.-])`,
  ).exec(lower);
  const label = labelled?.[1];
  // A bare word after "record" is the record's label only when a zone says where it lives.
  if (label && !LABEL_STOP.has(label) && label !== value && (label.includes('.') || zone || hosts.length === 0)) recordName = label;
  else if (/\b(?:apex|root|naked)\b/.test(lower) && zone) recordName = zone;
  if (recordName === null || !recordName.includes('.')) {
    const host = hosts.find((h) => h !== recordName);
    if (recordName === null && host) recordName = host;
    else if (recordName !== null && zone) recordName = `${recordName}.${zone}`;
    else if (recordName !== null && host && !zone) {
      zone = host;
      recordName = `${recordName}.${host}`;
    }
  }
  if (recordName === null || !recordName.includes('.'))
    problems.push({
      field: 'recordName',
      reason: 'no record name: say which name the record is for (api.example.com, or "api in zone example.com")',
    });
  else if (zone && recordName !== zone && !recordName.endsWith(`.${zone}`))
    problems.push({ field: 'zone', reason: `${recordName} is not in the zone ${zone}` });
  if (recordName && !zone) {
    const labels = recordName.split('.');
    zone = labels.length > 2 ? labels.slice(1).join('.') : recordName;
  }

  let recordType: RecordType | null = [...stated][0] ?? null;
  if (stated.size <= 1 && value) {
    const inferred: RecordType = valueIsText
      ? 'TXT'
      : new RegExp(`^${IPV4}$`).test(value)
        ? 'A'
        : new RegExp(`^${IPV6}$`).test(value)
          ? 'AAAA'
          : 'CNAME';
    recordType ??= inferred;
    const fits =
      recordType === 'TXT' ||
      (recordType === 'A' && inferred === 'A') ||
      (recordType === 'AAAA' && inferred === 'AAAA') ||
      (recordType === 'CNAME' && inferred === 'CNAME');
    if (!fits) {
      const wanted = { A: 'an IPv4 address', AAAA: 'an IPv6 address', CNAME: 'a host name', TXT: 'quoted text' }[recordType];
      problems.push({ field: 'recordValue', reason: `a ${recordType} record needs ${wanted}, not ${value}` });
    }
  }
  if (!value) problems.push({ field: 'recordValue', reason: 'no record value: say what the record points to ("pointing to 10.0.0.5")' });
  else if (!recordType) problems.push({ field: 'recordType', reason: 'no record type: say A, AAAA, CNAME or TXT' });
  if (recordType && !conventions.dns.recordTypes.includes(recordType))
    problems.push({ field: 'recordType', reason: `${recordType} records are not allowed by the conventions` });
  if (recordType === 'CNAME' && recordName && recordName === zone)
    problems.push({ field: 'recordName', reason: 'a CNAME cannot be at the zone apex' });

  const ttl =
    /\bttl\s*(?:of|=|:)?\s*(\d+)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b/.exec(lower) ??
    /\b(\d+)[- ]?(seconds?|minutes?|hours?|s|m|h)\s+ttl\b/.exec(lower);
  if (ttl?.[1]) {
    const unit = ttl[2] ?? 's';
    const seconds = Number(ttl[1]) * (unit.startsWith('h') ? 3600 : unit.startsWith('m') ? 60 : 1);
    if (seconds < 1 || seconds > 604_800)
      problems.push({ field: 'ttl', reason: `a TTL of ${seconds} seconds is out of range (1 s to 7 days)` });
    else options.ttl = seconds;
  }

  if (recordType) options.recordType = recordType;
  if (recordName) options.recordName = recordName;
  if (zone) options.zone = zone;
  if (value) options.recordValue = value;
  const slug =
    recordName && recordType ? `${recordName.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}-${recordType.toLowerCase()}` : null;
  return { options, slug, problems };
}
