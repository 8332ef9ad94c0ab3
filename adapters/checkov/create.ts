import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProvisionFile, ProvisionPolicyFinding } from '../../core/provisioning/types.js';
import { runCheckov, type CheckovOptions } from './checkov.js';

// Checkov (PyPI) over generated Terraform, when it is installed: INFRAAI_CHECKOV=auto takes the
// project's own .data/checkov-venv (made by `npm install`), else `checkov` on PATH, else none;
// `off` never runs it; anything else is the executable's path.

export { CheckovFailed } from './checkov.js';

export type CheckovRunner = (files: readonly ProvisionFile[]) => Promise<ProvisionPolicyFinding[]>;

function answers(executable: string): Promise<boolean> {
  return new Promise((done) => execFile(executable, ['--version'], { timeout: 60_000 }, (err) => done(!err)));
}

/** The runner the setting names, or null when Checkov is off or not installed (`auto`). */
export async function createCheckovRunner(
  setting: string,
  options: Omit<CheckovOptions, 'executable'> = {},
): Promise<CheckovRunner | null> {
  if (setting === 'off') return null;
  let executable: string | null = setting;
  if (setting === 'auto') {
    const venv = resolve(process.env.INFRAAI_CHECKOV_VENV ?? '.data/checkov-venv', 'bin', 'checkov');
    executable = existsSync(venv) ? venv : (await answers('checkov')) ? 'checkov' : null;
  }
  if (!executable) return null;
  const chosen = executable;
  return (files) => runCheckov(files, { ...options, executable: chosen });
}
