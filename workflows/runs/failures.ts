import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The named type of the activity failure behind an error, or null. */
export function failureType(err: unknown): string | null {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? null) : null;
}

/** What an operator needs to read of a failed step: the activity's own message. */
export function failureMessage(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
}
