import type { KnowledgeBase } from '../../adapters/knowledge/port.js';
import type { LlmProvider } from '../../adapters/llm/port.js';
import type { MetricsSource } from '../../adapters/metrics/port.js';
import type { HostAccess } from '../../adapters/ssh/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { Telemetry } from '../../adapters/telemetry/port.js';
import type { CommandPolicy } from '../../core/command-policy.js';
import type { Runbook } from '../../core/runbook.js';

/** The ports the incident run's activities use. */
export interface IncidentRunDeps {
  store: Store;
  knowledge: KnowledgeBase;
  runbooks: readonly Runbook[];
  /** Null: hosts cannot be reached, every incident escalates after triage. */
  hostAccess: HostAccess | null;
  commandPolicy?: CommandPolicy;
  /** Null: the runbook planner plans and analyses alone. */
  llm?: LlmProvider | null;
  /** Null: no metrics datasource configured, the metrics step records that and moves on. */
  metrics?: MetricsSource | null;
  /** Remediations one tenant may run at once (host leases held). */
  maxConcurrentRemediations?: number;
  /** How long a host lease lives unless renewed (default 15 min); the workflow renews it every third of that. */
  hostLeaseTtlMs?: number;
  /** Counts ended runs and verified fixes; null: nothing counted. */
  telemetry?: Telemetry | null;
}

/** Which CMDB item a step works on. */
export interface TargetRef {
  tenantId: string;
  tagId: string;
}
