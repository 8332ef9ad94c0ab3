import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createMcpServerConnections } from './adapters/mcp/create.js';
import { chatRunStarters } from './api/run-starts.js';
import { createTemporalAutomationGateway, createTemporalDiagnosisGateway, createTemporalIncidentGateway } from './api/temporal-gateway.js';
import { createBuiltinTools } from './tools/builtin/index.js';
import { createConfluenceTools } from './tools/confluence.js';
import { createGitHubTools } from './tools/github.js';
import type { IntegrationName, IntegrationSettings } from './tools/integrations.js';
import { createJiraTools } from './tools/jira.js';
import { loadMcpChatTools } from './tools/mcp-tools.js';
import { createPagerDutyTools } from './tools/pagerduty.js';
import { createPrometheusTools } from './tools/prometheus.js';
import { createToolRegistry, type ToolRegistry } from './tools/registry.js';
import { createServiceNowTools } from './tools/servicenow.js';
import type { ToolCaller } from './tools/tool.js';
import { createRunEventBus } from './adapters/events/create.js';
import type { RunEventBus } from './adapters/events/port.js';
import { createKnowledgeBase, loadBundledRunbooks } from './adapters/knowledge/create.js';
import type { KnowledgeBase, StagedIngestion } from './adapters/knowledge/port.js';
import { openKubernetesActions, openKubernetesCluster } from './adapters/kubernetes/create.js';
import type { KubernetesActions, KubernetesCluster } from './adapters/kubernetes/port.js';
import { createLlmProvider } from './adapters/llm/create.js';
import type { LlmProvider } from './adapters/llm/port.js';
import { createMetricsSource } from './adapters/metrics/create.js';
import type { MetricsSource } from './adapters/metrics/port.js';
import { createNotifiers } from './adapters/notify/create.js';
import { createEventQueue } from './adapters/queue/create.js';
import type { EventQueue } from './adapters/queue/port.js';
import type { Notifier } from './adapters/notify/port.js';
import { createCredentialVault } from './adapters/secrets/create.js';
import type { CredentialVault, SecretStore } from './adapters/secrets/port.js';
import { IntegrationSettingsService } from './tools/integration-settings.js';
import { createHostAccess } from './adapters/ssh/create.js';
import type { HostAccess } from './adapters/ssh/port.js';
import type { Store } from './adapters/store/port.js';
import { createTelemetry } from './adapters/telemetry/create.js';
import type { Telemetry } from './adapters/telemetry/port.js';
import { createVmActions } from './adapters/vsphere/create.js';
import type { VmActions } from './adapters/vsphere/port.js';
import type { AutomationToolkit } from './activities/automation/deps.js';
import type { ProvisioningToolkit } from './activities/provisioning/deps.js';
import { hasLocalReview, type GitHost } from './adapters/git-host/port.js';
import { createGitHost } from './adapters/git-host/create.js';
import { createCheckovRunner } from './adapters/checkov/create.js';
import { loadProvisionConventions, provisionDirectory } from './core/provisioning/conventions.js';
import { parseProvisionRequest } from './core/provisioning/grammar.js';
import { parseProvisionRequestWithLlm } from './core/provisioning/llm.js';
import { validateProvisionFiles } from './core/provisioning/hcl.js';
import { evaluateProvisionPolicy } from './core/provisioning/policy.js';
import { renderProvisionFiles } from './core/provisioning/templates/index.js';
import { createAnsibleRunner, type AnsibleRunnerConfig } from './adapters/ansible-runner/create.js';
import { createPlaybookChecker } from './adapters/playbook-checker/create.js';
import { automationArtifactsHash } from './core/automation/hash.js';
import { generateWithLlm } from './core/automation/llm.js';
import { generateFromTemplates } from './core/automation/templates.js';
import { validatePlaybook } from './core/automation/validate.js';
import type { Config } from './config.js';
import type { Runbook } from './core/runbook.js';

