/** The fields of an approval every family records the same way when a human decides. */
interface DecidedFields {
  decision: string;
  by: string | null;
  comment: string | null;
  decidedAt: string | null;
}

/**
 * Records a human's approve or reject on the approval waiting in a run's state, bounded (who and
 * why are free text from the API: a long one is cut, never refused after the fact).
 */
export function recordDecision<A extends DecidedFields>(
  approval: A,
  decision: { decision: 'approve' | 'reject'; by: string; comment?: string | undefined },
): A {
  return Object.assign(approval, {
    decision: decision.decision === 'approve' ? 'approved' : 'rejected',
    by: decision.by.slice(0, 200),
    comment: decision.comment?.slice(0, 2000) ?? null,
    decidedAt: new Date().toISOString(),
  });
}
