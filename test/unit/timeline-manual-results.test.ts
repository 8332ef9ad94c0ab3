import { describe, expect, it } from 'vitest';
import type { IncidentResult } from '../../core/incident.js';
import { mergeManualResults, type TimelineEntry } from '../../api/timeline.js';

// The incident timeline is built from the run's workflow history; results an operator recorded by
// hand (POST /api/v1/storeResult) are not in it and are placed among its entries by time.

const entry = (step: string, at: string | null): TimelineEntry => ({
  step,
  kind: 'activity',
  outcome: 'completed',
  scheduledAt: at,
  startedAt: at,
  finishedAt: at,
  attempt: 1,
  durationMs: 0,
  input: null,
  output: null,
  failure: null,
});

const result = (id: string, createdAt: string, manual: boolean): IncidentResult => ({
  id,
  tenantId: 't',
  incidentId: 'i',
  incidentNumber: 7,
  status: 'resolved',
  summary: `summary ${id}`,
  details: manual ? { manual: { recordedBy: 'api-key:k1', note: null } } : { findings: [] },
  createdAt,
});

describe('manual results in the incident timeline', () => {
  const history = [
    entry('workflowStarted', '2026-12-06T10:00:00.000Z'),
    entry('lookupCmdbItem', '2026-12-06T10:00:05.000Z'),
    entry('pending', null),
    entry('writeIncidentResult', '2026-12-06T10:00:20.000Z'),
  ];

  it('places each manual result before the first entry that started after it; a run’s own result adds nothing', () => {
    const merged = mergeManualResults(history, [
      result('run', '2026-12-06T10:00:21.000Z', false),
      result('m1', '2026-12-06T10:00:10.000Z', true),
      result('m2', '2026-12-06T10:01:00.000Z', true),
    ]);
    expect(merged.map((e) => e.step)).toEqual([
      'workflowStarted',
      'lookupCmdbItem',
      'pending',
      'manualResult',
      'writeIncidentResult',
      'manualResult',
    ]);
    expect(merged[3]).toMatchObject({
      kind: 'manual',
      outcome: 'info',
      startedAt: '2026-12-06T10:00:10.000Z',
      input: { status: 'resolved', summary: 'summary m1', recordedBy: 'api-key:k1', note: null },
      output: { resultId: 'm1' },
    });
  });

  it('leaves the history as it is without manual results', () => {
    expect(mergeManualResults(history, [result('run', '2026-12-06T10:00:21.000Z', false)])).toBe(history);
  });
});
