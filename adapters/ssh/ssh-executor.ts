import { Client, type ConnectConfig } from 'ssh2';
import { sshFingerprint, sshKeyType } from '../secrets/ssh-keys.js';
import type { HostKeyRepository } from '../store/port.js';
import {
  type CommandOutcome,
  HostKeyMismatchError,
  type HostKeyVerifier,
  type RunOptions,
  SshAuthenticationError,
  SshChannelOpenError,
  SshConnectionError,
  type SshSession,
  type SshTarget,
} from './port.js';

// Runs commands on a host over SSH (ssh2, a pure-JS client): one connection per session, commands
// as concurrent exec channels, each with a timeout and an output cap. What may run is decided
// before this adapter is called (core/command-policy.ts); this adapter only executes. The
// connection says whether it is still open, so session-pool.ts can keep it for the next step.

/** A session that is one SSH connection: whether it is still open, and a hook for when it closes. */
export interface SshConnection extends SshSession {
  readonly open: boolean;
  onClose(listener: () => void): void;
}

/** Trust on first use, per tenant: the first key seen is recorded and demanded ever after. */
export function trustOnFirstUse(hostKeys: HostKeyRepository, tenantId: string): HostKeyVerifier {
  return async (host, port, keyType, fingerprint, publicKey) => {
    const trusted = await hostKeys.trustOnFirstUse({ tenantId, host, port, keyType, fingerprint, publicKey: publicKey ?? null });
    if (trusted.fingerprint !== fingerprint) throw new HostKeyMismatchError(host, port, trusted.fingerprint, fingerprint);
  };
}

/** Connects and authenticates with a private key, verifying the host key first. */
export async function openSshSession(
  target: SshTarget,
  verifyHostKey: HostKeyVerifier,
  options: { connectTimeoutMs?: number } = {},
): Promise<SshConnection> {
  const client = new Client();
  let presented = '';
  let verificationError: unknown = null;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.username,
    privateKey: target.privateKey,
    ...(target.passphrase ? { passphrase: target.passphrase } : {}),
    readyTimeout: options.connectTimeoutMs ?? 15_000,
    keepaliveInterval: 10_000,
    // Keys only: never fall back to a password or keyboard-interactive prompt.
    authHandler: ['publickey'],
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      presented = sshFingerprint(key);
      verifyHostKey(target.host, target.port, sshKeyType(key), presented, key.toString('base64')).then(
        () => verify(true),
        (err: unknown) => {
          verificationError = err;
          verify(false);
        },
      );
    },
  };
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err: Error & { level?: string }) => {
      client.end();
      if (verificationError) return reject(verificationError);
      if (err.level === 'client-authentication')
        return reject(new SshAuthenticationError(`${target.username}@${target.host}:${target.port} refused the key: ${err.message}`));
      reject(new SshConnectionError(`Cannot reach ${target.host}:${target.port} over SSH: ${err.message}`));
    });
    client.connect(config);
  });
  let closed = false;
  const closeListeners: (() => void)[] = [];
  client.on('close', () => {
    closed = true;
    for (const listener of closeListeners.splice(0)) listener();
  });
  // A keepalive failure or a reset arrives here, then 'close' follows.
  client.on('error', () => undefined);

  /** One command on its own channel; `onStart` fires once the channel is open and the command sent. */
  const runOne = (command: string, opts: RunOptions, onStart: () => void) =>
    new Promise<CommandOutcome>((resolve, reject) => {
      const started = Date.now();
      if (closed) return reject(new SshChannelOpenError(`The SSH connection to ${target.host} closed`));
      client.exec(command, (err, stream) => {
        if (err) return reject(new SshChannelOpenError(`Cannot open a channel on ${target.host}: ${err.message}`));
        onStart();
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        let timedOut = false;
        let exitCode: number | null = null;
        let signal: string | null = null;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          const room = opts.maxOutputBytes - kept;
          if (room <= 0) {
            truncated = true;
            return;
          }
          if (chunk.length > room) truncated = true;
          const slice = chunk.subarray(0, room);
          into.push(slice);
          kept += slice.length;
        };
        stream.on('data', collect(out));
        stream.stderr.on('data', collect(errOut));
        const timer = setTimeout(() => {
          timedOut = true;
          // Ask the server to kill the command, then drop the channel whatever it answers.
          try {
            stream.signal('KILL');
          } catch {
            /* older servers refuse signals; closing the channel is enough */
          }
          stream.close();
        }, opts.timeoutMs);
        stream.on('exit', (code: number | null, sig?: string) => {
          exitCode = typeof code === 'number' ? code : null;
          signal = sig ?? null;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          resolve({
            command,
            exitCode: timedOut ? null : exitCode,
            signal,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            truncated,
            timedOut,
            durationMs: Date.now() - started,
          });
        });
      });
    });

  return {
    hostKeyFingerprint: presented,
    get open() {
      return !closed;
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.push(listener);
    },
    async run(commands, opts) {
      const results = new Array<CommandOutcome>(commands.length);
      let next = 0;
      let started = 0;
      let failure: unknown = null;
      const lanes = Math.max(1, Math.min(opts.concurrency ?? 4, commands.length));
      // Every lane settles before run() answers, so no command is left running unseen; after a
      // failure no lane starts another command.
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          while (next < commands.length && !failure) {
            const index = next++;
            try {
              results[index] = await runOne(commands[index]!, opts, () => (started += 1));
            } catch (err) {
              failure ??= err;
            }
          }
        }),
      );
      if (!failure) return results;
      // "Nothing started" is what makes a batch safe to run again elsewhere; once one command ran, it is not.
      if (failure instanceof SshChannelOpenError && started > 0)
        throw new SshConnectionError(`${failure.message} (after ${started} of ${commands.length} commands had started)`);
      throw failure;
    },
    close() {
      client.end();
    },
  };
}
