import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutomationArtifacts, ValidationFinding } from '../../core/automation.js';
import { INVENTORY_FILE, PLAYBOOK_FILE, VARIABLES_FILE } from '../../core/automation/inventory.js';
import { taskAtLine } from '../../core/automation/locate.js';
import { PlaybookCheckerUnavailableError, PlaybookCheckFailedError, PlaybookCheckTimeoutError, type PlaybookChecker } from './port.js';

// Debian's ansible-playbook (--syntax-check) and ansible-lint over a run's artifacts, in a fresh
// private directory (0700, files 0600) removed afterwards, with a clean environment (no inherited
// ANSIBLE_* settings, no ansible.cfg but an empty one of ours, HOME inside the directory), a time
// limit that stops the whole process group, and output parsed into findings tied to tasks.
//
// Lint profile: `production` (ansible-lint 6.13's strictest; it includes `safety`), offline. The one
// rule downgraded to a warning is `package-latest`: an explicit "upgrade X" request asks for the
// latest version, which is what the package-latest template does. Warnings never block a run.

export const LINT_PROFILE = 'production';
export const LINT_WARN_ONLY = ['package-latest'] as const;

export interface LocalPlaybookCheckerOptions {
  ansiblePlaybook?: string;
  ansibleLint?: string;
  syntaxTimeoutMs?: number;
  lintTimeoutMs?: number;
  profile?: string;
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 2 * 1024 * 1024;
const KILL_GRACE_MS = 2_000;

export class LocalPlaybookChecker implements PlaybookChecker {
  private readonly ansiblePlaybook: string;
  private readonly ansibleLint: string;
  private readonly syntaxTimeoutMs: number;
  private readonly lintTimeoutMs: number;
  private readonly profile: string;

  constructor(options: LocalPlaybookCheckerOptions = {}) {
    this.ansiblePlaybook = options.ansiblePlaybook ?? '/usr/bin/ansible-playbook';
    this.ansibleLint = options.ansibleLint ?? '/usr/bin/ansible-lint';
    this.syntaxTimeoutMs = options.syntaxTimeoutMs ?? 60_000;
    this.lintTimeoutMs = options.lintTimeoutMs ?? 180_000;
    this.profile = options.profile ?? LINT_PROFILE;
  }

  async syntaxCheck(artifacts: AutomationArtifacts): Promise<ValidationFinding[]> {
    const args = ['--syntax-check', '-i', INVENTORY_FILE, PLAYBOOK_FILE, '--extra-vars', `@${VARIABLES_FILE}`];
    const result = await this.inWorkspace(artifacts, (work, env) => run(this.ansiblePlaybook, args, work, env, this.syntaxTimeoutMs));
    if (result.code === 0) return [];
    const output = `${result.stderr}\n${result.stdout}`;
    if (/Traceback \(most recent call last\)/.test(output) && !/ERROR!/.test(output))
      throw new PlaybookCheckFailedError('ansible-playbook', `ansible-playbook crashed: ${lastLines(output)}`);
    return syntaxFindings(output, artifacts.playbook);
  }

  async lint(artifacts: AutomationArtifacts): Promise<ValidationFinding[]> {
    const args = [
      '--offline',
      '--nocolor',
      '-f',
      'codeclimate',
      '--profile',
      this.profile,
      ...LINT_WARN_ONLY.flatMap((r) => ['-w', r]),
      PLAYBOOK_FILE,
    ];
    const result = await this.inWorkspace(artifacts, (work, env) => run(this.ansibleLint, args, work, env, this.lintTimeoutMs));
    // 0: passed; 2: rule violations. Anything else is the tool failing, not the playbook.
    if (result.code !== 0 && result.code !== 2)
      throw new PlaybookCheckFailedError(
        'ansible-lint',
        `ansible-lint exited ${result.code}: ${lastLines(result.stderr || result.stdout)}`,
      );
    return lintFindings(result.stdout, artifacts.playbook);
  }

