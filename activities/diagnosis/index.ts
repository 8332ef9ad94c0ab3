import { mergeActivities } from '../merge.js';
import { createDiagnosisAnalyseActivities } from './analyse.js';
import { createDiagnosisCollectActivities } from './collect.js';
import type { DiagnosisActivityDeps } from './deps.js';

export type { DiagnosisActivityDeps } from './deps.js';

/** The error diagnosis workflow's activities: collect (cluster, host) and analyse. */
export function createDiagnosisActivities(deps: DiagnosisActivityDeps) {
  return mergeActivities('diagnosis', {
    collect: createDiagnosisCollectActivities(deps),
    analyse: createDiagnosisAnalyseActivities(deps),
  });
}

export type DiagnosisActivities = ReturnType<typeof createDiagnosisActivities>;