// The composition root: every adapter chosen from config and built once, then shared by whatever
// runs in this process (npm start runs the worker and the API side by side on the same instances).

export interface Adapters {
  store: Store;
  knowledge: KnowledgeBase & StagedIngestion;
  runbooks: readonly Runbook[];
  llm: LlmProvider | null;
  kubernetes: KubernetesCluster | null;
  /** restart_pod / scale_deployment on the same cluster (namespaces and replicas bounded by config); null without a kubeconfig. */
  kubernetesActions: KubernetesActions | null;
  /** restart_vm through vCenter; null when vSphere is not configured. Close it on shutdown (ends the API session). */
  vmActions: VmActions | null;
  vault: CredentialVault;
  /** Where the vault's sealing key came from, for the start banner. */
  vaultKeySource: string;
  /** Secret values by path (sealed in the store with the vault's key, or Infisical with the vault's session). */
  secrets: SecretStore;
  /** Integration settings per tenant and user: the API's /integrations routes and the chat tools' context.integration(). */
  integrationSettings: IntegrationSettingsService;
  hostAccess: HostAccess;
  notifiers: Notifier[];
  metrics: MetricsSource | null;
  /** Run-event notices for the SSE streams (memory in one process, PostgreSQL or Redis across processes). */
  events: RunEventBus;
  /** What this process counts about itself, rendered at /metrics (one registry per process). */
  telemetry: Telemetry;
  /** Playbook generation, validation and the Ansible runner; null: automation runs end AutomationUnavailable. */
  automation: AutomationToolkit | null;
  /** The SQS queue of PagerDuty events (INFRAAI_SQS_QUEUE_URL); null when none is configured. */
  eventQueue: EventQueue | null;
  /** Provisioning's core, git host and local review (see buildProvisioning). */
  provisioning: ProvisioningAdapters;
}

/** What provisioning runs and routes need, built once per process. */
export interface ProvisioningAdapters {
  /**
   * The pure core with the conventions bound in (parse, render, directory, validate, policy); null:
   * POST /provision and dry runs answer 503, and runs end `failed` with ProvisioningUnavailable.
   */
  toolkit: ProvisioningToolkit | null;
  /** Where a tenant's branches, commits and pull requests go; null: runs end `failed` at their git step. */
  gitHost: ((tenantId: string) => Promise<GitHost>) | null;
  /** The local git host's merge or close (POST /provision/{id}/review); null with GitHub (reviews come by webhook). */
  localReview: ((tenantId: string, number: number, state: 'merged' | 'closed') => Promise<void>) | null;
}

/**
 * Provisioning's adapters: the toolkit over core/provisioning with the organisation's conventions
 * (INFRAAI_PROVISION_CONVENTIONS) bound in, Checkov when installed (INFRAAI_CHECKOV), and the git
 * host (adapters/git-host/create.ts), whose local host keeps its pull requests in the store.
 */
