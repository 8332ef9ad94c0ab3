import { mergeActivities } from '../merge.js';
import { createChatChildRunActivities } from './child-runs.js';
import type { ChatActivityDeps } from './deps.js';
import { createChatModelActivities } from './model-step.js';
import { createChatRecordActivities } from './record.js';
import { createChatToolActivities, createToolRunner } from './run-tool.js';

export type { ChatActivityDeps, ChatPlanner, ChatPlannerInput, ChatPlannerOutput, ResolveIntegration } from './deps.js';
export type { ChatModelStepInput, ChatModelStepOutput, ChatToolCallRequest, ChatTurnOpening } from './model-step.js';
export type { ChatToolCallInput, ChatToolOutcome } from './run-tool.js';
export type { WatchChildRunInput } from './child-runs.js';

/** The chat conversation's activities, one step group per file (workflows/chat/README.md maps step → file). */
export function createChatActivities(deps: ChatActivityDeps) {
  const runTool = createToolRunner(deps);
  return mergeActivities('chat', {
    model: createChatModelActivities(deps, runTool),
    tools: createChatToolActivities(deps, runTool),
    record: createChatRecordActivities(deps),
    children: createChatChildRunActivities(deps),
  });
}

export type ChatActivities = ReturnType<typeof createChatActivities>;
