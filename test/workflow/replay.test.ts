import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { historiesDir } from '../support/histories.js';
import { testWorkflowBundlePath } from '../support/temporal.js';

// Histories of finished runs, recorded per workflow revision (test/fixtures/histories/<family>/
// <revision>/<scenario>.json, `npm run fixtures:histories` adds missing ones and never overwrites),
// replayed against the current workflow bundle: a change that would break in-flight runs (a
// non-deterministic edit without patched()) fails here.

/** Folders that must hold at least this many histories: a folder lost or emptied fails the suite. */
const EXPECTED_FIXTURES: Record<string, number> = {
  'incident/triage': 4,
  'incident/remediation-pipeline': 12,
  'incident/host-lease-renewal': 16,
  'incident/cause-chains': 17,
  'incident/run-projection': 17,
  'incident/local-store-steps': 20,
  'automation/initial': 13,
  'pagerduty/initial': 3,
  'alert/initial': 20,
  'chat/initial': 7,
  'chat/child-runs': 1,
  'chat/local-store-steps': 8,
  'chat/turn-opening': 10,
  'chat/answer-in-step': 10,
  'provisioning/initial': 6,
};

const files = (await readdir(historiesDir, { recursive: true })).filter((name) => name.endsWith('.json')).sort();

async function loadHistory(file: string) {
  return historyFromJSON(JSON.parse(await readFile(new URL(file, historiesDir), 'utf8')));
}

describe('workflow replay', () => {
  it.each(Object.entries(EXPECTED_FIXTURES))('has the recorded histories of %s', (folder, minimum) => {
    expect(files.filter((file) => file.startsWith(`${folder}/`)).length).toBeGreaterThanOrEqual(minimum);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: testWorkflowBundlePath() } },
        await loadHistory(file),
        file.replace(/\.json$/, ''),
      ),
    ).resolves.toBeUndefined();
  });
});

describe('workflow replay guard', () => {
  const variant = (name: string) => fileURLToPath(new URL(`../fixtures/nondeterministic-workflows/${name}`, import.meta.url));

  it('fails when workflow code changes incompatibly', async () => {
    const history = await loadHistory('incident/triage/incident-escalated.json');
    await expect(Worker.runReplayHistory({ workflowsPath: variant('index.ts') }, history)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });

  it('fails when the approval gate moves behind the host lease', async () => {
    // The same run replays cleanly against the real code (above); with the lease taken before the
    // approval, the first command after the analysis differs from what the history recorded.
    const history = await loadHistory('incident/remediation-pipeline/resolved-after-approval.json');
    const error = await Worker.runReplayHistory({ workflowsPath: variant('approval-after-lease.ts') }, history).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DeterminismViolationError);
    // It diverges after the analysis (where the gate was), not earlier: the prelude is shared.
    const analysed = history.events!.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'analyseDiagnostics',
    )!.eventId!;
    const divergedAt = Number(/HistoryEvent\(id: (\d+)/.exec((error as Error).message)?.[1]);
    expect(divergedAt).toBeGreaterThan(Number(analysed));
  });
});
