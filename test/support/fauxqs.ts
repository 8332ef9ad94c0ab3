import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MotoServer } from './moto.js';

// fauxqs (npm devDependency, pinned at 1.9.2: 2.x needs Node 22) is an in-memory SQS emulator written
// in Node. The tests' SQS server is moto, which follows AWS more closely; fauxqs is here for the
// bridge's throughput benchmark, because moto itself serves only about 100 messages/s on this
// machine (it recomputes every queue attribute on each send), which hides what the bridge can do.
// bench:ingress measures the bridge against the bare loop on both servers.

const SERVER = fileURLToPath(new URL('./fauxqs/server.ts', import.meta.url));

/** Starts fauxqs as its own process on a free loopback port and waits until it listens. */
export async function startFauxqs(): Promise<MotoServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fauxqs did not start within 30 s: ${output}`));
    }, 30_000);
    const read = (chunk: Buffer) => {
      output = `${output}${chunk.toString()}`.slice(-4000);
      const listening = /listening (\d+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolvePort(Number(listening[1]));
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with ${code}: ${output}`));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
