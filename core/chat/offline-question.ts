// Reading an operator's question without a language model: what is asked (intent rules over
// keywords and patterns) and about what (hosts, incident and run numbers, services, metrics, time,
// status). Pure and workflow-safe; the offline planner (offline-planner.ts) acts on the result.

import type { IncidentStatusFilter } from './builtin-tools.js';
import type { Environment, Severity } from '../incident.js';

export type OfflineIntent =
  | 'help'
  | 'automation_get'
  | 'automation_list'
  | 'incident_get'
  | 'remediate'
  | 'automate'
  | 'metrics'
  | 'diagnose'
  | 'host_status'
  | 'incidents_list'
  | 'cmdb'
  | 'knowledge'
  | 'unknown';

export type MetricKind = 'cpu' | 'memory' | 'disk' | 'load' | 'network' | 'up';

export interface OfflineQuestion {
  intent: OfflineIntent;
  text: string;
  /** Host names as written, most likely first (tagIds, hostnames, IPs). */
  hosts: string[];
  /** An incident number (42) or id (UUID). */
  incident: number | string | null;
  /** An automation run number or id. */
  run: number | string | null;
  services: string[];
  metric: MetricKind | null;
  status: IncidentStatusFilter | null;
  automationStatus: string | null;
  /** A duration back from now (`24h`, `7d`). */
  since: string | null;
  severity: Severity | null;
  environment: Environment | null;
  checkMode: boolean;
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
/** Names with a digit or a separator: web-01, db1, lb.example.com, k8s-node-3. */
const HOST_LIKE = /\b[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)+\b|\b[a-z]+\d+[a-z0-9]*\b/gi;
/** Words after which a single plain word is a host: "on gateway", "host bastion". */
const HOST_AFTER = /\b(?:on|host|server|machine|node|box|of|for|with)\s+([a-z][a-z0-9._-]{1,62})\b/gi;

/** Hyphenated words and tokens that look like host names but never are. */
const NOT_HOSTS = new Set([
  'dry-run',
  'check-mode',
  'e-mail',
  'read-only',
  'x86_64',
  'k8s',
  'ipv4',
  'ipv6',
  'http2',
  'utf-8',
  'log4j',
  'oom-killer',
  'out-of-memory',
  'up-to-date',
  'cron.daily',
  'cert-manager',
  'well-known',
  'e.g',
  'i.e',
  'node_exporter',
  'follow-up',
]);

/** Plain words that follow "on", "of", "for" without naming a host. */
const NOT_HOST_WORDS = new Set([
  'the',
  'a',
  'an',
  'all',
  'my',
  'our',
  'it',
  'this',
  'that',
  'these',
  'those',
  'me',
  'us',
  'with',
  'call',
  'duty',
  'on',
  'of',
  'for',
  'in',
  'to',
  'from',
  'at',
  'them',
  'production',
  'prod',
  'staging',
  'development',
  'dev',
  'test',
  'incident',
  'incidents',
  'run',
  'runs',
  'status',
  'hosts',
  'servers',
  'host',
  'server',
  'machines',
  'disk',
  'cpu',
  'memory',
  'load',
  'network',
  'nginx',
  'today',
  'yesterday',
  'now',
  'week',
  'day',
  'hours',
  'restart',
  'restarting',
  'help',
  'details',
  'ansible',
  'automation',
  'playbook',
  'runbook',
  'runbooks',
  'knowledge',
  'procedure',
  'steps',
  'example',
  'instance',
  'service',
  'services',
  'what',
  'which',
  'usage',
  'utilization',
  'space',
]);

export const KNOWN_SERVICES = [
  'nginx',
  'apache',
  'apache2',
  'httpd',
  'haproxy',
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
  'redis',
  'memcached',
  'mongodb',
  'docker',
  'containerd',
  'kubelet',
  'sshd',
  'ssh',
  'cron',
  'rabbitmq',
  'kafka',
  'elasticsearch',
  'tomcat',
  'php-fpm',
  'node_exporter',
  'prometheus',
  'grafana',
  'chrony',
  'ntp',
  'bind',
  'named',
  'postfix',
  'jenkins',
  'etcd',
];

const SERVICE_SET = new Set(KNOWN_SERVICES);

const METRIC_WORDS: [RegExp, MetricKind][] = [
  [/\b(?:cpu|processor|cpu usage|cpu load)\b/, 'cpu'],
  [/\b(?:memory|mem|ram|swap)\b/, 'memory'],
  [/\b(?:disk usage|disk space|filesystem usage|free space|disk)\b/, 'disk'],
  [/\b(?:load average|load)\b/, 'load'],
  [/\b(?:network|traffic|bandwidth|throughput)\b/, 'network'],
  [/\b(?:uptime|is up|scrape)\b/, 'up'],
];

const HELP = /^(?:help|hi|hello|hey|\?+|what can you do|who are you|what do you do|how can you help|commands)\b/;
const QUESTION_OPENING = /^(?:how|what|why|when|where|which|who|is|are|does|do|did|can|could|should|explain|tell me|show me|describe)\b/;
const KNOWLEDGE_ASK =
  /\b(?:how (?:do|can|should|to|would)|what(?:'s| is) the (?:procedure|process|runbook|sop|fix)|procedure|runbook|sop|documentation|docs|steps? to|best practice|explain|why (?:does|do|is|are|would)|what causes|troubleshoot(?:ing)?|guide|what should i do)\b/;
const SYMPTOM =
  /\b(?:error|errors|failed|failing|fails|failure|down|crash(?:ed|ing)?|full|timeout|timed out|refused|unreachable|5\d\d|4\d\d|slow|latency|oom|leak|expired|certificate|stuck|hung|high|spike|not responding|bad gateway|panic)\b/;

const AUTOMATION_VERBS =
  /^(?:please\s+|can you\s+|could you\s+|would you\s+|go ahead and\s+|kindly\s+)?(?:restart|reload|start|stop|install|uninstall|remove|upgrade|update|deploy|reboot|apply|patch|enable|disable|rotate|flush|clear|clean(?: up)?|run (?:a |the )?playbook|run ansible|bounce|kill|create user|add user)\b/;
const REMEDIATE_VERBS =
  /^(?:please\s+|can you\s+|could you\s+|would you\s+|go ahead and\s+|kindly\s+)?(?:fix|remediate|resolve|repair|heal|mitigate|open an incident|raise an incident|create an incident|start (?:a )?remediation)\b/;
const DIAGNOSE = /\b(?:diagnose|diagnosis|investigate|root cause|run diagnostics)\b/;
const HOST_STATUS =
  /\b(?:what(?:'s| is) (?:wrong|going on|happening|up) with|wrong with|going on (?:with|on)|status of|state of|health of|healthy|is .{1,64} (?:ok|okay|up|down|healthy|alive)|problems? (?:on|with)|issues? (?:on|with)|tell me about|check on|how is|how's|anything wrong)\b/;
const INCIDENT_WORDS = /\b(?:incidents?|outages?|alerts?|tickets?|inc-\d+)\b/;
const AUTOMATION_WORDS = /\b(?:ansible|automation|automations|playbooks?|automation runs?)\b/;
const CMDB_WORDS =
  /\b(?:hosts?|servers?|machines?|nodes?|vms?|cmdb|inventory|configuration items?|ip address|ip of|address of|who owns|owner of|owned by|tagged|in production|in staging|which box)\b/;

const INCIDENT_STATUS_WORDS: [RegExp, IncidentStatusFilter][] = [
  [/\b(?:awaiting approval|waiting for approval|pending approval|need(?:s|ing)? approval|to approve)\b/, 'awaiting_approval'],
  [/\b(?:escalated)\b/, 'escalated'],
  [/\bresolved\b|\bclosed\b|\bfixed\b/, 'resolved'],
  [/\bfailed\b/, 'failed'],
  [/\bcancell?ed\b/, 'cancelled'],
  [/\bremediating\b/, 'remediating'],
  [/\binvestigating\b/, 'investigating'],
  [/\bverifying\b/, 'verifying'],
  [/\b(?:open|active|unresolved|ongoing|current|in progress|not resolved)\b/, 'active'],
];

const AUTOMATION_STATUS_WORDS: [RegExp, string][] = [
  [/\b(?:awaiting approval|waiting for approval|pending approval|need(?:s|ing)? approval)\b/, 'awaiting_approval'],
  [/\bfailed\b/, 'failed'],
  [/\bsucceeded\b|\bsuccessful\b/, 'succeeded'],
  [/\brunning\b/, 'running'],
  [/\bcancell?ed\b/, 'cancelled'],
  [/\brejected\b/, 'rejected'],
  [/\bqueued\b/, 'queued'],
];

const SEVERITY_WORDS: [RegExp, Severity][] = [
  [/\b(?:critical|sev ?1|p1)\b/, 'critical'],
  [/\b(?:high severity|high-severity|sev ?2|p2)\b/, 'high'],
  [/\b(?:medium severity|sev ?3|p3)\b/, 'medium'],
  [/\b(?:low severity|sev ?4|p4)\b/, 'low'],
];

const ENVIRONMENT_WORDS: [RegExp, Environment][] = [
  [/\b(?:production|prod)\b/, 'production'],
  [/\bstaging\b/, 'staging'],
  [/\b(?:development|dev)\b/, 'development'],
  [/\btest(?:ing)? (?:hosts|servers|environment)\b/, 'test'],
];

function sinceOf(lower: string): string | null {
  const last = /\b(?:last|past|previous)\s+(\d{1,4})\s*(minutes?|mins?|hours?|hrs?|days?|weeks?)\b/.exec(lower);
  if (last) {
    const unit = last[2]!.startsWith('m') ? 'm' : last[2]!.startsWith('h') ? 'h' : last[2]!.startsWith('d') ? 'd' : 'w';
    return `${last[1]}${unit}`;
  }
  if (/\b(?:today|last 24 hours|past day|last day|since yesterday)\b/.test(lower)) return /since yesterday/.test(lower) ? '48h' : '24h';
  if (/\b(?:this week|last week|past week|last 7 days)\b/.test(lower)) return '7d';
  if (/\b(?:this month|last month|past month|last 30 days)\b/.test(lower)) return '30d';
  if (/\b(?:last hour|past hour)\b/.test(lower)) return '1h';
  return null;
}

function firstMatch<T>(lower: string, table: readonly [RegExp, T][]): T | null {
  for (const [pattern, value] of table) if (pattern.test(lower)) return value;
  return null;
}

/** Host names as written, most likely first: IPs, names with digits or separators, then plain words after "on"/"host". */
export function hostCandidates(text: string): string[] {
  const found: string[] = [];
  const add = (name: string) => {
    const clean = name.replace(/[.,;:!?]+$/, '');
    const lower = clean.toLowerCase();
    if (clean.length < 2 || NOT_HOSTS.has(lower) || NOT_HOST_WORDS.has(lower) || SERVICE_SET.has(lower)) return;
    if (/^inc-?\d+$/i.test(clean) || /^\d+[a-z]?$/i.test(clean) || /^(?:sev|p)\d$/i.test(clean)) return;
    if (/^v?\d+(?:\.\d+)+$/.test(clean) && !/^(?:\d{1,3}\.){3}\d{1,3}$/.test(clean)) return;
    if (!found.some((f) => f.toLowerCase() === lower)) found.push(clean);
  };
  const withoutUuids = text.replace(new RegExp(UUID.source, 'gi'), ' ');
  for (const ip of withoutUuids.match(IPV4) ?? []) add(ip);
  const withoutIps = withoutUuids.replace(IPV4, ' ');
  for (const name of withoutIps.match(HOST_LIKE) ?? []) if (!/^\d/.test(name)) add(name);
  for (const m of withoutIps.matchAll(HOST_AFTER)) add(m[1]!);
  return found;
}

export function servicesIn(lower: string): string[] {
  const found = new Set<string>();
  for (const word of lower.match(/[a-z0-9_-]+/g) ?? []) if (SERVICE_SET.has(word)) found.add(word);
  const named = /\b(?:service|daemon|unit)\s+([a-z][a-z0-9_.-]{1,40})\b|\b([a-z][a-z0-9_.-]{1,40})\s+(?:service|daemon)\b/.exec(lower);
  const name = named?.[1] ?? named?.[2];
  if (name && !NOT_HOST_WORDS.has(name) && !['the', 'a', 'this', 'that', 'which', 'what'].includes(name)) found.add(name);
  return [...found];
}

/** What the question asks and about what. */
export function readQuestion(raw: string): OfflineQuestion {
  const text = raw.replace(/\s+/g, ' ').trim();
  const lower = text.toLowerCase();
  const uuid = UUID.exec(text)?.[0]?.toLowerCase() ?? null;
  const incidentNumber = /\b(?:inc-?|incident\s*(?:number|no\.?|#)?\s*#?)(\d{1,9})\b/i.exec(text)?.[1];
  const runNumber = /\b(?:(?:ansible|automation|playbook)\s+(?:run|job)\s*#?|run\s*#|run\s+(?:number|no\.?)\s*)(\d{1,9})\b/i.exec(
    text,
  )?.[1];
  const hosts = hostCandidates(text);
  const question: OfflineQuestion = {
    intent: 'unknown',
    text,
    hosts,
    incident: incidentNumber ? Number(incidentNumber) : null,
    run: runNumber ? Number(runNumber) : null,
    services: servicesIn(lower),
    metric: firstMatch(lower, METRIC_WORDS),
    status: firstMatch(lower, INCIDENT_STATUS_WORDS),
    automationStatus: firstMatch(lower, AUTOMATION_STATUS_WORDS),
    since: sinceOf(lower),
    severity: firstMatch(lower, SEVERITY_WORDS),
    environment: firstMatch(lower, ENVIRONMENT_WORDS),
    checkMode: /\b(?:dry[- ]run|check mode|check-mode|--check|what would change|without changing)\b/.test(lower),
  };
  const aboutAutomation = AUTOMATION_WORDS.test(lower);
  const aboutIncident = INCIDENT_WORDS.test(lower);
  if (uuid) {
    if (aboutAutomation && !aboutIncident) question.run = uuid;
    else question.incident = uuid;
  }
  const asks = QUESTION_OPENING.test(lower) || lower.endsWith('?');

  question.intent = (() => {
    if (HELP.test(lower) || lower.length === 0) return 'help';
    if (question.run !== null && (aboutAutomation || /\brun\b/.test(lower))) return 'automation_get';
    if (aboutAutomation && !AUTOMATION_VERBS.test(lower)) return 'automation_list';
    if (question.incident !== null && !REMEDIATE_VERBS.test(lower)) return 'incident_get';
    if (REMEDIATE_VERBS.test(lower)) return 'remediate';
    if (AUTOMATION_VERBS.test(lower) && !asks) return 'automate';
    if (KNOWLEDGE_ASK.test(lower) && !HOST_STATUS.test(lower)) return 'knowledge';
    if (question.metric && hosts.length > 0 && !aboutIncident) return 'metrics';
    if (DIAGNOSE.test(lower) && hosts.length > 0) return 'diagnose';
    if (aboutIncident) return 'incidents_list';
    if (HOST_STATUS.test(lower) && hosts.length > 0) return 'host_status';
    if (CMDB_WORDS.test(lower) || question.environment !== null) return 'cmdb';
    if (hosts.length > 0 && /^(?:what is|what's|who owns|where is|find|look ?up|show)\b/.test(lower)) return 'cmdb';
    if (hosts.length > 0 && (question.services.length > 0 || SYMPTOM.test(lower))) return 'host_status';
    if (question.services.length > 0 || SYMPTOM.test(lower) || (asks && lower.split(' ').length >= 4)) return 'knowledge';
    return 'unknown';
  })();
  return question;
}
