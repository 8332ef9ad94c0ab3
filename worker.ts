import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities/index.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface InfraWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Pre-built workflow bundle (production, tests); without it the worker bundles workflows/ at start. */
  workflowBundlePath?: string | null | undefined;
  identity?: string | undefined;
}

/** Wires the worker: workflows from the bundle or source, activities from their ports. Nothing else. */
export async function createInfraWorker(options: InfraWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundlePath, identity, ...deps } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    ...(identity ? { identity } : {}),
    shutdownGraceTime: '10 seconds',
  });
}
