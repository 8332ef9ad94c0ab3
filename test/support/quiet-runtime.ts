import { DefaultLogger, Runtime } from '@temporalio/worker';

// Each test process installs the Temporal runtime once, logging warnings and errors only.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed in this process.
}