export async function buildProvisioning(
  config: Config,
  store: Store,
  { llm = null }: { llm?: LlmProvider | null } = {},
): Promise<ProvisioningAdapters> {
  const conventions = await loadProvisionConventions(config.provisioning.conventionsFile);
  const checkov = await createCheckovRunner(config.provisioning.checkov);
  const toolkit: ProvisioningToolkit = {
    // With an LLM, the model reads the request (structured output, checked against the conventions);
    // if it cannot be reached or never answers the schema, the grammar reads it instead.
    parse: llm
      ? (text, context) =>
          parseProvisionRequestWithLlm(llm, text, context, conventions).catch(() => parseProvisionRequest(text, context, conventions))
      : (text, context) => parseProvisionRequest(text, context, conventions),
    render: (requirements) => renderProvisionFiles(requirements, conventions),
    directory: (requirements) => provisionDirectory(requirements, conventions),
    validate: async (files) =>
      (await validateProvisionFiles(files)).map((finding) => ({
        rule: 'hcl_syntax',
        source: 'rules' as const,
        severity: 'error' as const,
        file: finding.file,
        line: finding.line,
        resource: null,
        message: finding.message,
      })),
    policy: async (files, requirements, options) => {
      const findings = await evaluateProvisionPolicy(files, requirements, conventions);
      if (!checkov || options?.checkov === false) return findings;
      return [...findings, ...(await checkov(files))];
    },
  };

  // One git host per tenant: with the local host each tenant has its own repository
  // (<INFRAAI_GIT_LOCAL_REPO>/<tenant slug>) and pull-request numbers; with GitHub every tenant's
  // requests go to the one configured repository.
  const hostConfig = config.provisioning.gitHost;
  const hosts = new Map<string, Promise<GitHost>>();
  const open = async (tenantId: string): Promise<GitHost> => {
    if (hostConfig.kind === 'github') {
      return createGitHost(hostConfig, {
        records: store.provisioning.pullRequests({ tenantId, repo: `${hostConfig.owner}/${hostConfig.repo}`, url: () => '' }),
      });
    }
    const tenant = await store.tenants.getById(tenantId);
    if (!tenant) throw new Error(`No tenant ${tenantId}`);
    const repoPath = join(hostConfig.repoPath, tenant.slug);
    return createGitHost(
      { ...hostConfig, repoPath },
      { records: store.provisioning.pullRequests({ tenantId, repo: 'local', url: (n) => `local://${repoPath}#${n}` }) },
    );
  };
  const gitHost = (tenantId: string): Promise<GitHost> => {
    let host = hosts.get(tenantId);
    if (!host) {
      host = open(tenantId).catch((err: unknown) => {
        hosts.delete(tenantId);
        throw err;
      });
      hosts.set(tenantId, host);
    }
    return host;
  };
  const localReview =
    hostConfig.kind === 'local'
      ? async (tenantId: string, number: number, state: 'merged' | 'closed') => {
          const host = await gitHost(tenantId);
          if (!hasLocalReview(host)) throw new Error('The local git host cannot merge or close');
          await (state === 'merged' ? host.merge(number) : host.close(number));
        }
      : null;
  return { toolkit, gitHost, localReview };
}

/**
 * The automation toolkit from config: the LLM writes playbooks when one is configured, the
 * maintained templates otherwise (and then the API refuses a request no template understands with a
 * 422 before a run starts); every playbook goes through the static validator, then
 * `ansible-playbook --syntax-check` and `ansible-lint`; it is hashed for the approval and run by the
 * configured runner (local ansible-runner, or ECS Fargate).
 */
export function buildAutomationToolkit(runner: AnsibleRunnerConfig, { llm }: { llm: LlmProvider | null }): AutomationToolkit {
  const fromTemplates: NonNullable<AutomationToolkit['precheck']> = (request, hosts, options) =>
    generateFromTemplates(request, hosts, options);
  return {
    generate: llm ? (request, hosts, { checkMode }) => generateWithLlm(llm, request, hosts, { checkMode }) : fromTemplates,
    precheck: llm ? null : fromTemplates,
    validateStatic: (artifacts, { commandPolicy, become }) => validatePlaybook(artifacts, { become, policy: commandPolicy }),
    checker: createPlaybookChecker(),
    hash: automationArtifactsHash,
    runner: createAnsibleRunner(runner),
  };
}

