import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Event-Driven Ansible for the ingress benchmark: ansible-rulebook and drools-jpy from PyPI (pinned
// in bench/eda/requirements.txt) in a virtual environment of its own, .data/eda-venv
// (INFRAAI_EDA_VENV moves it), run on the machine's Java 17. scripts/setup.ts installs it after
// `npm install`; bench/eda.ts installs it too when it is missing.

const REQUIREMENTS = fileURLToPath(new URL('./eda/requirements.txt', import.meta.url));
export const EDA_VENV = resolve(process.env.INFRAAI_EDA_VENV ?? '.data/eda-venv');
const PINNED = /^ansible-rulebook==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1];
const JAVA = '/usr/bin/java';
const JAVA_MAJOR = 17;

function run(command: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      resolveRun({ ok: !err, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` });
    });
  });
}

/**
 * JAVA_HOME of the machine's Java 17 (what /usr/bin/java resolves to, e.g. /usr/lib/jvm/java-17-openjdk-amd64),
 * or why there is none. jpy loads libjvm.so from JAVA_HOME; another JDK on the machine is not used.
 */
export function java17Home(): { home: string } | { error: string } {
  if (!existsSync(JAVA)) return { error: `${JAVA} is missing (apt-get install openjdk-17-jre-headless)` };
  const home = dirname(dirname(realpathSync(JAVA)));
  let release = '';
  try {
    release = readFileSync(join(home, 'release'), 'utf8');
  } catch {
    return { error: `${JAVA} resolves to ${home}, which has no release file to tell its version` };
  }
  const version = /^JAVA_VERSION="(\d+)/m.exec(release)?.[1];
  if (Number(version) !== JAVA_MAJOR)
    return { error: `${JAVA} is Java ${version ?? '?'} (${home}); ansible-rulebook here runs on ${JAVA_MAJOR}` };
  return { home };
}

export interface EdaInstallation {
  /** .data/eda-venv/bin/ansible-rulebook */
  executable: string;
  venv: string;
  javaHome: string;
  /** From ansible-rulebook --version. */
  versions: { ansibleRulebook: string; droolsJpy: string; java: string };
  installed: boolean;
}

/** ansible-rulebook at the pinned version with drools-jpy, installing them when missing; or why it cannot be had. */
export async function ensureEda(): Promise<EdaInstallation | { error: string }> {
  const java = java17Home();
  if ('error' in java) return java;
  const executable = join(EDA_VENV, 'bin', 'ansible-rulebook');
  const python = join(EDA_VENV, 'bin', 'python');
  const env = { ...process.env, JAVA_HOME: java.home };
  const version = async () => (await run(executable, ['--version'], 120_000, env)).output.trim();
  const matches = (text: string) =>
    PINNED !== undefined && text.includes(`ansible-rulebook [${PINNED}]`) && /Drools_jpy version/.test(text);
  let installed = false;
  let text = existsSync(executable) ? await version() : '';
  if (!matches(text)) {
    if (!existsSync(python)) {
      const made = await run('python3', ['-m', 'venv', EDA_VENV], 120_000);
      if (!made.ok) return { error: `python3 -m venv ${EDA_VENV} failed:\n${made.output.slice(-2000)}` };
    }
    const pip = await run(python, ['-m', 'pip', 'install', '-q', '-r', REQUIREMENTS], 10 * 60_000);
    if (!pip.ok) return { error: `pip install -r ${REQUIREMENTS} failed:\n${pip.output.slice(-2000)}` };
    installed = true;
    text = await version();
    if (!matches(text)) return { error: `ansible-rulebook ${PINNED} with drools_jpy expected, --version says:\n${text.slice(-2000)}` };
  }
  const field = (pattern: RegExp) => pattern.exec(text)?.[1] ?? 'unknown';
  return {
    executable,
    venv: EDA_VENV,
    javaHome: java.home,
    versions: {
      ansibleRulebook: field(/ansible-rulebook \[([^\]]+)\]/),
      droolsJpy: field(/Drools_jpy version = (\S+)/),
      java: field(/Java version = (\S+)/),
    },
    installed,
  };
}
