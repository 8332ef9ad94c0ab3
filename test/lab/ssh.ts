import { run, type RunResult } from '../../lab/proc.js';

// The system OpenSSH client, as an operator would use it against a lab host.

export interface SshTarget {
  address: string;
  port: number;
}

export interface SshOptions {
  keyPath: string;
  /** A known_hosts file: host keys are then checked strictly; without it they are not checked. */
  knownHostsPath?: string;
  user?: string;
  timeoutMs?: number;
}

export function sshArgs(target: SshTarget, command: string, options: SshOptions): string[] {
  const hostKeys = options.knownHostsPath
    ? ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${options.knownHostsPath}`]
    : ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
  return [
    '-i',
    options.keyPath,
    '-p',
    String(target.port),
    ...hostKeys,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    '-F',
    '/dev/null',
    `${options.user ?? 'root'}@${target.address}`,
    '--',
    command,
  ];
}

/** Runs one command on the host over SSH; the exit code is the remote command's (255: ssh failed). */
export function ssh(target: SshTarget, command: string, options: SshOptions): Promise<RunResult> {
  return run('ssh', sshArgs(target, command, options), { timeoutMs: options.timeoutMs ?? 30_000 });
}
