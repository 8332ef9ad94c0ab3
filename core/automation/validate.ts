import type { AutomationArtifacts, ValidationCheck, ValidationFinding } from '../automation.js';
import { normalizeWritable, type CommandPolicy } from '../command-policy.js';
import { checkEnvelope, checkHosts, type AddFinding } from './validate-envelope.js';
import { parsePlaybook } from './validate-yaml.js';
import { canonicalModule, checkModule, type ModuleContext } from './validate-modules.js';
import { templatingProblem } from './validate-templating.js';

// Static validation of a run's artifacts, before any approval or run: the YAML parses into plays of
// mapping tasks; every task (in blocks, rescue, always, handlers, pre_ and post_tasks, in every
// form: `module:`, `action:`) uses a module on the allowlist with allowed arguments
// (validate-modules.ts); no keyword runs a task elsewhere or changes how ansible connects; Jinja
// stays inside the play (validate-templating.ts); `become` only at play level and only when the
// generation declared it; every play's hosts are inventory hosts; the inventory and command line
// are the ones built from the targets. An empty list of findings means the playbook may go on to
// ansible's own syntax check and lint (adapters/playbook-checker/) and then to approval.

export interface ValidationOptions {
  /** The generation declared root (AutomationGeneration.become): a play may say `become: true`. */
  become: boolean;
  /** Users a play may become besides root, when the generation declared them. */
  becomeUsers?: readonly string[];
  /**
   * The command policy for the targets: policyForItem(policy, item) for one CMDB item; for several,
   * pass only writable paths every item shares. Without it, every write outside /tmp is `high`.
   */
  policy?: CommandPolicy;
}

/** A task that may run, but whose approver should look at it first (a high-risk command or write). */
export interface FlaggedTask {
  task: string;
  reason: string;
}

export interface PlaybookReview {
  findings: ValidationFinding[];
  flagged: FlaggedTask[];
}

const MAX_TASKS = 500;
const MAX_DEPTH = 5;

const PLAY_KEYS = new Set(
  'name hosts become become_user gather_facts gather_subset gather_timeout tasks pre_tasks post_tasks handlers vars serial max_fail_percentage any_errors_fatal ignore_errors ignore_unreachable force_handlers order tags check_mode diff no_log timeout throttle run_once strategy'.split(
    ' ',
  ),
);
const TASK_KEYS = new Set(
  'name when register notify listen tags loop loop_control with_items with_list with_dict with_indexed_items changed_when failed_when ignore_errors ignore_unreachable no_log retries delay until check_mode diff timeout throttle run_once any_errors_fatal args vars async poll become become_user'.split(
    ' ',
  ),
);
const BLOCK_KEYS = new Set(
  'name block rescue always when tags ignore_errors ignore_unreachable any_errors_fatal no_log vars check_mode diff become become_user notify'.split(
    ' ',
  ),
);
const CONDITIONS = new Set(['when', 'changed_when', 'failed_when', 'until', 'that']);
const KEYWORD_REASONS: Record<string, string> = {
  delegate_to: 'runs the task on another host',
  delegate_facts: 'writes facts to another host',
  local_action: 'runs the task on the controller',
  connection: 'changes how (or whether) ansible connects to the host',
  remote_user: 'logs in as another user than the CMDB item says',
  port: 'connects to another port than the CMDB item says',
  environment: 'sets environment variables (LD_PRELOAD, PATH) for the module',
  module_defaults: 'changes module arguments out of sight',
  collections: 'changes which module a short name means',
  debugger: 'opens an interactive debugger',
  become_method: 'changes how privileges are gained',
  become_flags: 'passes flags to the privilege tool',
  become_exe: 'runs another privilege tool',
  vars_files: 'loads variables from controller files',
  vars_prompt: 'waits for input',
  roles: 'loads roles the validator has not seen',
  import_playbook: 'loads a playbook the validator has not seen',
};
const COMMAND_KV = new Set(['creates', 'removes', 'chdir', 'executable', 'warn', 'stdin', 'stdin_add_newline', 'strip_empty_ends']);
const COMMAND_MODULES = new Set([
  'ansible.builtin.command',
  'ansible.builtin.shell',
  'ansible.builtin.raw',
  'ansible.builtin.script',
  'ansible.builtin.meta',
]);

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validatePlaybook(artifacts: AutomationArtifacts, options: ValidationOptions): ValidationFinding[] {
  return reviewPlaybook(artifacts, options).findings;
}

