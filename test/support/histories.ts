import { access, mkdir, writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

// Replay fixtures: histories of finished runs, kept per workflow revision under
// test/fixtures/histories/<family>/<revision>/<scenario>.json and never overwritten, so every
// revision's histories keep replaying against the current code (replay.test.ts).

/**
 * The incident workflow revision the tests run today: a change to remediateIncident that
 * alters its commands (behind patched()) gets a new name here, so new histories go to a new folder.
 */
export const INCIDENT_WORKFLOW_REVISION = 'local-store-steps';

/** The automation workflow revision the tests run today (same rule: a new name for a patched change). */
export const AUTOMATION_WORKFLOW_REVISION = 'initial';

/** The PagerDuty workflow revision the tests run today (same rule). */
export const PAGERDUTY_WORKFLOW_REVISION = 'initial';
/** The alert workflow revision the tests run today (same rule). */
export const ALERT_WORKFLOW_REVISION = 'initial';

/**
 * The chat workflow revision the tests run today (same rule): the model step that answers records
 * the turn's end (CHAT_ANSWER_IN_STEP_PATCH). Histories from before it are kept in chat/initial,
 * chat/child-runs, chat/local-store-steps and chat/turn-opening (a turn opened inside its first model
 * step, read-only store tools as local activities).
 */
export const CHAT_WORKFLOW_REVISION = 'answer-in-step';
/**
 * Chat runs that start child workflows (CHAT_CHILD_RUNS_PATCH): recorded in chat/child-runs before the
 * local store steps, with the rest of the chat revision since.
 */
export const CHAT_CHILD_RUNS_REVISION = CHAT_WORKFLOW_REVISION;

export const recordingHistories = process.env.INFRAAI_RECORD_HISTORIES === '1';

export const historiesDir = new URL('../fixtures/histories/', import.meta.url);

/** Writes a finished run's history as a fixture when recording, unless that fixture exists already. */
export async function saveHistoryFixture(
  client: Client,
  workflowId: string,
  scenario: string,
  { family = 'incident', revision = INCIDENT_WORKFLOW_REVISION }: { family?: string; revision?: string } = {},
): Promise<void> {
  if (!recordingHistories) return;
  const dir = new URL(`${family}/${revision}/`, historiesDir);
  const file = new URL(`${scenario}.json`, dir);
  const relative = `test/fixtures/histories/${family}/${revision}/${scenario}.json`;
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  ) {
    console.log(`[histories] ${relative} exists: kept as recorded (fixtures are never overwritten)`);
    return;
  }
  await mkdir(dir, { recursive: true });
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await writeFile(file, historyToJSON(history));
  console.log(`[histories] recorded ${relative}`);
}
