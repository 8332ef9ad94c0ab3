import type { TestProject } from 'vitest/node';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Provisional: replaced by the launcher-based setup.
export default async function setup(project: TestProject) {
  console.log('[global-setup] start', project.name);
  const dir = await mkdtemp(join(tmpdir(), 'infraai-test-'));
  const child = spawn('temporal', ['server', 'start-dev', '--headless', '--port', '17233', '--db-filename', join(dir, 't.db'), '--namespace', 'infraai'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 3000));
  project.provide('temporalAddress', '127.0.0.1:17233');
  return async () => {
    console.log('[global-setup] teardown');
    child.kill('SIGTERM');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}
