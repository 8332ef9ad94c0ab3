import { DEFAULT_PROVISION_CONVENTIONS, type ProvisionConventions } from './conventions.js';
import { parseDnsRecord } from './grammar-dns.js';
import { readOptions } from './grammar-options.js';
import {
  allWords,
  ENVIRONMENT_WORDS,
  INSTANCE_CLASS,
  NOT_A_NAME,
  REGION_ID,
  REGION_PLACES,
  RESOURCE_WORDS,
  SERVICE_NOUNS,
  SIZE_WORDS,
  UNSUPPORTED_WORDS,
  type ResourceWord,
} from './grammar-words.js';
import type { ProvisionEnvironment, ProvisionParseOutcome, ProvisionRequirements, ProvisionResourceType, ProvisionSize } from './types.js';

// A natural-language request for one resource into its requirements, without an LLM. Each part of the
// requirements is read on its own (resource type, environment, size, names, region, tags, options);
// a part the request leaves out is filled from the conventions when they have a safe default, and is
// reported missing when they do not. Anything ambiguous (two resource types, two environments, an
// unknown region, a DNS record without a target) is refused with what is missing: never a guess.

const MAX_REQUEST = 2000;
const NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
export const NAME_SUFFIX: Record<ProvisionResourceType, string> = {
  postgres_database: 'db',
  mysql_database: 'db',
  s3_bucket: 'bucket',
  sqs_queue: 'queue',
  redis_cache: 'cache',
  eks_cluster: 'cluster',
  dns_record: 'record',
};
const TAG_PAIR = /(?<![\w.-])([a-z][a-z0-9_.:/-]{0,62})=("[^"]*"|[^\s,;]+)/gi;
const TOKEN = '[a-z][a-z0-9_-]*';
/** What AWS accepts in a tag value. */
const AWS_TAG_VALUE = /^[\p{L}\p{N}\s_.:/=+@-]{1,256}$/u;

export interface ProvisionParseDefaults {
  environment?: ProvisionEnvironment;
  requester?: string | null;
}

type Options = ProvisionRequirements['options'];
type Problem = { field: string; reason: string };

export function parseProvisionRequest(
  text: string,
  defaults: ProvisionParseDefaults = {},
  conventions: ProvisionConventions = DEFAULT_PROVISION_CONVENTIONS,
): ProvisionParseOutcome {
  if (text.length > MAX_REQUEST) return refuse([{ field: 'request', reason: `the request is longer than ${MAX_REQUEST} characters` }]);
  const original = text
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .trim();
  // Quoted text is a value (a TXT record, a name), never a keyword.
  const quoted: string[] = [];
  const source = original.replace(/"([^"]*)"/g, (_whole, inner: string) => {
    quoted.push(inner);
    return ` \uE000q${quoted.length - 1}\uE000 `;
  });
  const tagged = readTags(source);
  const plain = tagged.rest;
  const lower = plain.toLowerCase();
  const problems: Problem[] = [];

  const resourceType = readResourceType(plain, conventions, problems);
  const environment = readEnvironment(lower, defaults.environment, problems);
  const size = resourceType ? readSize(lower, resourceType, conventions, problems) : conventions.sizes.default;
  const region = readRegion(lower, conventions, problems);
  const team = tagged.team ?? readTeam(lower);
  // A DNS request's "for api.example.com" names the record, not a service.
  const service = tagged.service ?? readService(lower, resourceType !== 'dns_record');
  const explicitName = readName(plain, quoted);

  let options: Options = {};
  let recordSlug: string | null = null;
  if (resourceType === 'dns_record') {
    const dns = parseDnsRecord(original, plain, quoted, conventions);
    problems.push(...dns.problems);
    options = dns.options;
    recordSlug = dns.slug;
  } else if (resourceType) options = readOptions(resourceType, lower, conventions, problems);

  let name = explicitName;
  if (name === null && resourceType) {
    name = resourceType === 'dns_record' ? recordSlug : service ? `${service}-${NAME_SUFFIX[resourceType]}` : null;
    if (name === null && resourceType !== 'dns_record')
      problems.push({ field: 'name', reason: 'no name: say "named <name>" or what it is for ("for the payments API")' });
  }
  if (name !== null && !NAME.test(name)) {
    problems.push({ field: 'name', reason: `"${name}" is not a usable name (lowercase letters, digits and hyphens, 2–50 characters)` });
    name = null;
  }

  const tags = { ...tagged.tags };
  for (const [key, value] of Object.entries(tags))
    if (!AWS_TAG_VALUE.test(value))
      problems.push({ field: `tags.${key}`, reason: `the value of tag ${key} may hold letters, digits, spaces and + - = . _ : / @ only` });
  if (defaults.requester && conventions.tags.required.includes('requested-by') && !tags['requested-by'])
    tags['requested-by'] = defaults.requester;
  for (const key of conventions.tags.required) {
    if (key === 'team' && !team && conventions.tags.defaultTeam === null)
      problems.push({ field: 'team', reason: 'no owning team: say "owned by the <team> team"' });
    if (['team', 'service', 'environment', 'managed-by', 'name'].includes(key)) continue;
    if (!tags[key] && !conventions.tags.values[key])
      problems.push({ field: `tags.${key}`, reason: `the tag ${key} is required: add "tagged ${key}=<value>"` });
  }

  if (problems.length > 0 || !resourceType || !environment || !name) return refuse(problems);
  return {
    ok: true,
    parser: 'grammar',
    requirements: { resourceType, name, environment, size, team, service, region, tags, options },
  };
}

