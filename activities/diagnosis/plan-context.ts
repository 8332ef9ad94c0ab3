import type { DiagnoseErrorInput } from '../../core/contracts/diagnosis.js';
import type { CmdbItem } from '../../core/incident.js';
import { planContextFor } from '../../core/planner.js';

/** The planner's context for a diagnosis: the CMDB item's values, what the error text matched, and the pod asked about. */
export function planContext(item: CmdbItem | null, matched: Record<string, string>, input: DiagnoseErrorInput) {
  return planContextFor(item, {
    ...matched,
    ...(input.namespace ? { namespace: input.namespace } : {}),
    ...(input.pod ? { pod: input.pod } : {}),
  });
}
