import { spawn, type ChildProcess } from 'node:child_process';

// `npm run bridge` as its own process (so a test can SIGKILL or SIGTERM it), with the given
// environment on top of the test's. Its log is JSON lines; they are kept, parsed, for the test.

export interface BridgeLogEntry {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface BridgeProcess {
  child: ChildProcess;
  /** Where /healthz, /readyz and /metrics answer (from its ready line). */
  probesUrl: string;
  logs(): BridgeLogEntry[];
  output(): string;
  /** Resolves with the first entry (already logged or to come) that matches. */
  waitForLog(match: (entry: BridgeLogEntry) => boolean, what: string, timeoutMs?: number): Promise<BridgeLogEntry>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL unless it has already exited. */
  kill(): Promise<void>;
}

export function startBridgeProcess(env: Record<string, string>): Promise<BridgeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bridge/main.ts'], {
    env: { ...process.env, INFRAAI_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let partial = '';
  const entries: BridgeLogEntry[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        entries.push(JSON.parse(line) as BridgeLogEntry);
      } catch {
        // a line that only looks like JSON
      }
    }
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLog: BridgeProcess['waitForLog'] = (match, what, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = entries.find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`bridge: no log entry for ${what} within ${timeoutMs} ms:\n${output.slice(-4000)}`));
      }, timeoutMs);
      const onExit = () => {
        if (check()) return;
        cleanup();
        reject(new Error(`bridge exited before logging ${what}:\n${output.slice(-4000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(listener);
        child.off('exit', onExit);
      };
      const listener = () => void check();
      if (check()) return;
      listeners.add(listener);
      child.once('exit', onExit);
    });

  return waitForLog((e) => e.msg === 'bridge ready', 'ready', 60_000).then((ready) => ({
    child,
    probesUrl: String(ready.probes),
    logs: () => entries,
    output: () => output,
    waitForLog,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  }));
}
