import { Document, visit } from 'yaml';
import type { AutomationArtifacts, AutomationGeneration, AutomationHost } from '../automation.js';
import { automationHostsProblems, buildCommand, buildInventory } from './inventory.js';
import { flattenUnderstood, parseRequest } from './request.js';
import { SERVICE_TEMPLATES, type FirewallKind, type TemplateId, type TemplateIntent } from './template-ids.js';
import { validatePlaybook } from './validate.js';

// The maintained templates: a request understood as template intents (request.ts) becomes one play
// over the inventory's hosts, one task per intent, every module named by its FQCN. Values reach the
// YAML only as data given to the `yaml` package (never by string concatenation), after the strict
// checks of values.ts. Every template changes the system, so the play declares `become: true`.

export type TemplateGenerationResult =
  | { ok: true; artifacts: AutomationArtifacts; generation: AutomationGeneration }
  | { ok: false; understood: Record<string, string>; message: string };

export interface TemplateOptions {
  checkMode: boolean;
  /** Which firewall a "open port" request manages when the request does not say: ufw by default. */
  firewall?: FirewallKind;
}

type Task = Record<string, unknown> & { name: string };

/** The drop-in file every sysctl template writes, so the settings survive a reboot and stay findable. */
export const SYSCTL_FILE = '/etc/sysctl.d/90-infraai.conf';
/** Log rotation drop-ins are prefixed so they never replace a package's own file. */
export const LOGROTATE_PREFIX = '/etc/logrotate.d/infraai-';

/**
 * How a host's services are managed, from its CMDB item: a supervisor host's services are
 * supervisord programs, which only supervisorctl starts and stops (ansible's service module looks
 * for systemd or an init script and fails there); any other host's go through the service module,
 * which detects the host's own manager (systemd, sysv, OpenRC).
 */
export type ServiceFlavour = 'supervisor' | 'service';
export const serviceFlavourOf = (host: Pick<AutomationHost, 'serviceManager'>): ServiceFlavour =>
  host.serviceManager === 'supervisor' ? 'supervisor' : 'service';

/** What supervisorctl can do to a program; supervisor has no reload and no boot-time switch (autostart is in the program's configuration). */
const SUPERVISOR_STATES: Partial<Record<TemplateId, string>> = {
  'service-running': 'started',
  'service-stopped': 'stopped',
  'service-restarted': 'restarted',
};

/** Collections each template needs besides ansible.builtin (all shipped by Debian's `ansible` package). */
function collectionsOf(intent: TemplateIntent, flavour: ServiceFlavour): string[] {
  if (flavour === 'supervisor' && SUPERVISOR_STATES[intent.template]) return ['community.general'];
  if (intent.template === 'sysctl') return ['ansible.posix'];
  if (intent.template === 'firewall-port') return intent.params.firewall === 'firewalld' ? ['ansible.posix'] : ['community.general'];
  return [];
}

const list = (csv: string) => csv.split(',');

