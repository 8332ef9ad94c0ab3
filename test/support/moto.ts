import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// moto's server mode (PyPI `moto[server]`): a local AWS-compatible endpoint for S3, CloudWatch Logs,
// ECS and EC2 that the ECS runner's test talks to (it records tasks and runs nothing), and for SQS,
// which the event queue's tests use (test/support/local-sqs.ts). Installed in a
// virtual environment of its own from the pinned requirements (5.2.5's RunTask fails with a server
// error on awsvpc networking; 5.1.4 runs it), the way test/support/schemathesis.ts does;
// INFRAAI_MOTO_VENV moves the environment.

const REQUIREMENTS = fileURLToPath(new URL('./moto/requirements.txt', import.meta.url));
const VENV = resolve(process.env.INFRAAI_MOTO_VENV ?? '.data/moto-venv');
const PINNED = /^moto\[server\]==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'))?.[1];

function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolveRun({ ok: !err, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` });
    });
  });
}

/** The moto_server executable at the pinned version, installing it when missing; or why it cannot be had. */
export async function ensureMoto(): Promise<{ executable: string; installed: boolean } | { error: string }> {
  const executable = join(VENV, 'bin', 'moto_server');
  const python = join(VENV, 'bin', 'python');
  const version = async () => (await run(python, ['-c', 'import moto; print(moto.__version__)'], 60_000)).output.trim();
  if (existsSync(executable) && (await version()) === PINNED) return { executable, installed: false };
  if (!existsSync(python)) {
    const made = await run('python3', ['-m', 'venv', VENV], 120_000);
    if (!made.ok) return { error: `python3 -m venv ${VENV} failed:\n${made.output.slice(-2000)}` };
  }
  const installed = await run(python, ['-m', 'pip', 'install', '-q', '-r', REQUIREMENTS], 10 * 60_000);
  if (!installed.ok) return { error: `pip install -r ${REQUIREMENTS} failed:\n${installed.output.slice(-2000)}` };
  const found = await version();
  if (found !== PINNED) return { error: `moto ${PINNED} expected, the environment has: ${found}` };
  return { executable, installed: true };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on a free loopback port and waits until it answers. */
export async function startMoto(executable: string): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (answer.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * An EC2 query against moto without an EC2 client (the project has none): the default VPC's first
 * subnet and security group, which moto's RunTask checks for awsvpc networking.
 */
export async function motoDefaultNetwork(endpoint: string, region: string): Promise<{ subnet: string; securityGroup: string }> {
  const query = async (action: string) => {
    const answer = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // moto routes on the service named in the credential scope; it checks no signature.
        authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: `Action=${action}&Version=2016-11-15`,
    });
    return answer.text();
  };
  const subnet = /<subnetId>(subnet-[0-9a-f]+)<\/subnetId>/.exec(await query('DescribeSubnets'))?.[1];
  const securityGroup = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(await query('DescribeSecurityGroups'))?.[1];
  if (!subnet || !securityGroup) throw new Error('moto has no default subnet or security group');
  return { subnet, securityGroup };
}

/**
 * moto moves a model's status on by itself as it is read (an ECS task goes RUNNING → … → STOPPED
 * over a few DescribeTasks); this holds it until an API call changes it, as a real task stays
 * RUNNING until its container exits or StopTask stops it.
 */
export async function motoHoldStatus(endpoint: string, modelName: string): Promise<void> {
  const answer = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: modelName, transition: { progression: 'manual', times: 1_000_000 } }),
  });
  if (!answer.ok) throw new Error(`moto refused the state transition for ${modelName}: ${answer.status} ${await answer.text()}`);
}
