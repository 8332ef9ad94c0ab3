import type { ValidationCheck } from '../automation.js';
import { secretClass, SYSTEM_ROOTS, writeClassOf, type CommandPolicy, type WriteClass } from '../command-policy.js';

// What every module rule shares: the call being checked, the verdict it adds to, and checks of
// names, destinations, modes and owners.

export interface ModuleCall {
  /** The module as written (`copy`, `ansible.builtin.copy`, `ansible.posix.sysctl`). */
  module: string;
  args: Record<string, unknown>;
  /** Free-form text (command lines), when the module took one. */
  raw: string | null;
}

export interface ModuleVerdict {
  problems: { check: ValidationCheck; message: string }[];
  /** Allowed, but the approver should look: why. */
  flags: string[];
}

export interface ModuleContext {
  policy: CommandPolicy;
  /** Normalised writable roots (the CMDB items' data and log paths). */
  writable: readonly string[];
}

export type Check = (call: ModuleCall, ctx: ModuleContext, verdict: ModuleVerdict) => void;
export interface Rule {
  args: readonly string[];
  check?: Check;
}

export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]{0,99}(?:[=<>]{1,2}[A-Za-z0-9.:~+_-]{1,64})?$/;
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;
export const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const FORBIDDEN_CLASSES = new Set<WriteClass>(['secret', 'access', 'boot', 'device', 'kernel-trigger', 'audit']);

export const refuse = (v: ModuleVerdict, message: string, check: ValidationCheck = 'module-allowlist'): void => {
  v.problems.push({ check, message });
};
const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => s.trim()) : [value];

export function checkNames(v: ModuleVerdict, value: unknown, pattern: RegExp, what: string): string[] {
  const names = asList(value);
  for (const name of names) if (typeof name !== 'string' || !pattern.test(name)) refuse(v, `${String(name)} is not a ${what} name`);
  return names.filter((n): n is string => typeof n === 'string');
}

/** A destination: absolute, literal, no `..`, and not of a class no template may write. */
export function checkPath(v: ModuleVerdict, ctx: ModuleContext, value: unknown, verb: string, removes = false): void {
  if (typeof value !== 'string' || !value.startsWith('/') || value.split('/').includes('..') || /[{}*?[\]\s]/.test(value)) {
    refuse(v, `${verb} ${JSON.stringify(value)}: the path must be absolute and literal (no variables, patterns or ..)`);
    return;
  }
  const path = value.replace(/\/+$/, '') || '/';
  if (removes && SYSTEM_ROOTS.test(path)) return refuse(v, `${verb} ${path}: a system path as a whole`);
  const secret = secretClass(path);
  const { cls, why } = secret
    ? { cls: 'secret' as const, why: `holds ${secret}` }
    : writeClassOf(path, { cwd: null, writable: ctx.writable });
  if (FORBIDDEN_CLASSES.has(cls)) return refuse(v, `${verb} ${path}, which ${why}`);
  if (cls !== 'writable') v.flags.push(`${verb} ${path}, which ${why}`);
}

export function checkMode(v: ModuleVerdict, mode: unknown): void {
  if (mode === undefined) return;
  // YAML 1.1 reads an unquoted 0644 as octal, and 644 as decimal (0o1204: the sticky bit).
  const text = typeof mode === 'number' ? mode.toString(8).padStart(4, '0') : String(mode);
  if (/^0?[0-7]{3}$/.test(text) || text === 'preserve') return;
  if (/^[0-7]{4}$/.test(text)) {
    if (text[0] !== '0') refuse(v, `mode ${text} sets setuid, setgid or sticky bits`);
    return;
  }
  if (/^[ugoa]*[-+=][rwxXst]*(?:,[ugoa]*[-+=][rwxXst]*)*$/.test(text)) {
    if (/[st]/.test(text)) refuse(v, `mode ${text} sets setuid, setgid or sticky bits`);
    return;
  }
  refuse(v, `mode ${text} is not a file mode`);
}

export function checkOwner(v: ModuleVerdict, args: Record<string, unknown>): void {
  for (const key of ['owner', 'group'] as const)
    if (args[key] !== undefined && (typeof args[key] !== 'string' || !ACCOUNT_NAME.test(args[key])))
      refuse(v, `${key} ${JSON.stringify(args[key])} is not an account name`);
}

export const stateIs = (args: Record<string, unknown>, ...states: string[]) =>
  typeof args.state === 'string' && states.includes(args.state);
