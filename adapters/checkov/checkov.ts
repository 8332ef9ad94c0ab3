import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { ProvisionFile, ProvisionPolicyFinding } from '../../core/provisioning/types.js';

// Checkov (PyPI) over the generated files, as a second opinion beside the declared rules: its failed
// checks become findings (`source: 'checkov'`), warnings unless the caller raises a check to an
// error. The files are written to a temporary directory with their repository paths, so a finding
// names the same path as the rules' findings. The executable is found by the caller (the worker's
// configuration, or .data/checkov-venv from `npm install`).

const DEFAULT_TIMEOUT_MS = 180_000;

export interface CheckovOptions {
  /** Path of the `checkov` executable. */
  executable: string;
  timeoutMs?: number;
  /** Check ids whose failure is an error (blocks the pull request); every other failure is a warning. */
  errorChecks?: readonly string[];
  /** Check ids not run at all (`--skip-check`). */
  skipChecks?: readonly string[];
}

/** Checkov could not run or its output could not be read (not a policy result). */
export class CheckovFailed extends Error {
  override readonly name = 'CheckovFailed';
}

const FailedCheck = z.looseObject({
  check_id: z.string(),
  check_name: z.string(),
  file_path: z.string(),
  file_line_range: z.tuple([z.number(), z.number()]).nullish(),
  resource: z.string().nullish(),
  guideline: z.string().nullish(),
});
const Report = z.looseObject({
  check_type: z.string().optional(),
  results: z.looseObject({ failed_checks: z.array(FailedCheck) }).optional(),
  summary: z.looseObject({ parsing_errors: z.number().optional() }).optional(),
});
const Output = z.union([z.array(Report), Report]);

function run(
  executable: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; error: Error | null }> {
  return new Promise((resolve) => {
    execFile(
      executable,
      args,
      {
        encoding: 'utf8',
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', LOG_LEVEL: 'ERROR' },
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, error }),
    );
  });
}

/** Runs `checkov -d <dir> -o json --compact --quiet` over the files; failed checks as findings. */
export async function runCheckov(files: readonly ProvisionFile[], options: CheckovOptions): Promise<ProvisionPolicyFinding[]> {
  const root = await mkdtemp(join(tmpdir(), 'infraai-checkov-'));
  try {
    for (const file of files) {
      const path = join(root, file.path);
      if (!path.startsWith(`${root}/`)) throw new CheckovFailed(`refusing a file outside the work directory: ${file.path}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
    }
    const args = ['-d', root, '-o', 'json', '--compact', '--quiet', '--soft-fail', '--skip-download', '--framework', 'terraform'];
    if (options.skipChecks?.length) args.push('--skip-check', options.skipChecks.join(','));
    const result = await run(options.executable, args, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (result.error && !result.stdout.trim())
      throw new CheckovFailed(
        `checkov failed (exit ${String(result.code)}): ${(result.stderr || result.error.message).trim().split('\n').slice(-3).join(' | ')}`,
      );
    let json: unknown;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      throw new CheckovFailed(`checkov printed no JSON: ${result.stdout.slice(0, 300)}`);
    }
    const parsed = Output.safeParse(json);
    if (!parsed.success) throw new CheckovFailed(`unexpected checkov output: ${parsed.error.issues[0]?.message ?? ''}`);
    const reports = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    const errors = new Set(options.errorChecks ?? []);
    const known = new Map(files.map((f) => [f.path, f.path]));
    return reports.flatMap((report) =>
      (report.results?.failed_checks ?? []).map((check) => {
        const relative = check.file_path.replace(/^\/+/, '');
        return {
          rule: check.check_id,
          source: 'checkov' as const,
          severity: errors.has(check.check_id) ? ('error' as const) : ('warning' as const),
          file: known.get(relative) ?? relative,
          line: check.file_line_range?.[0] ?? null,
          resource: check.resource ?? null,
          message: check.guideline ? `${check.check_name} (${check.guideline})` : check.check_name,
        };
      }),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