function refuse(problems: Problem[]): ProvisionParseOutcome {
  const missing = [...new Set(problems.map((p) => p.field))];
  return { ok: false, missing, message: `The request cannot be provisioned as stated: ${problems.map((p) => p.reason).join('; ')}.` };
}

function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `tagged k=v` pairs anywhere; `team=` and `service=` set those fields. The pairs are removed from the text. */
function readTags(text: string): { rest: string; tags: Record<string, string>; team: string | null; service: string | null } {
  const tags: Record<string, string> = {};
  let team: string | null = null;
  let service: string | null = null;
  const rest = text.replace(TAG_PAIR, (_whole, rawKey: string, rawValue: string) => {
    const key = rawKey.toLowerCase();
    const value = rawValue.replace(/^"|"$/g, '').replace(/[.]$/, '');
    if (key === 'team') team = slug(value);
    else if (key === 'service') service = slug(value);
    else tags[key] = value;
    return ' ';
  });
  return { rest: rest.replace(/\b(?:tagged|tags?)(?:\s+with)?(?:\s*(?:and|,))*\s*(?=[,.;]|$)/gi, ' '), tags, team, service };
}

function readResourceType(text: string, conventions: ProvisionConventions, problems: Problem[]): ProvisionResourceType | null {
  const unsupported = UNSUPPORTED_WORDS.filter((u) => u.pattern.test(text)).map((u) => u.label);
  if (unsupported.length > 0) {
    problems.push({
      field: 'resourceType',
      reason: `${unsupported.join(' and ')} ${unsupported.length > 1 ? 'are' : 'is'} not a resource type InfraAI provisions`,
    });
    return null;
  }
  const kinds = new Set<ResourceWord>(RESOURCE_WORDS.filter((w) => w.pattern.test(text)).map((w) => w.kind));
  // "A record for the cache" names a record; a "record" next to anything else is not a DNS request.
  if (kinds.has('dns') && kinds.size > 1 && !/\b(?:dns|route ?53|cname|txt|aaaa|A)\b/.test(text)) kinds.delete('dns');
  const types = new Set<ProvisionResourceType>();
  if (kinds.has('postgres') && kinds.has('mysql')) {
    problems.push({ field: 'resourceType', reason: 'both PostgreSQL and MySQL are named: ask for one database engine' });
    return null;
  }
  if (kinds.has('postgres')) types.add('postgres_database');
  else if (kinds.has('mysql')) types.add('mysql_database');
  else if (kinds.has('database')) types.add(conventions.defaultDatabaseEngine === 'mysql' ? 'mysql_database' : 'postgres_database');
  if (kinds.has('s3')) types.add('s3_bucket');
  if (kinds.has('sqs')) types.add('sqs_queue');
  if (kinds.has('redis')) types.add('redis_cache');
  if (kinds.has('eks')) types.add('eks_cluster');
  if (kinds.has('dns')) types.add('dns_record');
  if (types.size === 1) return [...types][0] ?? null;
  problems.push({
    field: 'resourceType',
    reason:
      types.size === 0
        ? 'no resource type: ask for a database (PostgreSQL, MySQL), an S3 bucket, an SQS queue, a Redis cache, an EKS cluster or a DNS record'
        : `one resource per request, and this one names ${[...types].join(', ')}`,
  });
  return null;
}

