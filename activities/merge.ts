/** Two step groups registering one activity name would silently replace one another: refuse it. */
export class DuplicateActivityError extends Error {
  override readonly name = 'DuplicateActivityError';
}

type Group = Record<string, (...args: never[]) => Promise<unknown>>;
type Merged<T extends Record<string, Group>> =
  { [K in keyof T]: (x: T[K]) => void } extends Record<string, (x: infer I) => void> ? I : never;

/**
 * Merges named groups of activities into one registration object, refusing an activity name that
 * two groups both define (checked when the worker starts, not discovered in a run's history).
 */
export function mergeActivities<T extends Record<string, Group>>(scope: string, groups: T): Merged<T> {
  const merged: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  for (const [groupName, group] of Object.entries(groups)) {
    for (const [activityName, fn] of Object.entries(group)) {
      const first = owner.get(activityName);
      if (first) {
        throw new DuplicateActivityError(`Activity '${activityName}' is defined by both ${scope}/${first} and ${scope}/${groupName}.`);
      }
      owner.set(activityName, groupName);
      merged[activityName] = fn;
    }
  }
  return merged as Merged<T>;
}
