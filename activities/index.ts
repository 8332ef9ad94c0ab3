import { createIncidentActivities, type IncidentActivityDeps } from './incident.js';

export type ActivityDeps = IncidentActivityDeps;

/** Every activity the worker registers, built from its ports so tests can pass their own. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIncidentActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