export function templateTasks(intent: TemplateIntent, flavour: ServiceFlavour = 'service'): Task[] {
  const p = intent.params;
  const service = (name: string, args: Record<string, unknown>): Task[] => {
    const state = SUPERVISOR_STATES[intent.template];
    if (flavour === 'supervisor' && state) return [{ name, 'community.general.supervisorctl': { name: p.service, state } }];
    // A supervisor program cannot be reloaded, enabled or disabled (generateFromTemplates refuses such a request first).
    return [{ name, 'ansible.builtin.service': { name: p.service, ...args } }];
  };
  switch (intent.template) {
    case 'package-present':
      return [
        { name: `Install ${list(p.packages!).join(', ')}`, 'ansible.builtin.package': { name: list(p.packages!), state: 'present' } },
      ];
    case 'package-absent':
      return [{ name: `Remove ${list(p.packages!).join(', ')}`, 'ansible.builtin.package': { name: list(p.packages!), state: 'absent' } }];
    case 'package-latest':
      return [{ name: `Upgrade ${list(p.packages!).join(', ')}`, 'ansible.builtin.package': { name: list(p.packages!), state: 'latest' } }];
    case 'service-running':
      return service(`Ensure ${p.service} is running`, { state: 'started' });
    case 'service-stopped':
      return service(`Ensure ${p.service} is stopped`, { state: 'stopped' });
    case 'service-restarted':
      return service(`Restart ${p.service}`, { state: 'restarted' });
    case 'service-reloaded':
      return service(`Reload ${p.service}`, { state: 'reloaded' });
    case 'service-enabled':
      return service(`Enable ${p.service} at boot`, { enabled: true });
    case 'service-disabled':
      return service(`Disable ${p.service} at boot`, { enabled: false });
    case 'file-content':
    case 'file-template':
      return [
        {
          name: `${intent.template === 'file-template' ? 'Render' : 'Write'} ${p.path}`,
          'ansible.builtin.copy': {
            dest: p.path,
            content: p.content,
            ...(p.owner ? { owner: p.owner } : {}),
            ...(p.group ? { group: p.group } : {}),
            mode: p.mode,
          },
        },
      ];
    case 'file-absent':
      return [{ name: `Remove ${p.path}`, 'ansible.builtin.file': { path: p.path, state: 'absent' } }];
    case 'user-present':
      return [
        {
          name: `Ensure user ${p.user} exists`,
          'ansible.builtin.user': {
            name: p.user,
            state: 'present',
            ...(p.groups ? { groups: list(p.groups), append: true } : {}),
            ...(p.shell ? { shell: p.shell } : {}),
          },
        },
      ];
    case 'user-absent':
      return [{ name: `Remove user ${p.user}`, 'ansible.builtin.user': { name: p.user, state: 'absent' } }];
    case 'group-present':
      return [{ name: `Ensure group ${p.group} exists`, 'ansible.builtin.group': { name: p.group, state: 'present' } }];
    case 'group-absent':
      return [{ name: `Remove group ${p.group}`, 'ansible.builtin.group': { name: p.group, state: 'absent' } }];
    case 'logrotate':
      return [
        {
          name: `Rotate ${p.path}`,
          'ansible.builtin.copy': {
            dest: logrotateFile(p.path!),
            content: logrotateConfig(p),
            owner: 'root',
            group: 'root',
            mode: '0644',
          },
        },
      ];
    case 'sysctl':
      return [
        {
          name: `Set ${p.key} to ${p.value}`,
          'ansible.posix.sysctl': { name: p.key, value: p.value, sysctl_file: SYSCTL_FILE, state: 'present', reload: true },
        },
      ];
    case 'firewall-port':
      return p.firewall === 'firewalld'
        ? [
            {
              name: `Open port ${p.port}/${p.protocol}`,
              'ansible.posix.firewalld': { port: `${p.port}/${p.protocol}`, permanent: true, immediate: true, state: 'enabled' },
            },
          ]
        : [{ name: `Open port ${p.port}/${p.protocol}`, 'community.general.ufw': { rule: 'allow', port: p.port, proto: p.protocol } }];
  }
}

/** Why a service request cannot be done on the targets' supervisor programs; null when it can. */
function supervisorProblem(intents: readonly TemplateIntent[], hosts: readonly AutomationHost[]): string | null {
  const supervised = hosts.filter((h) => serviceFlavourOf(h) === 'supervisor').map((h) => h.tagId);
  if (supervised.length === 0) return null;
  const intent = intents.find((i) => (SERVICE_TEMPLATES as readonly string[]).includes(i.template) && !SUPERVISOR_STATES[i.template]);
  if (!intent) return null;
  const what = intent.template === 'service-reloaded' ? 'reload' : 'enable or disable at boot';
  return (
    `${intent.params.service} is a supervisor program on ${supervised.join(', ')} (its CMDB service manager), and supervisor cannot ${what} ` +
    'a program: restart it instead, or change autostart in its program configuration.'
  );
}

