import { createHash } from 'node:crypto';
import type { AutomationToolkit } from '../../activities/automation/deps.js';
import type { AnsibleRunner, RunHooks, RunnerEventPage, RunnerInput, RunnerOutcome } from '../../adapters/ansible-runner/port.js';
import type { CredentialVault, SshCredential } from '../../adapters/secrets/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { AutomationArtifacts, AutomationHost, ValidationFinding } from '../../core/automation.js';

// Fakes of the automation toolkit for the workflow and API tiers: a generator that writes a small
// playbook from the request (or understands nothing of a request with "gibberish"), validators that
// find what the request's words plant in the playbook, and a runner that records every call and
// behaves as the playbook says ("slow": runs until released or aborted; "norecap": no final stats;
// "fails": a host fails).

export function fakeArtifacts(request: string, hosts: AutomationHost[], checkMode: boolean): AutomationArtifacts {
  return {
    playbook: `- hosts: all\n  tasks:\n    - name: ${request}\n      ansible.builtin.package: { name: nginx, state: present }\n`,
    inventory: `all:\n  hosts:\n${hosts.map((h) => `    ${h.tagId}: { ansible_host: ${h.address}, ansible_port: ${h.port} }`).join('\n')}\n`,
    variables: {},
    collections: [],
    command: ['-i', 'inventory.yml', 'playbook.yml', ...(checkMode ? ['--check', '--diff'] : [])],
    hosts,
  };
}

export interface FakeRunnerCall {
  input: RunnerInput;
  aborted: boolean;
  finished: boolean;
}

export class FakeAnsibleRunner implements AnsibleRunner {
  readonly kind = 'local' as const;
  readonly calls: FakeRunnerCall[] = [];
  /** Each execution's log lines, paged by readEvents as the real runners page their events. */
  private readonly logs = new Map<string, string[]>();
  readonly cleaned: string[] = [];
  /** Executions started per run key: a re-attaching retry starts none. */
  readonly executions = new Map<string, number>();
  private readonly releases = new Map<string, () => void>();
  /** Lines of the log each run writes. */
  logLines = 120;

  /** Lets a "slow" run with this key finish successfully. */
  release(runKey: string): void {
    this.releases.get(runKey)?.();
  }

  callsOf(runKey: string): FakeRunnerCall[] {
    return this.calls.filter((c) => c.input.runKey === runKey);
  }

  async run(input: RunnerInput, hooks: RunHooks): Promise<RunnerOutcome> {
    const call: FakeRunnerCall = { input, aborted: false, finished: false };
    this.calls.push(call);
    const playbook = input.artifacts.playbook;
    const earlier = this.callsOf(input.runKey).length - 1;
    if (playbook.includes('unreachable-runner')) throw new Error('the runner does not answer');
    // "flaky": the first attempt starts the execution and then loses its connection to it; a retry
    // with the same key finds that execution (as the real runners do) instead of starting another.
    if (playbook.includes('flaky') && earlier === 0) {
      this.executions.set(input.runKey, (this.executions.get(input.runKey) ?? 0) + 1);
      throw new Error('lost the connection to the runner after the start');
    }
    const reattached = playbook.includes('flaky') && (this.executions.get(input.runKey) ?? 0) > 0;
    if (!reattached) this.executions.set(input.runKey, (this.executions.get(input.runKey) ?? 0) + 1);
    const hosts = input.artifacts.hosts.map((h) => h.tagId);
    // The first line leaks what a careless task prints: a password and the run's own key.
    const log = Array.from({ length: this.logLines }, (_, i) =>
      i === 0 ? `event 1: password=hunter2 key=${Object.values(input.keys)[0] ?? ''}` : `event ${i + 1}: TASK [install] ok`,
    );
    this.logs.set(input.runKey, log);
    const finish = (fields: Omit<RunnerOutcome, 'runKey' | 'logTail' | 'eventCount' | 'detail'>): RunnerOutcome => {
      const lines = this.logs.get(input.runKey) ?? [];
      return { runKey: input.runKey, ...fields, logTail: lines.slice(-5).join('\n'), eventCount: lines.length, detail: null };
    };
    const progress = { tasksDone: 1, tasksTotal: 2, currentTask: 'install', events: 3 };
    hooks.onProgress(progress);
    if (playbook.includes('slow')) {
      let tick: NodeJS.Timeout | undefined;
      const outcome = await new Promise<'released' | 'aborted'>((resolve) => {
        this.releases.set(input.runKey, () => resolve('released'));
        if (hooks.signal.aborted) resolve('aborted');
        hooks.signal.addEventListener('abort', () => resolve('aborted'));
        tick = setInterval(() => hooks.onProgress({ ...progress, events: progress.events + 1 }), 500);
      });
      clearInterval(tick);
      if (outcome === 'aborted') {
        call.aborted = true;
        log.push('INTERRUPTED');
        return finish({ status: 'cancelled', exitCode: null, recap: null, progress, reattached: false });
      }
    }
    call.finished = true;
    const recap = Object.fromEntries(
      hosts.map((h) => [
        h,
        {
          ok: 2,
          changed: input.checkMode ? 0 : 1,
          unreachable: 0,
          failed: playbook.includes('fails') ? 1 : 0,
          skipped: 0,
          rescued: 0,
          ignored: 0,
        },
      ]),
    );
    return finish({
      status: playbook.includes('fails') ? 'failed' : 'successful',
      exitCode: playbook.includes('fails') ? 2 : 0,
      recap: playbook.includes('norecap') ? null : recap,
      progress: { tasksDone: 2, tasksTotal: 2, currentTask: null, events: 6 },
      reattached,
    });
  }

