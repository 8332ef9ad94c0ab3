import type { CmdbItem } from '../../core/incident.js';

// The remote-execution port: how activities reach a host and what a command run there returns.
// No vendor SDK here: activities and the API import this file; ssh-executor.ts holds ssh2.

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  passphrase?: string | null | undefined;
}

export interface CommandOutcome {
  command: string;
  /** Null when the command was killed (timeout) or the channel closed without a status. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when output beyond the cap was dropped. */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  /** Commands in flight at once on the connection (OpenSSH allows 10 sessions by default). */
  concurrency?: number;
}

/** Verifies a host key before any command runs; throws HostKeyMismatchError to refuse. */
export type HostKeyVerifier = (
  host: string,
  port: number,
  keyType: string,
  fingerprint: string,
  /** The key itself, base64 of its SSH wire format (kept for a runner's known_hosts). */
  publicKey?: string,
) => Promise<void>;

export class HostKeyMismatchError extends Error {
  override readonly name = 'HostKeyMismatchError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly expected: string,
    readonly presented: string,
  ) {
    super(
      `Host key of ${host}:${port} changed: expected ${expected}, the host presented ${presented}. Nothing was run. If the change is legitimate, forget the old key (DELETE /api/v1/credentials/host-keys/${host}?port=${port}).`,
    );
  }
}

/** The host refused the credential: retrying will not help. */
export class SshAuthenticationError extends Error {
  override readonly name = 'SshAuthenticationError';
}

/** The host could not be reached or the connection dropped: worth retrying. */
export class SshConnectionError extends Error {
  override readonly name: string = 'SshConnectionError';
}

/**
 * No channel could be opened, so none of the batch's commands started: the connection is gone
 * (a reused one died while idle). Safe to run the same batch again on a fresh connection.
 */
export class SshChannelOpenError extends SshConnectionError {
  override readonly name = 'SshChannelOpenError';
}

export interface SshSession {
  /** The host key fingerprint the host presented (after verification). */
  readonly hostKeyFingerprint: string;
  run(commands: readonly string[], options: RunOptions): Promise<CommandOutcome[]>;
  close(): void;
}

/** The CMDB item names no credential, or a credential that does not exist (any more). */
export class CredentialNotFoundError extends Error {
  override readonly name = 'CredentialNotFoundError';
}

/**
 * How activities reach a host: the CMDB item's credential, revealed only inside the activity.
 * A session's close() gives it back; an implementation may keep the connection for the next step.
 */
export interface HostAccess {
  connect(tenantId: string, item: CmdbItem): Promise<SshSession>;
  /** Ends the connections kept for reuse (worker shutdown); implementations that keep none omit it. */
  close?(): Promise<void>;
}
