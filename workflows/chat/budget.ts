import type { ChatTurnBudget } from '../../core/contracts/chat.js';

/** What a turn has spent; kept in workflow state, so a replay after a worker restart counts the same. */
export interface TurnSpend {
  modelSteps: number;
  tokens: number;
  /** Workflow time the turn has used, less the time spent waiting for confirmations. */
  elapsedMs: number;
}

/** Why the turn must stop before another model step, or null while it is within its budget. */
export function budgetOverrun(budget: ChatTurnBudget, spend: TurnSpend): string | null {
  if (spend.modelSteps >= budget.maxModelSteps) return `used all ${budget.maxModelSteps} model steps it may take`;
  if (spend.tokens >= budget.maxTokens) return `used ${spend.tokens} tokens of its ${budget.maxTokens}`;
  if (spend.elapsedMs >= budget.maxTurnMs)
    return `ran for ${Math.round(spend.elapsedMs / 1000)} s of its ${Math.round(budget.maxTurnMs / 1000)} s`;
  return null;
}
