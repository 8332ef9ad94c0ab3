import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Address and namespace of the one dev server the global setup started for this test run. */
export function testTemporal(): { address: string; namespace: string } {
  return { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
}

export async function connectTestClient(target = testTemporal()): Promise<{ client: Client; connection: Connection }> {
  const { address, namespace } = target;
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), connection };
}

export async function connectTestWorker(target = testTemporal()): Promise<NativeConnection> {
  return NativeConnection.connect({ address: target.address });
}

/** The workflow bundle built once by the global setup, so each test's worker starts fast. */
export function testWorkflowBundlePath(): string {
  return inject('workflowBundlePath');
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
