import type { ProvisionEnvironment, ProvisionSize } from './types.js';

// The grammar's vocabulary: which words name what. A word matches only as a whole token, so the
// "db" of `payments-db`, the "prod" of `env=prod` and the "staging" of `api.staging.example.com`
// are parts of names and values, never keywords.

const BEFORE = String.raw`(?<![\w.=/:@-])`;
const AFTER = String.raw`(?![\w=/@-]|:\S|[.-]\w)`;

/** A case-insensitive pattern that matches `alternatives` as whole tokens. */
export function words(alternatives: string, flags = 'i'): RegExp {
  return new RegExp(`${BEFORE}(?:${alternatives})${AFTER}`, flags);
}

/** Every whole-token match of `alternatives`, lowercased. */
export function allWords(text: string, alternatives: string): string[] {
  return [...text.matchAll(new RegExp(`${BEFORE}(?:${alternatives})${AFTER}`, 'gi'))].map((m) => m[0].toLowerCase());
}

export type ResourceWord = 'postgres' | 'mysql' | 'database' | 's3' | 'sqs' | 'redis' | 'eks' | 'dns';

/** Words naming a kind of resource; `database` alone takes the conventions' default engine. */
export const RESOURCE_WORDS: ReadonlyArray<{ kind: ResourceWord; pattern: RegExp }> = [
  { kind: 'postgres', pattern: words(String.raw`postgres(?:ql)?(?:\s*v?\d+(?:\.\d+)?)?|pg\d*|psql|aurora postgres`) },
  { kind: 'mysql', pattern: words(String.raw`mysql(?:\s*v?\d+(?:\.\d+)?)?`) },
  { kind: 'database', pattern: words(String.raw`databases?|dbs?|rds`) },
  { kind: 's3', pattern: words(String.raw`s3|buckets?|object[ -]stor(?:age|e)|blob storage`) },
  { kind: 'sqs', pattern: words(String.raw`sqs|queues?|fifo|message queue`) },
  { kind: 'redis', pattern: words(String.raw`redis|elasticache|valkey|cache|caches|caching layer`) },
  { kind: 'eks', pattern: words(String.raw`eks|kubernetes|k8s`) },
  { kind: 'dns', pattern: words(String.raw`dns|route ?53|cname|txt record|aaaa record|dns entry|record`) },
];

/** Kinds InfraAI has no template for: the request is refused naming the kind. */
export const UNSUPPORTED_WORDS: ReadonlyArray<{ label: string; pattern: RegExp }> = [
  { label: 'memcached', pattern: words('memcached?') },
  { label: 'MariaDB', pattern: words('mariadb') },
  { label: 'DynamoDB', pattern: words('dynamo(?:db)?') },
  { label: 'MongoDB', pattern: words('mongo(?:db)?|documentdb') },
  { label: 'Kafka', pattern: words('kafka|msk') },
  { label: 'SNS', pattern: words('sns') },
  { label: 'Lambda', pattern: words('lambda') },
  { label: 'EC2 instance', pattern: words('ec2|virtual machine|vm') },
];

export const ENVIRONMENT_WORDS: ReadonlyArray<{ environment: ProvisionEnvironment; pattern: string }> = [
  { environment: 'production', pattern: 'production(?:-grade|-ready)?|prod|prd|live' },
  { environment: 'staging', pattern: 'staging|stage|stg|pre-?prod(?:uction)?|uat' },
  { environment: 'dev', pattern: 'dev|development|develop|test|testing|qa|sandbox' },
];

export const SIZE_WORDS: ReadonlyArray<{ size: ProvisionSize; pattern: string }> = [
  { size: 'small', pattern: 'small|smallest|tiny|little|micro|minimal|small-sized|smallish' },
  { size: 'medium', pattern: 'medium|medium-sized|mid-sized|mid-size|midsize|moderate|moderately sized' },
  { size: 'large', pattern: 'large|largest|big|bigger|biggest|huge|xl|beefy|large-sized' },
];

/** Instance classes and node types stated outright (`db.r6g.large`, `cache.t4g.small`, `m6i.large`). */
export const INSTANCE_CLASS =
  /(?<![\w.-])((?:db|cache)\.[a-z0-9]+\.[a-z0-9]+|[a-z]\d[a-z]*\.(?:nano|micro|small|medium|large|\d*xlarge))(?![\w-])/i;

/** Places people say instead of region ids. */
export const REGION_PLACES: Readonly<Record<string, string>> = {
  frankfurt: 'eu-central-1',
  germany: 'eu-central-1',
  zurich: 'eu-central-2',
  ireland: 'eu-west-1',
  dublin: 'eu-west-1',
  london: 'eu-west-2',
  paris: 'eu-west-3',
  stockholm: 'eu-north-1',
  milan: 'eu-south-1',
  'northern virginia': 'us-east-1',
  'north virginia': 'us-east-1',
  virginia: 'us-east-1',
  ohio: 'us-east-2',
  'northern california': 'us-west-1',
  california: 'us-west-1',
  oregon: 'us-west-2',
  canada: 'ca-central-1',
  montreal: 'ca-central-1',
  'sao paulo': 'sa-east-1',
  'são paulo': 'sa-east-1',
  tokyo: 'ap-northeast-1',
  seoul: 'ap-northeast-2',
  singapore: 'ap-southeast-1',
  sydney: 'ap-southeast-2',
  mumbai: 'ap-south-1',
  'hong kong': 'ap-east-1',
  'cape town': 'af-south-1',
  bahrain: 'me-south-1',
  jakarta: 'ap-southeast-3',
  osaka: 'ap-northeast-3',
};

export const REGION_ID =
  /(?<![\w-])([a-z]{2}(?:-gov)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d)(?![\w-])/i;

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  twenty: 20,
};
export const NUMBER = String.raw`\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty`;

export function toNumber(text: string): number {
  return NUMBER_WORDS[text.toLowerCase()] ?? Number.parseInt(text, 10);
}

/** Words that are never a name, team or service. */
export const NOT_A_NAME = new Set([
  'a',
  'an',
  'the',
  'it',
  'this',
  'that',
  'our',
  'my',
  'new',
  'in',
  'on',
  'at',
  'for',
  'with',
  'and',
  'to',
  'of',
  'by',
  'team',
  'service',
  'api',
  'app',
  'me',
  'us',
  'use',
  'some',
  'one',
  'region',
  'zone',
  'env',
  'environment',
  'please',
]);

/** Nouns after which the preceding words name a service ("the payments API"). */
export const SERVICE_NOUNS =
  'api|apis|service|services|app|application|backend|frontend|website|site|worker|workers|microservice|system|platform';
