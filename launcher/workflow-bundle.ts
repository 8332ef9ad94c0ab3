import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker.js';

/**
 * Bundles workflows/ once into a file a worker can load with `workflowBundle: { codePath }`:
 * production workers start from it (no bundling at start), and the test run shares one bundle.
 */
export async function buildWorkflowBundle(outPath: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, code);
  return outPath;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
