import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Schemathesis (PyPI) in a virtual environment of its own, made on first use from the pinned
// requirements file next to its configuration. INFRAAI_SCHEMATHESIS_VENV moves the environment.

const HERE = fileURLToPath(new URL('./schemathesis/', import.meta.url));
export const SCHEMATHESIS_CONFIG = join(HERE, 'schemathesis.toml');
const REQUIREMENTS = join(HERE, 'requirements.txt');
const VENV = resolve(process.env.INFRAAI_SCHEMATHESIS_VENV ?? '.data/schemathesis-venv');
const PINNED = /^schemathesis==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1];

/** Runs a command without blocking the test process (vitest talks to its workers meanwhile). */
function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolveRun({ ok: !err, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` });
    });
  });
}

/**
 * The schemathesis executable at the pinned version, installing it when missing (npm install's
 * setup step does so ahead of time); or why it cannot be had.
 */
export async function ensureSchemathesis(): Promise<{ executable: string; installed: boolean } | { error: string }> {
  const executable = join(VENV, 'bin', 'schemathesis');
  const version = () => run(executable, ['--version'], 60_000);
  if (existsSync(executable) && (await version()).output.includes(`version ${PINNED}`)) return { executable, installed: false };
  if (!existsSync(join(VENV, 'bin', 'python'))) {
    const made = await run('python3', ['-m', 'venv', VENV], 120_000);
    if (!made.ok) return { error: `python3 -m venv ${VENV} failed:\n${made.output.slice(-2000)}` };
  }
  const installed = await run(join(VENV, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '-r', REQUIREMENTS], 10 * 60_000);
  if (!installed.ok) return { error: `pip install -r ${REQUIREMENTS} failed:\n${installed.output.slice(-2000)}` };
  const check = await version();
  if (!check.output.includes(`version ${PINNED}`)) return { error: `schemathesis --version said: ${check.output.trim()}` };
  return { executable, installed: true };
}

/** Runs schemathesis to the end (its exit status is read from the report, not from here). */
export function runSchemathesis(
  executable: string,
  args: string[],
  options: { cwd: string; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(executable, args, {
      // Anything it writes beside its reports stays out of the work tree.
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false', PYTHONUNBUFFERED: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}