  private async inWorkspace(
    artifacts: AutomationArtifacts,
    body: (work: string, env: NodeJS.ProcessEnv) => Promise<ProcessResult>,
  ): Promise<ProcessResult> {
    const dir = await mkdtemp(join(tmpdir(), 'infraai-playbook-check-'));
    try {
      await chmod(dir, 0o700);
      const work = join(dir, 'work');
      const home = join(dir, 'home');
      await mkdir(work, { mode: 0o700 });
      await mkdir(join(home, 'tmp'), { mode: 0o700, recursive: true });
      await writeFile(join(work, PLAYBOOK_FILE), artifacts.playbook, { mode: 0o600 });
      await writeFile(join(work, INVENTORY_FILE), artifacts.inventory, { mode: 0o600 });
      await writeFile(join(work, VARIABLES_FILE), JSON.stringify(artifacts.variables), { mode: 0o600 });
      await writeFile(join(home, 'ansible.cfg'), '', { mode: 0o600 });
      return await body(work, cleanEnv(home));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Only what the tools need: nothing of this process's environment (keys, ANSIBLE_* overrides) leaks in. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    NO_COLOR: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_CONFIG: join(home, 'ansible.cfg'),
    ANSIBLE_HOME: join(home, '.ansible'),
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_DEPRECATION_WARNINGS: '0',
  };
}

function run(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tool = program.split('/').at(-1)!;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new PlaybookCheckerUnavailableError(tool, `${program} is not installed (Debian: apt-get install ansible ansible-lint)`)
          : new PlaybookCheckFailedError(tool, `${tool} could not start: ${err.message}`),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (timedOut) reject(new PlaybookCheckTimeoutError(tool, timeoutMs));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** `ERROR! <message>` then `… line N, column M …`: one finding per error, tied to the task at line N. */
export function syntaxFindings(output: string, playbook: string): ValidationFinding[] {
  const findings: ValidationFinding[] = [];
  const blocks = output.split(/^(?=ERROR! )/m).filter((b) => b.startsWith('ERROR! '));
  for (const block of blocks) {
    const message = block.slice('ERROR! '.length).split('\n')[0]!.trim();
    const line = /line (\d+), column \d+/.exec(block)?.[1];
    findings.push({ check: 'syntax-check', task: line ? taskAtLine(playbook, Number(line)) : null, message });
  }
  if (findings.length === 0)
    findings.push({ check: 'syntax-check', task: null, message: lastLines(output) || 'ansible-playbook --syntax-check failed' });
  return findings;
}

interface CodeClimateIssue {
  check_name?: string;
  description?: string;
  level?: string;
  severity?: string;
  location?: { path?: string; lines?: { begin?: number }; positions?: { begin?: { line?: number } } };
}

/** ansible-lint's codeclimate JSON: failures (level error) become findings; warnings do not block. */
export function lintFindings(stdout: string, playbook: string): ValidationFinding[] {
  const start = stdout.indexOf('[');
  let issues: CodeClimateIssue[];
  try {
    issues = start < 0 ? [] : (JSON.parse(stdout.slice(start)) as CodeClimateIssue[]);
  } catch {
    throw new PlaybookCheckFailedError('ansible-lint', `ansible-lint output is not codeclimate JSON: ${lastLines(stdout)}`);
  }
  if (!Array.isArray(issues)) throw new PlaybookCheckFailedError('ansible-lint', 'ansible-lint output is not a list of issues');
  return issues
    .filter((issue) => issue.level !== 'warning')
    .map((issue) => {
      const line = issue.location?.lines?.begin ?? issue.location?.positions?.begin?.line;
      const file = issue.location?.path && issue.location.path !== PLAYBOOK_FILE ? ` (${issue.location.path})` : '';
      return {
        check: 'ansible-lint' as const,
        task: line && !file ? taskAtLine(playbook, line) : null,
        message: `${issue.check_name ?? 'lint'}: ${issue.description ?? 'rule failed'}${file}`,
      };
    });
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
