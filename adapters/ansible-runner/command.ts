import { RunnerInputError } from './port.js';

// What of the generated command line a runner passes on. The runner supplies the inventory, the
// playbook and the extra variables itself (from the artifacts, in its own workspace), and check
// mode comes from the run's `checkMode`; the other options of ansible-playbook that only narrow or
// describe a run are passed on, and any other option refuses the run (it could change what runs).

const FLAGS = new Set(['--diff', '-D', '--verbose', '-v', '-vv', '-vvv', '-vvvv', '--flush-cache', '--force-handlers']);
const WITH_VALUE = new Set(['--limit', '-l', '--forks', '-f', '--tags', '-t', '--skip-tags']);
/** Supplied by the runner: dropped, with their value. */
const SUPPLIED_WITH_VALUE = new Set(['-i', '--inventory', '--inventory-file', '-e', '--extra-vars']);
const CHECK = new Set(['--check', '-C']);

/** The ansible-playbook options to run with: the command's allowed options, then `--check --diff` in check mode. */
export function playbookOptions(command: readonly string[], checkMode: boolean): string[] {
  const options: string[] = [];
  for (let i = 0; i < command.length; i += 1) {
    const arg = command[i]!;
    const [name, inlineValue] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, null];
    if (CHECK.has(name)) continue;
    if (FLAGS.has(name)) {
      if (!options.includes(name)) options.push(name);
      continue;
    }
    if (SUPPLIED_WITH_VALUE.has(name)) {
      if (inlineValue === null) i += 1;
      continue;
    }
    if (WITH_VALUE.has(name)) {
      const value = inlineValue ?? command[i + 1];
      if (inlineValue === null) i += 1;
      if (value === undefined || value.startsWith('-')) throw new RunnerInputError(`The command's ${name} has no value.`);
      options.push(`${name}=${value}`);
      continue;
    }
    if (arg === 'ansible-playbook') continue;
    // The playbook file: the runner runs the artifacts' playbook whatever it is called.
    if (!arg.startsWith('-') && /\.ya?ml$/.test(arg)) continue;
    throw new RunnerInputError(
      `The command option '${arg}' is not one a runner passes on (allowed: ${[...FLAGS, ...WITH_VALUE].join(', ')}).`,
    );
  }
  if (checkMode) {
    options.push('--check');
    if (!options.includes('--diff') && !options.includes('-D')) options.push('--diff');
  }
  return options;
}

/** Every credential the hosts name has a key, and every key name can name a file (`<credential>.key`). */
export function checkKeys(hosts: readonly { tagId: string; credential: string }[], keys: Record<string, string>): void {
  for (const name of Object.keys(keys)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
      throw new RunnerInputError(`'${name}' cannot name a key file (letters, digits, '.', '_', '-').`);
  }
  for (const host of hosts) {
    if (!(host.credential in keys))
      throw new RunnerInputError(`No key was given for credential '${host.credential}' of host '${host.tagId}'.`);
  }
}
