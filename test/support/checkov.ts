import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Checkov (PyPI) in a virtual environment of its own, made on first use from the pinned requirements
// file; the provisioning policy runs it over generated Terraform. INFRAAI_CHECKOV_VENV moves the
// environment. Measured here: `pip install checkov` takes about 35 s (≈290 MB).

const REQUIREMENTS = fileURLToPath(new URL('./checkov/requirements.txt', import.meta.url));
export const CHECKOV_VENV = resolve(process.env.INFRAAI_CHECKOV_VENV ?? '.data/checkov-venv');
export const CHECKOV_EXECUTABLE = join(CHECKOV_VENV, 'bin', 'checkov');
const PINNED = /^checkov==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1];

function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolveRun({ ok: !err, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` });
    });
  });
}

/** The checkov executable at the pinned version, installing it when missing; or why it cannot be had. */
export async function ensureCheckov(): Promise<{ executable: string; installed: boolean } | { error: string }> {
  const version = () => run(CHECKOV_EXECUTABLE, ['--version'], 120_000);
  if (existsSync(CHECKOV_EXECUTABLE) && (await version()).output.trim() === PINNED)
    return { executable: CHECKOV_EXECUTABLE, installed: false };
  if (!existsSync(join(CHECKOV_VENV, 'bin', 'python'))) {
    const made = await run('python3', ['-m', 'venv', CHECKOV_VENV], 120_000);
    if (!made.ok) return { error: `python3 -m venv ${CHECKOV_VENV} failed:\n${made.output.slice(-2000)}` };
  }
  const installed = await run(join(CHECKOV_VENV, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '-r', REQUIREMENTS], 10 * 60_000);
  if (!installed.ok) return { error: `pip install -r ${REQUIREMENTS} failed:\n${installed.output.slice(-2000)}` };
  const check = await version();
  if (check.output.trim() !== PINNED) return { error: `checkov --version said: ${check.output.trim()}` };
  return { executable: CHECKOV_EXECUTABLE, installed: true };
}
