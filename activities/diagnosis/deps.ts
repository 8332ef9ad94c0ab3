import type { KnowledgeBase } from '../../adapters/knowledge/port.js';
import type { KubernetesCluster } from '../../adapters/kubernetes/port.js';
import type { LlmProvider } from '../../adapters/llm/port.js';
import type { HostAccess } from '../../adapters/ssh/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { Runbook } from '../../core/runbook.js';

export interface DiagnosisActivityDeps {
  store: Store;
  knowledge: KnowledgeBase;
  runbooks: readonly Runbook[];
  /** Null: the runbook planner answers alone. */
  llm: LlmProvider | null;
  /** Null: no cluster configured; collection says so in the facts' notes. */
  kubernetes: KubernetesCluster | null;
  /** Null: hosts are not reached over SSH (no credential vault configured). */
  hostAccess: HostAccess | null;
}
