import { setTimeout as delay } from 'node:timers/promises';
import { SshConnectionError, type CommandOutcome, type HostAccess, type RunOptions, type SshSession } from '../../adapters/ssh/port.js';
import type { CmdbItem } from '../../core/incident.js';

// A scripted stand-in for the SSH port, for the workflow tier: hosts are keyed by address, each
// answers commands from a script (exact text or pattern → outcome), records every command it ran
// with its times and the CMDB item it ran for, and can be switched unreachable. Replay is about
// determinism, so no real host (and no root) is needed to record the remediation histories.

export interface ScriptedOutcome {
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  /** How long the command runs before it answers (ms). */
  delayMs?: number;
  /** What the command does to the host once it has run (after the delay). */
  effect?: (host: FakeHost) => void;
  /** The connection drops once the command has run (recorded, then SshConnectionError). */
  dropConnection?: boolean;
}

export type Script = ScriptedOutcome | ((host: FakeHost) => ScriptedOutcome);

export interface CommandLogEntry {
  /** tagId of the CMDB item the session was opened for. */
  tagId: string;
  command: string;
  startedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  dropped: boolean;
}

export class FakeHost {
  /** connect() fails with SshConnectionError, as for a host that is down or firewalled. */
  unreachable = false;
  /** How long connect() takes. */
  connectDelayMs = 0;
  /** Free-form state scripts read and change (e.g. whether a service runs). */
  readonly flags = new Map<string, boolean>();
  readonly log: CommandLogEntry[] = [];
  connects = 0;
  private readonly scripts: { match: string | RegExp; script: Script; remaining: number }[] = [];

  constructor(readonly address: string) {}

  /** Answers `match` (exact command or pattern) with `script`; later rules win, `times` bounds a rule. */
  on(match: string | RegExp, script: Script, times = Infinity): this {
    this.scripts.unshift({ match, script, remaining: times });
    return this;
  }

  flag(name: string): boolean {
    return this.flags.get(name) ?? false;
  }

  /** Commands run so far (optionally only those matching `match`). */
  commands(match?: string | RegExp): CommandLogEntry[] {
    if (match === undefined) return [...this.log];
    return this.log.filter((e) => (typeof match === 'string' ? e.command === match : match.test(e.command)));
  }

  async run(tagId: string, command: string, options: RunOptions): Promise<CommandOutcome> {
    const rule = this.scripts.find((s) => s.remaining > 0 && (typeof s.match === 'string' ? s.match === command : s.match.test(command)));
    if (rule) rule.remaining -= 1;
    const entry: CommandLogEntry = { tagId, command, startedAt: Date.now(), finishedAt: null, exitCode: null, dropped: false };
    this.log.push(entry);
    const scripted = rule ? (typeof rule.script === 'function' ? rule.script(this) : rule.script) : null;
    const outcome = scripted ?? { exitCode: 127, stderr: `sh: 1: ${command.split(' ')[0]}: not found` };
    const waited = Math.min(outcome.delayMs ?? 0, options.timeoutMs);
    if (waited > 0) await delay(waited);
    entry.finishedAt = Date.now();
    outcome.effect?.(this);
    if (outcome.dropConnection) {
      entry.dropped = true;
      throw new SshConnectionError(`Connection to ${this.address} lost while running '${command}' (fake host)`);
    }
    const timedOut = (outcome.delayMs ?? 0) > options.timeoutMs;
    entry.exitCode = timedOut ? null : (outcome.exitCode ?? 0);
    return {
      command,
      exitCode: entry.exitCode,
      signal: timedOut ? 'KILL' : null,
      stdout: outcome.stdout ?? '',
      stderr: outcome.stderr ?? '',
      truncated: false,
      timedOut,
      durationMs: entry.finishedAt - entry.startedAt,
    };
  }
}

/** The HostAccess port over fake hosts, one per address (created on first use). */
export class FakeHostAccess implements HostAccess {
  private readonly hosts = new Map<string, FakeHost>();

  host(address: string): FakeHost {
    let host = this.hosts.get(address);
    if (!host) {
      host = new FakeHost(address);
      this.hosts.set(address, host);
    }
    return host;
  }

  async connect(_tenantId: string, item: CmdbItem): Promise<SshSession> {
    const host = this.host(item.address);
    host.connects += 1;
    if (host.connectDelayMs > 0) await delay(host.connectDelayMs);
    if (host.unreachable) throw new SshConnectionError(`connect ECONNREFUSED ${item.address}:${item.port} (fake host)`);
    let open = true;
    return {
      hostKeyFingerprint: 'SHA256:fake-host-key',
      async run(commands, options) {
        if (!open) throw new SshConnectionError('session closed');
        const limit = Math.max(1, options.concurrency ?? 1);
        const outcomes: CommandOutcome[] = new Array<CommandOutcome>(commands.length);
        let next = 0;
        const lanes = Array.from({ length: Math.min(limit, commands.length) }, async () => {
          while (next < commands.length) {
            const i = next++;
            outcomes[i] = await host.run(item.tagId, commands[i]!, options);
          }
        });
        await Promise.all(lanes);
        return outcomes;
      },
      close() {
        open = false;
      },
    };
  }
}

/**
 * Scripts a supervisor-managed service on a fake host the way the bundled runbooks look at it:
 * `supervisorctl status`, its guard (`… | grep -q RUNNING`), start/restart, and its stderr tail.
 */
export function scriptSupervisorService(
  host: FakeHost,
  service: string,
  opts: { running?: boolean; startDelayMs?: number; startFixes?: boolean; tail?: string } = {},
): void {
  const key = `${service}:running`;
  host.flags.set(key, opts.running ?? false);
  const status = (h: FakeHost) => ({
    exitCode: h.flag(key) ? 0 : 3,
    stdout: h.flag(key)
      ? `${service}                          RUNNING   pid 4711, uptime 0:00:05`
      : `${service}                          STOPPED   Dec 02 10:00 AM`,
  });
  host.on(`supervisorctl status ${service}`, status);
  host.on(`supervisorctl status ${service} | grep -q RUNNING`, (h) => ({ exitCode: h.flag(key) ? 0 : 1 }));
  host.on(`supervisorctl tail ${service} stderr`, { stdout: opts.tail ?? `${service} exited: worker finished (exit status 0)` });
  const start: ScriptedOutcome = {
    stdout: `${service}: started`,
    delayMs: opts.startDelayMs ?? 0,
    effect: (h) => {
      if (opts.startFixes !== false) h.flags.set(key, true);
    },
  };
  host.on(new RegExp(`^supervisorctl (?:start|restart) ${service}$`), start);
  host.on(new RegExp(`; supervisorctl (?:start|restart) ${service}$`), start);
}