function readEnvironment(lower: string, fallback: ProvisionEnvironment | undefined, problems: Problem[]): ProvisionEnvironment | null {
  const found = new Set(ENVIRONMENT_WORDS.filter((e) => allWords(lower, e.pattern).length > 0).map((e) => e.environment));
  if (found.size === 1) return [...found][0] ?? null;
  if (found.size > 1) {
    problems.push({ field: 'environment', reason: `more than one environment is named (${[...found].join(', ')})` });
    return null;
  }
  if (fallback) return fallback;
  problems.push({ field: 'environment', reason: 'no environment: say dev, staging or production' });
  return null;
}

function readSize(
  lower: string,
  resourceType: ProvisionResourceType,
  conventions: ProvisionConventions,
  problems: Problem[],
): ProvisionSize {
  const found = new Set(SIZE_WORDS.filter((s) => allWords(lower, s.pattern).length > 0).map((s) => s.size));
  const stated = INSTANCE_CLASS.exec(lower)?.[1];
  if (stated) {
    const classes = (conventions.sizes.classes as Partial<Record<ProvisionResourceType, Record<ProvisionSize, string>>>)[resourceType];
    const size = classes ? (Object.keys(classes) as ProvisionSize[]).find((s) => classes[s] === stated) : undefined;
    if (!size) {
      const known = classes ? Object.values(classes).join(', ') : 'none for this resource type';
      problems.push({ field: 'size', reason: `${stated} is not one of the conventions' sizes (${known})` });
      return conventions.sizes.default;
    }
    found.add(size);
  }
  if (found.size > 1) {
    problems.push({ field: 'size', reason: `more than one size is named (${[...found].join(', ')})` });
    return conventions.sizes.default;
  }
  return [...found][0] ?? conventions.sizes.default;
}

function readRegion(lower: string, conventions: ProvisionConventions, problems: Problem[]): string {
  const found = new Set<string>();
  for (const match of lower.matchAll(new RegExp(REGION_ID.source, 'gi'))) found.add((match[1] ?? '').toLowerCase());
  for (const [place, region] of Object.entries(REGION_PLACES)) if (new RegExp(`\\b${place}\\b`).test(lower)) found.add(region);
  // "in the atlantis region", "region mars-1": a region that is none of the above.
  const named = /\b(?:in\s+(?:the\s+)?([a-z][a-z0-9-]*)\s+region|region\s*[:=]?\s*([a-z][a-z0-9-]*))\b/.exec(lower);
  const word = named?.[1] ?? named?.[2];
  if (word && !REGION_ID.test(word) && !Object.keys(REGION_PLACES).some((place) => place.split(' ').includes(word)) && found.size === 0) {
    problems.push({
      field: 'region',
      reason: `"${word}" is not a region InfraAI knows: use an AWS region id such as ${conventions.defaultRegion}`,
    });
    return conventions.defaultRegion;
  }
  if (found.size > 1) {
    problems.push({ field: 'region', reason: `more than one region is named (${[...found].join(', ')})` });
    return conventions.defaultRegion;
  }
  const region = [...found][0];
  if (region && !conventions.allowedRegions.includes(region)) {
    problems.push({ field: 'region', reason: `${region} is not an allowed region (${conventions.allowedRegions.join(', ')})` });
    return conventions.defaultRegion;
  }
  return region ?? conventions.defaultRegion;
}

