// Risk levels and the policy's options: shared by every part of the classifier.

export const COMMAND_RISKS = ['read-only', 'low', 'high', 'forbidden'] as const;
export type CommandRisk = (typeof COMMAND_RISKS)[number];

export interface CommandPolicy {
  /** `shutdown`/`reboot`/`poweroff` are forbidden unless a policy allows them (then `high`). */
  allowReboot?: boolean;
  /**
   * Absolute paths a change may write at `low` risk: the CMDB item's data and log paths
   * (`writablePathsOf(item)`). Writes anywhere else are `high` at least. Without it, every write is.
   */
  writablePaths?: readonly string[];
}

export interface CommandClassification {
  risk: CommandRisk;
  /** Why the riskiest parts are as risky as they are. */
  reasons: string[];
}

/** One finding about one part of a command. */
export interface Part {
  risk: CommandRisk;
  reason: string;
}

const RANK: Record<CommandRisk, number> = { 'read-only': 0, low: 1, high: 2, forbidden: 3 };
export const riskAtLeast = (risk: CommandRisk, floor: CommandRisk) => RANK[risk] >= RANK[floor];
export const maxRisk = (a: CommandRisk, b: CommandRisk): CommandRisk => (RANK[a] >= RANK[b] ? a : b);
export const worstOf = (parts: readonly Part[]): CommandRisk => parts.reduce<CommandRisk>((w, p) => maxRisk(w, p.risk), 'read-only');

export const readOnly = (reason: string): Part => ({ risk: 'read-only', reason });
export const low = (reason: string): Part => ({ risk: 'low', reason });
export const high = (reason: string): Part => ({ risk: 'high', reason });
export const forbidden = (reason: string): Part => ({ risk: 'forbidden', reason });
