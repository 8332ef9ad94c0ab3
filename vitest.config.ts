import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// One Temporal dev server per test run (started once in the root global setup and handed to every
// project through provide/inject), the forks pool because Temporal's native core does not run in
// worker threads, and one project per test tier.
const tier = (name: string, extra: Partial<TestProjectInlineConfiguration['test']> = {}): TestProjectInlineConfiguration => ({
  test: {
    name,
    include: [`test/${name}/**/*.test.ts`],
    pool: 'forks',
    setupFiles: ['test/support/quiet-runtime.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...extra,
  },
});

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Two test files at once (vitest's default on 2 cores is one): most tests wait on Temporal, the
    // database or a host, so two keep the machine busy and the suite under 30 minutes.
    maxWorkers: 2,
    // Lab tests share the machine's lab network (10.77.x): their files run one after another.
    projects: [
      tier('unit'),
      tier('store'),
      tier('workflow'),
      tier('integration'),
      tier('lab', { fileParallelism: false, testTimeout: 120_000 }),
    ],
  },
});
