import { classifyCommand, policyForItem, type CommandClassification, type CommandPolicy } from '../core/command-policy.js';
import type { CmdbItem } from '../core/incident.js';
import type { ToolRisk } from './tool.js';

// The risk of a chat tool call that reaches a host, set by the command policy rather than by the
// tool: a command the policy rates read-only runs at once, any change (low or high) needs the
// user's confirmation of that exact call, and what the policy forbids never runs. A tool that runs
// commands on hosts returns this from its `risk(args, caller)`.

export function hostCommandRisk(
  command: string,
  policy: CommandPolicy,
  item: Pick<CmdbItem, 'tags'> | null,
): { risk: ToolRisk; classification: CommandClassification } {
  const classification = classifyCommand(command, policyForItem(policy, item));
  const risk: ToolRisk = classification.risk === 'read-only' ? 'read' : classification.risk === 'forbidden' ? 'forbidden' : 'change';
  return { risk, classification };
}

/** The riskiest of several commands' risks (a tool that runs a batch is as risky as its worst command). */
export function worstToolRisk(risks: readonly ToolRisk[]): ToolRisk {
  return risks.includes('forbidden') ? 'forbidden' : risks.includes('change') ? 'change' : 'read';
}
