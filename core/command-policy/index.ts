// The command policy: every command is rated before it may run on a host. Diagnostics must be
// `read-only` (they fit the read-only grammar, grammar.ts); a change is `low` (routine and
// reversible, inside the CMDB item's data and log paths) or `high` (anything else it knows, and
// anything it does not know); `forbidden` never runs, whoever approves it. The command is parsed
// into pipelines, redirections and nested commands (`sh -c '…'`, `$(…)`, `find -exec`, `xargs`,
// wrappers such as sudo, env, timeout, busybox) and the riskiest part decides. Text from hosts or
// documents is never a command source, so this guards the plan (runbook or LLM) rather than
// hostile input alone — but it must hold against a hostile plan too.

import type { CmdbItem } from '../incident.js';
import { classifyParts } from './classify.js';
import { writablePathsOf } from './paths.js';
import { type CommandClassification, type CommandPolicy, type CommandRisk, worstOf } from './risk.js';

export { COMMAND_RISKS, maxRisk, riskAtLeast, type CommandClassification, type CommandPolicy, type CommandRisk } from './risk.js';
export { writablePathsOf };
/** Path classes, for checks that judge a file destination the way the policy judges a write (playbook validation). */
export { normalizeWritable, secretClass, SYSTEM_ROOTS, writeClassOf, type WriteClass } from './paths.js';

/** The policy for commands on one CMDB item: the given policy plus the item's data and log paths. */
export const policyForItem = (policy: CommandPolicy, item: Pick<CmdbItem, 'tags'> | null | undefined): CommandPolicy => ({
  ...policy,
  writablePaths: writablePathsOf(item),
});

export function classifyCommand(command: string, policy: CommandPolicy = {}): CommandClassification {
  const parts = classifyParts(command, policy);
  const risk: CommandRisk = worstOf(parts);
  const reasons = [...new Set(parts.filter((p) => p.risk === risk).map((p) => p.reason))];
  return { risk, reasons: reasons.length ? reasons : ['only reads'] };
}

export const isReadOnlyCommand = (command: string, policy: CommandPolicy = {}) => classifyCommand(command, policy).risk === 'read-only';
