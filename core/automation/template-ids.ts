// The maintained templates by id, and what one understood request asks of one of them.

export const TEMPLATE_IDS = [
  'package-present',
  'package-absent',
  'package-latest',
  'service-running',
  'service-stopped',
  'service-restarted',
  'service-reloaded',
  'service-enabled',
  'service-disabled',
  'file-content',
  'file-template',
  'file-absent',
  'user-present',
  'user-absent',
  'group-present',
  'group-absent',
  'logrotate',
  'sysctl',
  'firewall-port',
] as const;

export type TemplateId = (typeof TEMPLATE_IDS)[number];

/** One template with its parameters, every value already checked (values.ts). */
export interface TemplateIntent {
  template: TemplateId;
  params: Record<string, string>;
}

export const PACKAGE_TEMPLATES: readonly TemplateId[] = ['package-present', 'package-absent', 'package-latest'];
export const SERVICE_TEMPLATES: readonly TemplateId[] = [
  'service-running',
  'service-stopped',
  'service-restarted',
  'service-reloaded',
  'service-enabled',
  'service-disabled',
];

export type FirewallKind = 'ufw' | 'firewalld';

/** What the templates cover, for messages about a request they do not. */
export const TEMPLATES_COVER =
  'install, remove or upgrade a package; start, stop, restart, reload, enable or disable a service; deploy a file with given content or a template, or remove a file; create or remove a user or a group; rotate a log; set a sysctl; open a firewall port';
