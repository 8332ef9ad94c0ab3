import type { KnowledgeBase } from '../../adapters/knowledge/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { ChatTool } from '../tool.js';
import { createAutomationTools, type AutomationStarter } from './automation.js';
import { createCmdbTools } from './cmdb.js';
import { createDiagnosisTools, type HostDiagnoser } from './diagnosis.js';
import { createIncidentTools, type RemediationStarter } from './incidents.js';
import { createKnowledgeTools } from './knowledge.js';

export { createAutomationTools, createCmdbTools, createDiagnosisTools, createIncidentTools, createKnowledgeTools };
export type { AutomationStarter, HostDiagnoser, RemediationStarter };

export interface BuiltinToolDeps {
  store: Store;
  knowledge: KnowledgeBase;
  /** Starts an incident's remediation (api/run-starts.ts `chatRunStarters`). */
  startRemediation: RemediationStarter;
  /** Starts an Ansible automation run; without it the automation tools only read. */
  startRun?: AutomationStarter | null | undefined;
  /** Runs the diagnosis workflow; without it there is no host_diagnose. */
  diagnose?: HostDiagnoser | null | undefined;
}

/** Every built-in tool over InfraAI's own data, for the registry (tools/registry.ts). */
export function createBuiltinTools(deps: BuiltinToolDeps): ChatTool[] {
  const automation = createAutomationTools({
    store: deps.store,
    startRun: deps.startRun ?? unavailableAutomation,
  });
  return [
    ...createKnowledgeTools(deps),
    ...createCmdbTools(deps),
    ...createIncidentTools(deps),
    ...(deps.startRun ? automation : automation.filter((tool) => tool.role === 'viewer')),
    ...(deps.diagnose ? createDiagnosisTools({ diagnose: deps.diagnose }) : []),
  ];
}

const unavailableAutomation: AutomationStarter = () => Promise.reject(new Error('Automation runs are not configured'));
