import type { ProvisionConventions } from './conventions.js';
import { NUMBER, toNumber } from './grammar-words.js';
import type { ProvisionRequirements, ProvisionResourceType } from './types.js';

// The type-specific options a request states: engine versions, storage, versioning, public access,
// FIFO, dead-letter queues, timeouts, node counts. Only what is stated is set; the templates fill
// the rest from the conventions. A stated value the conventions do not allow is a problem, not a
// default.

type Options = ProvisionRequirements['options'];
type Problem = { field: string; reason: string };

/** Allocated storage RDS accepts for general-purpose (gp3) volumes, in GB. */
const RDS_STORAGE_GB = { min: 20, max: 65_536 };

function readVersion(
  lower: string,
  engineWords: string,
  allowed: string[],
  exactMinor: boolean,
): { version: string | null; stated: string | null } {
  const match =
    new RegExp(`(?<![\\w-])(?:${engineWords})\\s*v?(\\d+(?:\\.\\d+)?)(?![\\w-])`).exec(lower) ??
    /\bversion\s*v?(\d+(?:\.\d+)?)\b/.exec(lower);
  const stated = match?.[1] ?? null;
  if (!stated) return { version: null, stated: null };
  if (allowed.includes(stated)) return { version: stated, stated };
  // "postgres 15.4" is PostgreSQL 15; "mysql 8" and "redis 7" are the newest allowed 8.x and 7.x.
  const major = stated.split('.')[0] ?? '';
  if (!exactMinor && allowed.includes(major)) return { version: stated, stated };
  const sameMajor = allowed.filter((v) => v.split('.')[0] === major && !stated.includes('.'));
  return { version: sameMajor.at(-1) ?? null, stated };
}

function readCount(lower: string, nouns: string): number | null {
  const match =
    new RegExp(`\\b(${NUMBER})\\s+(?:worker\\s+|cache\\s+)?(?:${nouns})\\b`).exec(lower) ??
    new RegExp(`\\b(?:node\\s+count|nodes?)\\s*(?:of|=|:)?\\s*(${NUMBER})\\b`).exec(lower);
  return match?.[1] ? toNumber(match[1]) : null;
}

export function readOptions(
  resourceType: ProvisionResourceType,
  lower: string,
  conventions: ProvisionConventions,
  problems: Problem[],
): Options {
  const options: Options = {};
  const version = (engineWords: string, engine: keyof ProvisionConventions['engines'], exactMinor: boolean, label: string) => {
    const spec = conventions.engines[engine];
    const read = readVersion(lower, engineWords, spec.allowedVersions, exactMinor);
    if (read.version) options.engineVersion = read.version;
    else if (read.stated)
      problems.push({ field: 'engineVersion', reason: `${label} ${read.stated} is not supported (${spec.allowedVersions.join(', ')})` });
  };
  switch (resourceType) {
    case 'postgres_database':
    case 'mysql_database': {
      if (resourceType === 'postgres_database') version('postgres(?:ql)?|pg|psql', 'postgres', false, 'PostgreSQL');
      else version('mysql', 'mysql', true, 'MySQL');
      // A size standing on its own ("500 GB", "2tb"), not digits inside a name ("team-0g-0").
      const storage = /(?<![\w.-])(\d+)\s*(gb|gib|g|tb|tib)(?![\w-])/.exec(lower);
      if (storage?.[1] && storage[2]) {
        const gb = Number(storage[1]) * (storage[2].startsWith('t') ? 1024 : 1);
        // RDS's limits for general-purpose storage.
        if (gb < RDS_STORAGE_GB.min || gb > RDS_STORAGE_GB.max)
          problems.push({ field: 'storageGb', reason: `RDS storage is ${RDS_STORAGE_GB.min} GB to 64 TB, not ${gb} GB` });
        else options.storageGb = gb;
      }
      if (/\b(?:multi[- ]?az|highly[- ]available|high[- ]availability|ha)\b/.test(lower)) options.multiAz = true;
      break;
    }
    case 's3_bucket':
      if (
        /\b(?:without|no|disable|disabled)\s+versioning\b|\bversioning\s+(?:off|disabled)\b|\b(?:unversioned|not\s+versioned)\b/.test(lower)
      )
        options.versioning = false;
      else if (/\b(?:versioned|versioning)\b/.test(lower)) options.versioning = true;
      if (/\b(?:private|not\s+public|no\s+public\s+access|block(?:ing)?\s+(?:all\s+)?public\s+access|non-public)\b/.test(lower))
        options.public = false;
      else if (/\b(?:public|publicly|public-read|world-readable|anonymous(?:ly)?\s+read(?:able)?)\b/.test(lower)) options.public = true;
      break;
    case 'sqs_queue': {
      if (/\bfifo\b/.test(lower)) options.fifo = true;
      else if (/\b(?:standard|non-fifo)\s+(?:sqs\s+)?queue\b/.test(lower)) options.fifo = false;
      if (/\b(?:dead[- ]letter(?:\s+queue)?|dlq|redrive)\b/.test(lower)) options.deadLetterQueue = true;
      const visibility = /\bvisibility\s+timeout\s*(?:of|=|:)?\s*(\d+)\s*(s|sec|secs|seconds?|m|mins?|minutes?)?\b/.exec(lower);
      if (visibility?.[1]) options.visibilityTimeoutSeconds = Number(visibility[1]) * (visibility[2]?.startsWith('m') ? 60 : 1);
      const retention = /\b(?:retain|retention|retaining|keep|keeping)\b[^.,;]*?\b(\d+)\s*(days?|hours?)\b/.exec(lower);
      if (retention?.[1] && retention[2]) {
        const seconds = Number(retention[1]) * (retention[2].startsWith('d') ? 86_400 : 3_600);
        if (seconds < 60 || seconds > 1_209_600)
          problems.push({ field: 'messageRetentionSeconds', reason: 'SQS keeps messages between 1 minute and 14 days' });
        else options.messageRetentionSeconds = seconds;
      }
      break;
    }
    case 'redis_cache': {
      version('redis|elasticache|valkey', 'redis', false, 'Redis');
      const replicas = new RegExp(`\\b(${NUMBER})\\s+(?:read\\s+)?replicas?\\b`).exec(lower);
      const count = replicas?.[1] ? toNumber(replicas[1]) + 1 : readCount(lower, 'nodes?|shards?');
      if (count !== null) {
        if (count < 1 || count > conventions.nodes.cacheMax)
          problems.push({ field: 'nodeCount', reason: `a cache has 1 to ${conventions.nodes.cacheMax} nodes, not ${count}` });
        else options.nodeCount = count;
      }
      break;
    }
    case 'eks_cluster': {
      version('kubernetes|k8s|eks', 'kubernetes', true, 'Kubernetes');
      const count = readCount(lower, 'nodes?|workers|instances|machines');
      if (count !== null) {
        if (count < 1 || count > conventions.nodes.eksMax)
          problems.push({ field: 'nodeCount', reason: `a cluster has 1 to ${conventions.nodes.eksMax} nodes, not ${count}` });
        else options.nodeCount = count;
      }
      break;
    }
    case 'dns_record':
      break;
  }
  return options;
}
