import { NativeConnection } from '@temporalio/worker';
import { createStore } from '../../adapters/store/create.js';
import { createInfraWorker } from '../../worker.js';
import { fakeProvisioningToolkit, FileGitHost } from './provisioning-fakes.js';

// A worker process for the provisioning crash test: the real worker with the provisioning test
// doubles, its git host kept in a file shared with the test and the next worker. With `hang` its
// pull request step writes the pull request and never answers, so the test can SIGKILL it there.
// Usage: node --import tsx test/support/provisioning-worker.ts <git-state.json> [hang]
// Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, INFRAAI_WORKFLOW_BUNDLE.

const [file, mode] = process.argv.slice(2);
if (!file) throw new Error('usage: provisioning-worker.ts <git-state.json> [hang]');
const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`${name} is not set`);
  })();
const store = await createStore({ kind: 'postgres', url: env('DATABASE_URL') });
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await createInfraWorker({
  connection,
  namespace: env('TEMPORAL_NAMESPACE'),
  taskQueue: env('TEMPORAL_TASK_QUEUE'),
  store,
  provisioning: fakeProvisioningToolkit(),
  gitHost: new FileGitHost(file, { hangAfterPullRequest: mode === 'hang' }),
  workflowBundlePath: env('INFRAAI_WORKFLOW_BUNDLE'),
});
process.stdout.write(`provisioning worker ready (pid ${process.pid})\n`);
await worker.run();