function usable(word: string | undefined): string | null {
  if (!word) return null;
  const value = slug(word);
  return value && !NOT_A_NAME.has(value) && NAME.test(value) ? value : null;
}

function readTeam(lower: string): string | null {
  const patterns = [
    new RegExp(`\\bowned\\s+by\\s+(?:the\\s+)?(?:team\\s+)?(${TOKEN})(?:\\s+team)?\\b`),
    new RegExp(`\\bbelong(?:s|ing)?\\s+to\\s+(?:the\\s+)?(?:team\\s+)?(${TOKEN})(?:\\s+team)?\\b`),
    new RegExp(`\\b(?:the\\s+|our\\s+)?(${TOKEN})\\s+team\\b`),
    new RegExp(`\\b(?:team|owner)\\s*[:=]?\\s+(${TOKEN})\\b`),
  ];
  for (const pattern of patterns) {
    const team = usable(pattern.exec(lower)?.[1]);
    if (team) return team;
  }
  return null;
}

function readService(lower: string, bareFor: boolean): string | null {
  const noun = new RegExp(
    `\\b(?:for|of|serving|backing|behind)\\s+(?:the\\s+|our\\s+)?(${TOKEN}(?:\\s+${TOKEN})?)\\s+(?:${SERVICE_NOUNS})\\b`,
  ).exec(lower);
  if (noun?.[1]) {
    const parts = noun[1].split(/\s+/).filter((w) => !NOT_A_NAME.has(w));
    const value = usable(parts.join('-'));
    if (value) return value;
  }
  const explicit = usable(new RegExp(`\\bservice\\s*[:=]?\\s+(${TOKEN})\\b`).exec(lower)?.[1]);
  if (explicit) return explicit;
  if (!bareFor) return null;
  // "a bucket for invoices in prod", "for the data warehouse": one or two words after "for", ending the phrase.
  const environments = ENVIRONMENT_WORDS.map((e) => e.pattern).join('|');
  const isKeyword = (word: string) =>
    NOT_A_NAME.has(word) ||
    ENVIRONMENT_WORDS.some((e) => new RegExp(`^(?:${e.pattern})$`).test(word)) ||
    RESOURCE_WORDS.some((r) => r.pattern.test(word));
  for (const words of [TOKEN, `${TOKEN}\\s+${TOKEN}`]) {
    const bare = new RegExp(
      `\\bfor\\s+(?:the\\s+|our\\s+)?(${words})(?=\\s*(?:$|[,;:()]|[.?!](?:\\s|$)|\\s(?:in|on|at|with|and|using|owned|tagged|that|which|running|from|as|named|called|${environments})\\b))`,
    ).exec(lower);
    const phrase = bare?.[1]?.split(/\s+/) ?? [];
    if (phrase.length > 0 && !phrase.some(isKeyword)) return usable(phrase.join('-'));
  }
  return null;
}

function readName(text: string, quoted: string[]): string | null {
  const match =
    /\b(?:named|called|name(?:d)?\s*[:=]|with\s+(?:the\s+)?name|name\s+it)\s*(\uE000q(\d+)\uE000|[A-Za-z0-9][A-Za-z0-9._-]*)/i.exec(text);
  if (!match) {
    // "new EKS cluster 'analytics'": a single-quoted word is a name (an apostrophe is not a quote).
    const single = /(?<=^|\s)'([a-z][a-z0-9._-]*)'(?=$|[\s,.;:!?])/i.exec(text);
    return single?.[1] ? single[1].toLowerCase().replace(/[._]+/g, '-') : null;
  }
  const value = match[2] !== undefined ? (quoted[Number(match[2])] ?? '') : (match[1] ?? '');
  return value
    .toLowerCase()
    .replace(/[._\s]+/g, '-')
    .replace(/[.]$/, '');
}