export function reviewPlaybook(artifacts: AutomationArtifacts, options: ValidationOptions): PlaybookReview {
  const findings: ValidationFinding[] = [];
  const flagged: FlaggedTask[] = [];
  const add = (check: ValidationCheck, task: string | null, message: string) => findings.push({ check, task, message });
  checkEnvelope(artifacts, add);
  const plays = parsePlaybook(artifacts.playbook, add);
  if (!plays) return { findings, flagged };
  const ctx: ModuleContext = { policy: options.policy ?? {}, writable: normalizeWritable(options.policy?.writablePaths) };
  const hostNames = new Set(artifacts.hosts.map((h) => h.tagId));
  let taskCount = 0;

  const checkKeywords = (node: Mapping, where: string, allowed: Set<string>, level: 'play' | 'task') => {
    for (const [key, value] of Object.entries(node)) {
      if (KEYWORD_REASONS[key]) add('keyword', where, `${key} is refused: it ${KEYWORD_REASONS[key]}`);
      else if (key.startsWith('with_') && !allowed.has(key))
        add('templating', where, `${key} is a lookup loop; use loop with a literal list`);
      else if (key === 'check_mode' && value !== true) add('keyword', where, 'check_mode: false runs the task for real even in check mode');
      else if (key === 'strategy' && value !== 'linear' && value !== 'free')
        add('keyword', where, `strategy ${String(value)} is not allowed`);
      else if (key === 'vars' && value !== undefined) {
        if (!isMapping(value)) add('keyword', where, 'vars must be a mapping');
        else
          for (const name of Object.keys(value))
            if (/^ansible_/i.test(name)) add('keyword', where, `vars may not set ${name} (connection and privilege settings)`);
      } else if (key === 'become' && value === true && level === 'task') add('become', where, 'become is declared at play level only');
      else if (key === 'become_user' && level === 'task') add('become', where, 'become_user is declared at play level only');
      else if (key === 'register' || (key === 'loop_control' && isMapping(value) && value.loop_var !== undefined)) {
        const name = key === 'register' ? value : (value as Mapping).loop_var;
        if (typeof name !== 'string' || !/^[a-z_][a-z0-9_]*$/i.test(name) || /^ansible_/i.test(name))
          add('keyword', where, `${key} may not name ${String(name)} (connection and privilege settings are ansible_ variables)`);
      }
    }
  };

  const checkStrings = (value: unknown, where: string, key = '') => {
    if (typeof value === 'string') {
      const problem = templatingProblem(value, CONDITIONS.has(key));
      if (problem) add('templating', where, problem);
    } else if (Array.isArray(value)) for (const item of value) checkStrings(item, where, key);
    else if (isMapping(value)) for (const [k, v] of Object.entries(value)) checkStrings(v, where, CONDITIONS.has(key) ? key : k);
  };

  const walkTasks = (list: unknown, label: string, depth: number) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) return add('yaml', label, 'must be a list of tasks');
    list.forEach((task: unknown, j) => {
      const at = `${label}[${j}]`;
      if (!isMapping(task)) return add('yaml', at, 'a task must be a mapping');
      const where = typeof task.name === 'string' ? `${at} (${task.name})` : at;
      if (++taskCount > MAX_TASKS) return taskCount === MAX_TASKS + 1 ? add('yaml', where, `more than ${MAX_TASKS} tasks`) : undefined;
      checkStrings(task, where);
      if ('block' in task) {
        if (depth >= MAX_DEPTH) return add('yaml', where, `blocks nest more than ${MAX_DEPTH} deep`);
        checkKeywords(task, where, BLOCK_KEYS, 'task');
        for (const key of Object.keys(task))
          if (!BLOCK_KEYS.has(key) && !KEYWORD_REASONS[key]) add('module-allowlist', where, `a block may not have ${key}`);
        for (const part of ['block', 'rescue', 'always']) walkTasks(task[part], `${at}.${part}`, depth + 1);
        return;
      }
      checkKeywords(task, where, TASK_KEYS, 'task');
      checkTask(task, where, ctx, add, flagged);
    });
  };

  plays.forEach((play, i) => {
    const label = `play[${i}]`;
    if (!isMapping(play)) return add('yaml', label, 'a play must be a mapping');
    const where = typeof play.name === 'string' ? `${label} (${play.name})` : label;
    for (const key of Object.keys(play))
      if (!PLAY_KEYS.has(key) && !KEYWORD_REASONS[key]) add('keyword', where, `${key} is not a play keyword the validator allows`);
    checkKeywords(play, where, PLAY_KEYS, 'play');
    checkHosts(play.hosts, where, hostNames, add);
    if (play.become !== undefined && play.become !== false) {
      if (play.become !== true) add('become', where, 'become must be true or false');
      else if (!options.become) add('become', where, 'become: true but the generation did not declare that the playbook needs root');
    }
    if (play.become_user !== undefined && play.become_user !== 'root' && !(options.becomeUsers ?? []).includes(String(play.become_user)))
      add('become', where, `become_user ${String(play.become_user)} was not declared`);
    for (const [key, value] of Object.entries(play))
      if (!['tasks', 'pre_tasks', 'post_tasks', 'handlers'].includes(key)) checkStrings(value, where, key);
    for (const part of ['pre_tasks', 'tasks', 'post_tasks', 'handlers']) walkTasks(play[part], `${label}.${part}`, 0);
  });
  return { findings, flagged };
}

