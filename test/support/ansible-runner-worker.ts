import { readFileSync } from 'node:fs';
import { LocalAnsibleRunner } from '../../adapters/ansible-runner/local.js';
import type { RunnerInput } from '../../adapters/ansible-runner/port.js';

// A stand-in worker process for the lab test: calls run() on the local runner and prints one line
// per progress report, so the test can SIGKILL it mid-run (a worker crash) and retry in another.
// Usage: node --import tsx test/support/ansible-runner-worker.ts <baseDir> <input.json>

const [baseDir, inputPath] = process.argv.slice(2);
if (!baseDir || !inputPath) throw new Error('usage: ansible-runner-worker.ts <baseDir> <input.json>');
const input = JSON.parse(readFileSync(inputPath, 'utf8')) as RunnerInput;
const runner = new LocalAnsibleRunner({ baseDir });
const outcome = await runner.run(input, {
  onProgress: (progress) => process.stdout.write(`progress ${JSON.stringify(progress)}\n`),
  signal: new AbortController().signal,
});
process.stdout.write(`outcome ${JSON.stringify(outcome)}\n`);