  async readEvents(runKey: string, cursor: string | null, limit: number): Promise<RunnerEventPage> {
    const lines = this.logs.get(runKey) ?? [];
    const from = cursor ? Number(cursor) : 0;
    const page = lines.slice(from, from + limit);
    return {
      events: page.map((stdout, i) => ({
        seq: from + i + 1,
        type: 'verbose',
        uuid: null,
        created: null,
        play: null,
        task: null,
        host: null,
        stdout,
        changed: null,
        failed: null,
      })),
      cursor: String(from + page.length),
      end: from + page.length >= lines.length,
    };
  }

  async cleanup(runKey: string): Promise<void> {
    this.cleaned.push(runKey);
  }
}

export function hashArtifacts(artifacts: AutomationArtifacts): string {
  return createHash('sha256').update(JSON.stringify(artifacts)).digest('hex');
}

export function fakeToolkit(runner: FakeAnsibleRunner): AutomationToolkit {
  const toolkit: AutomationToolkit = {
    precheck: (request, hosts, options) =>
      toolkit.generate(request, hosts, options) as ReturnType<NonNullable<AutomationToolkit['precheck']>>,
    generate(request, hosts, { checkMode }) {
      if (/gibberish/i.test(request))
        return { ok: false, understood: { hosts: hosts.map((h) => h.tagId).join(',') }, message: 'No template matches the request.' };
      return {
        ok: true,
        artifacts: fakeArtifacts(request, hosts, checkMode),
        generation: { source: 'template', template: 'package-present', understood: { package: 'nginx' }, summary: request },
      };
    },
    validateStatic(artifacts) {
      const findings: ValidationFinding[] = [];
      if (artifacts.playbook.includes('shell'))
        findings.push({ check: 'module-allowlist', task: 'play[0].tasks[0]', message: 'shell is not on the allowlist' });
      return findings;
    },
    checker: {
      async syntaxCheck(artifacts) {
        return artifacts.playbook.includes('syntax-error')
          ? [{ check: 'syntax-check', task: null, message: 'ERROR! this task has extra params' }]
          : [];
      },
      async lint() {
        return [];
      },
    },
    hash: hashArtifacts,
    runner,
  };
  return toolkit;
}

/** A vault that reveals a made-up key for any credential name but `missing-key`. */
export function fakeVault(): CredentialVault {
  const reveal = async (_tenantId: string, name: string): Promise<SshCredential | null> =>
    name === 'missing-key'
      ? null
      : {
          name,
          username: 'ops',
          keyType: 'ssh-ed25519',
          fingerprint: 'SHA256:fake',
          createdAt: new Date().toISOString(),
          privateKey: `-----KEY ${name}-----`,
          passphrase: null,
        };
  return {
    kind: 'fake',
    put: () => Promise.reject(new Error('not in the fake')),
    list: async () => [],
    reveal,
    delete: async () => false,
  };
}

/** A CMDB item with a user and credential, and a trusted host key (with its public key) for its address. */
export async function addAutomationHost(
  store: Store,
  tenantId: string,
  tagId: string,
  address: string,
  extra: { sshUser?: string | null; sshCredential?: string | null } = {},
): Promise<void> {
  await store.cmdb.create(tenantId, {
    tagId,
    instanceId: `i-${tagId}`,
    hostname: `${tagId}.lab.internal`,
    address,
    port: 22,
    environment: 'staging',
    owner: 'sre',
    os: 'linux',
    serviceManager: 'systemd',
    sshUser: extra.sshUser === undefined ? 'ops' : extra.sshUser,
    sshCredential: extra.sshCredential === undefined ? 'ops-key' : extra.sshCredential,
    description: null,
    tags: {},
  });
  await store.hostKeys.trustOnFirstUse({
    tenantId,
    host: address,
    port: 22,
    keyType: 'ssh-ed25519',
    fingerprint: `SHA256:${tagId}`,
    publicKey: Buffer.from(`key-of-${tagId}`).toString('base64'),
  });
}