function checkTask(task: Mapping, where: string, ctx: ModuleContext, add: AddFinding, flagged: FlaggedTask[]): void {
  const modules = Object.keys(task).filter((k) => !TASK_KEYS.has(k) && !KEYWORD_REASONS[k] && !k.startsWith('with_'));
  if (modules.length === 0) return add('module-allowlist', where, 'the task names no module');
  if (modules.length > 1) return add('module-allowlist', where, `the task names several modules: ${modules.join(', ')}`);
  let module = modules[0]!;
  let value = task[module];
  if (module === 'action') {
    if (isMapping(value) && typeof value.module === 'string') {
      const { module: named, ...rest } = value;
      module = named;
      value = rest;
    } else if (typeof value === 'string' && /^\S+/.test(value.trim())) {
      module = value.trim().split(/\s+/)[0]!;
      value = value.trim().slice(module.length).trim() || null;
    } else return add('module-allowlist', where, 'action names no module');
  }
  const commandLike = COMMAND_MODULES.has(canonicalModule(module));
  let args: Mapping = {};
  let raw: string | null = null;
  if (typeof value === 'string') ({ args, raw } = parseFreeForm(value, commandLike));
  else if (isMapping(value)) {
    const { _raw_params: rawParams, ...rest } = value;
    args = rest;
    if (rawParams !== undefined) raw = String(rawParams);
  } else if (value !== null && value !== undefined)
    return add('module-allowlist', where, `${module} arguments must be a mapping or a string`);
  if (task.args !== undefined) {
    if (!isMapping(task.args)) return add('module-allowlist', where, 'args must be a mapping');
    args = { ...task.args, ...args };
  }
  const verdict = checkModule({ module, args, raw }, ctx);
  for (const problem of verdict.problems) add(problem.check, where, problem.message);
  for (const reason of verdict.flags) flagged.push({ task: where, reason });
}

/** ansible's `key=value` free form; for command modules only its known keys are taken out of the command. */
export function parseFreeForm(text: string, commandLike: boolean): { args: Mapping; raw: string | null } {
  const tokens = text.match(/(?:[^\s'"]+|'[^']*'|"(?:[^"\\]|\\.)*")+/g) ?? [];
  const args: Mapping = {};
  const rest: string[] = [];
  for (const token of tokens) {
    const kv = /^([A-Za-z_]\w*)=([\s\S]*)$/.exec(token);
    if (kv && (!commandLike || COMMAND_KV.has(kv[1]!))) args[kv[1]!] = kv[2]!.replace(/^(['"])([\s\S]*)\1$/, '$2');
    else rest.push(token);
  }
  return { args, raw: rest.length > 0 ? rest.join(' ') : null };
}