/** `/var/log/myapp/*.log` → `/etc/logrotate.d/infraai-myapp`. */
export function logrotateFile(path: string): string {
  const segments = path
    .split('/')
    .filter((s) => s && !s.includes('*'))
    .filter((s, i) => !(i === 0 && s === 'var') && !(i === 1 && s === 'log'))
    .map((s) =>
      s
        .replace(/\.log$/, '')
        .replace(/[^A-Za-z0-9_-]+/g, '-')
        .toLowerCase(),
    );
  const name = segments.join('-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 64);
  return `${LOGROTATE_PREFIX}${name || 'logs'}`;
}

function logrotateConfig(p: Record<string, string>): string {
  const lines = [
    '# Managed by InfraAI',
    `${p.path} {`,
    `    ${p.frequency}`,
    `    rotate ${p.rotate}`,
    ...(p.size ? [`    maxsize ${p.size}`] : []),
    '    missingok',
    '    notifempty',
    ...(p.compress === 'true' ? ['    compress', '    delaycompress'] : []),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** A playbook's YAML as ansible reads it (YAML 1.1: `yes`, `on` and `0644` are quoted when strings). */
export function playbookYaml(plays: unknown[]): string {
  const doc = new Document(plays, { version: '1.1' });
  doc.directives!.docStart = true;
  // ansible-lint allows lines of 160 characters: a string with a longer line is written double-quoted,
  // which YAML may fold anywhere (a block literal keeps its lines whole).
  visit(doc, {
    Scalar: (_key, node) => {
      if (typeof node.value === 'string' && node.value.split('\n').some((line) => line.length > MAX_LINE)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: MAX_LINE });
}

const MAX_LINE = 150;

export function generateFromTemplates(request: string, hosts: AutomationHost[], options: TemplateOptions): TemplateGenerationResult {
  const hostProblems = automationHostsProblems(hosts);
  if (hostProblems.length > 0) return { ok: false, understood: {}, message: `The targets cannot be used: ${hostProblems.join('; ')}.` };
  const parsed = parseRequest(request, hosts, options.firewall ? { firewall: options.firewall } : {});
  if (!parsed.ok) return parsed;
  const understood = flattenUnderstood(parsed.intents);
  const named = new Set(parsed.mentionedTargets);
  if (named.size > 0 && hosts.some((h) => !named.has(h.tagId)))
    return {
      ok: false,
      understood: { ...understood, hosts: [...named].join(',') },
      message: `The request names ${[...named].join(', ')} but the targets are ${hosts.map((h) => h.tagId).join(', ')}: choose the targets to match the request.`,
    };
  const unsupported = supervisorProblem(parsed.intents, hosts);
  if (unsupported) return { ok: false, understood, message: unsupported };
  // One play per way of managing services among the targets (one play over all of them when the
  // request manages no service, or when they all manage services alike).
  const managesServices = parsed.intents.some((i) => (SERVICE_TEMPLATES as readonly string[]).includes(i.template));
  const flavours = managesServices ? [...new Set(hosts.map(serviceFlavourOf))].sort() : (['service'] as const);
  const summary = parsed.intents
    .flatMap((i) => templateTasks(i))
    .map((t) => t.name)
    .join('; ');
  const plays = flavours.map((flavour) => {
    const tasks = parsed.intents.flatMap((i) => templateTasks(i, flavour));
    const name = summary.length <= 120 ? summary : `${tasks.length} tasks from a maintained template`;
    const group = hosts.filter((h) => serviceFlavourOf(h) === flavour).map((h) => h.tagId);
    return flavours.length === 1
      ? { name, hosts: 'all', become: true, gather_facts: false, tasks }
      : {
          name: `${name} (${flavour === 'supervisor' ? 'supervisor programs' : 'services'})`,
          hosts: group.join(','),
          become: true,
          gather_facts: false,
          tasks,
        };
  });
  const artifacts: AutomationArtifacts = {
    playbook: playbookYaml(plays),
    inventory: buildInventory(hosts),
    variables: {},
    collections: [...new Set(flavours.flatMap((flavour) => parsed.intents.flatMap((i) => collectionsOf(i, flavour))))].sort(),
    command: buildCommand({ checkMode: options.checkMode }),
    hosts,
  };
  // The same validation as any playbook: a request for a path that grants access (say) is refused
  // here, with the reason, rather than later.
  const findings = validatePlaybook(artifacts, { become: true });
  if (findings.length > 0)
    return {
      ok: false,
      understood,
      message: `The request asks for a change no template makes: ${findings.map((f) => f.message).join('; ')}.`,
    };
  const ids: TemplateId[] = parsed.intents.map((i) => i.template);
  return {
    ok: true,
    artifacts,
    generation: { source: 'template', template: ids.join(' + '), understood, summary, become: true },
  };
}