/** Builds every adapter once. The store is opened by the caller (it owns its lifetime and closing). */
export async function buildAdapters(config: Config, store: Store): Promise<Adapters> {
  const knowledge = await createKnowledgeBase(config, store);
  const { vault, secrets, keySource } = await createCredentialVault(config, store);
  const llm = createLlmProvider(config.llm);
  return {
    store,
    knowledge,
    // Bundled runbooks become global knowledge at start; unchanged ones cost one lookup.
    runbooks: await loadBundledRunbooks(knowledge),
    llm,
    kubernetes: await openKubernetesCluster(config.kubeconfigPath),
    kubernetesActions: await openKubernetesActions(config.kubeconfigPath, config.kubernetesActions),
    vmActions: await createVmActions(config.vsphere),
    vault,
    vaultKeySource: keySource,
    secrets,
    integrationSettings: new IntegrationSettingsService({ settings: store.integrationSettings, secrets }),
    hostAccess: createHostAccess({ vault, hostKeys: store.hostKeys, idleMs: config.ssh.idleMs, maxIdle: config.ssh.maxIdle }),
    notifiers: createNotifiers(config.notifiers),
    metrics: createMetricsSource(config),
    telemetry: createTelemetry(config, store),
    events: createRunEventBus(config.eventBus, (err) => console.warn(`[infraai] run-event bus: ${err.message}`)),
    automation: buildAutomationToolkit(config.ansibleRunner, { llm }),
    eventQueue: createEventQueue(config.eventQueue),
    provisioning: await buildProvisioning(config, store, { llm }),
  };
}

/** The chat agent's tools, shared by the chat activities and the MCP server of one process. */
export interface ChatToolkit {
  registry: ToolRegistry;
  /** What a tool's `context.integration(name)` answers: the caller's settings (the user's over the tenant's). */
  resolveIntegration: <N extends IntegrationName>(caller: ToolCaller, name: N) => Promise<IntegrationSettings<N>>;
  /** External MCP servers whose tools are in the registry; closed on shutdown. */
  close(): Promise<void>;
}

/**
 * Every chat tool, once per process: the built-in tools over InfraAI's own data (starting runs
 * through `client`, the same starts as the API's), the integrations (each call reads the caller's
 * settings), and the tools of the configured external MCP servers (a server that does not answer at
 * start is left out, with a warning).
 */
export async function buildChatToolkit(config: Config, adapters: Adapters, client: Client, version: string): Promise<ChatToolkit> {
  const { taskQueue } = config.temporal;
  const starters = chatRunStarters({
    store: adapters.store,
    incidents: createTemporalIncidentGateway(client, { taskQueue }),
    automation: createTemporalAutomationGateway(client, { taskQueue }),
    remediation: { approvalTimeoutMs: config.remediation.approvalTimeoutMs, autoApproveLowRisk: config.remediation.autoApproveLowRisk },
    automationSettings: { approvalTimeoutMs: config.automation.approvalTimeoutMs, runTimeoutMs: config.automation.runTimeoutMs },
    precheck: adapters.automation?.precheck ?? null,
  });
  const diagnosis = createTemporalDiagnosisGateway(client, { taskQueue });
  const connections = createMcpServerConnections(config.mcp.servers, version);
  const external = connections.length > 0 ? await loadMcpChatTools(connections) : { tools: [], unavailable: [] };
  const registry = createToolRegistry([
    ...createBuiltinTools({
      store: adapters.store,
      knowledge: adapters.knowledge,
      ...starters,
      // The diagnosis workflow reads the host (allowlisted commands only); the tool waits for its answer.
      diagnose: (caller, input) => diagnosis.diagnose({ tenantId: caller.tenantId, ...input }, DIAGNOSE_TOOL_TIMEOUT_MS),
    }),
    ...createServiceNowTools(),
    ...createPagerDutyTools(),
    ...createPrometheusTools(),
    ...createGitHubTools(),
    ...createJiraTools(),
    ...createConfluenceTools(),
    ...external.tools,
  ]);
  return {
    registry,
    resolveIntegration: (caller, name) => adapters.integrationSettings.resolve(caller, name),
    close: async () => {
      await Promise.allSettled(connections.map((connection) => connection.close()));
    },
  };
}

/** How long the host_diagnose tool waits for the diagnosis run (its SSH steps are bounded well inside it). */
const DIAGNOSE_TOOL_TIMEOUT_MS = 120_000;
