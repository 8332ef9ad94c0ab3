// The Ansible automation family's data: what a request becomes (artifacts), what validation finds,
// and what a run on a runner reports. Plain types, workflow-safe; the family's workflow contract
// (type name, id, messages) is core/contracts/automation.ts.

/** One host of a run's inventory, built from a CMDB item (never from the request's free text). */
export interface AutomationHost {
  /** The CMDB item's tagId: the inventory host name, and the key of its lease. */
  tagId: string;
  hostname: string;
  address: string;
  port: number;
  user: string;
  /** Name of the stored SSH credential; the runner resolves it, the key never travels. */
  credential: string;
  /**
   * The CMDB item's service manager (systemd, sysv, supervisor, other): the service templates
   * manage a supervisor host's programs with supervisorctl, any other host's with ansible's
   * service module. Absent or null: not known (the service module detects the host's own).
   */
  serviceManager?: string | null;
}

/**
 * Everything a run executes, hashed together for the approval (`automationArtifactsHash`): the
 * playbook, the inventory, the extra variables, the command line and the host list.
 */
export interface AutomationArtifacts {
  /** The playbook as YAML text. */
  playbook: string;
  /** The inventory as YAML text (ansible's YAML inventory format), built from `hosts`. */
  inventory: string;
  /** Extra variables passed with `--extra-vars @vars.json`. */
  variables: Record<string, unknown>;
  /** Collections the playbook needs besides ansible.builtin, e.g. `ansible.posix`. */
  collections: string[];
  /** The ansible-playbook arguments after the program name (inventory, playbook, vars, check mode). */
  command: string[];
  hosts: AutomationHost[];
}

/** How the playbook was written: a maintained template (which, with what parameters) or the LLM. */
export interface AutomationGeneration {
  source: 'template' | 'llm';
  /** Template id, e.g. `package-present`; null for the LLM. */
  template: string | null;
  /** What the request was understood as: template parameters, or the LLM's own summary. */
  understood: Record<string, string>;
  summary: string;
  /**
   * The generator declares the playbook needs root (a play-level `become: true`); validation refuses
   * `become` in a playbook whose generation did not declare it. Templates always declare it.
   */
  become?: boolean;
}

/**
 * What refused a playbook. Besides the named tools and rules: `keyword`, a play or task keyword that
 * runs elsewhere or changes how ansible connects (delegate_to, connection, vars: ansible_*);
 * `templating`, a Jinja expression that reaches outside the play (lookup, query, pipe, dunder
 * attributes); `variables`, an extra variable that would override a connection setting or carry an
 * expression.
 */
export const VALIDATION_CHECKS = [
  'yaml',
  'syntax-check',
  'ansible-lint',
  'module-allowlist',
  'command-policy',
  'become',
  'hosts',
  'keyword',
  'templating',
  'variables',
] as const;
export type ValidationCheck = (typeof VALIDATION_CHECKS)[number];

/** One reason a playbook may not run, tied to its task where there is one. */
export interface ValidationFinding {
  check: ValidationCheck;
  /** Play and task as `play[0].tasks[2]` plus the task's name when it has one; null for the whole file. */
  task: string | null;
  message: string;
}

export type HostRecapField = 'ok' | 'changed' | 'unreachable' | 'failed' | 'skipped' | 'rescued' | 'ignored';
/** Per-host counts from Ansible's final stats event (`playbook_on_stats`), never from recap text. */
export type HostRecap = Record<HostRecapField, number>;

/** How far a run got, as its heartbeats report it. */
export interface AutomationProgress {
  tasksDone: number;
  tasksTotal: number;
  currentTask: string | null;
  events: number;
}

/** What a request became: artifacts to validate, or what was understood of a request nothing covers. */
export type AutomationGenerationOutcome =
  | { ok: true; artifacts: AutomationArtifacts; generation: AutomationGeneration }
  | { ok: false; understood: Record<string, string>; message: string };
