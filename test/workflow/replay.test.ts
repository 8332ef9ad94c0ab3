import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { testWorkflowBundlePath } from '../support/temporal.js';

// Histories of completed runs, recorded by `npm run fixtures:histories`, replayed against the
// current workflow code: a change that would break in-flight runs (a non-deterministic edit
// without patched()) fails here.
const fixturesDir = new URL('../fixtures/histories/', import.meta.url);

describe('workflow replay', async () => {
  const files = (await readdir(fixturesDir)).filter((name) => name.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = historyFromJSON(JSON.parse(await readFile(new URL(file, fixturesDir), 'utf8')));
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflowBundlePath() } }, history, file.replace(/\.json$/, '')),
    ).resolves.toBeUndefined();
  });
});

describe('workflow replay guard', () => {
  it('fails when workflow code changes incompatibly', async () => {
    const fixture = (await readdir(fixturesDir)).find((name) => name.endsWith('.json'));
    expect(fixture).toBeDefined();
    const history = historyFromJSON(JSON.parse(await readFile(new URL(fixture!, fixturesDir), 'utf8')));
    const workflowsPath = fileURLToPath(new URL('../fixtures/nondeterministic-workflows/index.ts', import.meta.url));
    await expect(Worker.runReplayHistory({ workflowsPath }, history)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
