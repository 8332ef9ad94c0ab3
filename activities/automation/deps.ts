import type { AnsibleRunner } from '../../adapters/ansible-runner/port.js';
import type { CredentialVault } from '../../adapters/secrets/port.js';
import type { HostAccess } from '../../adapters/ssh/port.js';
import type { Store } from '../../adapters/store/port.js';
import type { Telemetry } from '../../adapters/telemetry/port.js';
import type { CommandPolicy } from '../../core/command-policy.js';
import type { AutomationArtifacts, AutomationGenerationOutcome, AutomationHost, ValidationFinding } from '../../core/automation.js';

// What the automation activities need, as injected dependencies: the store and the vault (ports
// that exist), and the automation toolkit — generation, validation, hashing and the runner — whose
// implementations live in their own modules (templates and the LLM generator, the playbook
// checker, the local and ECS runners). wiring.ts builds the toolkit (`automationToolkit`); tests
// pass fakes typed against these interfaces.

/** What the static validation knows about the run besides its artifacts. */
export interface StaticValidationContext {
  tenantId: string;
  /** The CMDB hosts the run may touch: a play on any other host is a finding. */
  hosts: AutomationHost[];
  commandPolicy: CommandPolicy;
  /** The generator declared that the playbook runs as root (a play-level `become: true`). */
  become: boolean;
}

/** `ansible-playbook --syntax-check` and `ansible-lint`, each returning its findings (none: passes). */
export interface PlaybookChecker {
  syntaxCheck(artifacts: AutomationArtifacts): Promise<ValidationFinding[]>;
  lint(artifacts: AutomationArtifacts): Promise<ValidationFinding[]>;
}

/** Generation, validation, hashing and running: built in wiring.ts from the modules that implement them. */
export interface AutomationToolkit {
  /** Maintained templates, or the LLM with structured output when one is configured. */
  generate(
    request: string,
    hosts: AutomationHost[],
    options: { checkMode: boolean },
  ): AutomationGenerationOutcome | Promise<AutomationGenerationOutcome>;
  /**
   * The template generator alone (no model, milliseconds), for the API's early 422 on a request no
   * template covers. Wiring leaves it out when an LLM is configured: the model may write what no
   * template covers, so the run decides.
   */
  precheck?: ((request: string, hosts: AutomationHost[], options: { checkMode: boolean }) => AutomationGenerationOutcome) | null;
  /** YAML, module allowlist with argument checks, command policy, become, hosts. */
  validateStatic(artifacts: AutomationArtifacts, context: StaticValidationContext): ValidationFinding[] | Promise<ValidationFinding[]>;
  checker: PlaybookChecker;
  /** SHA-256 (hex) over every artifact: playbook, inventory, variables, collections, command, hosts. */
  hash(artifacts: AutomationArtifacts): string;
  runner: AnsibleRunner;
}

export type { AutomationGenerationOutcome };

export interface AutomationActivityDeps {
  store: Store;
  /** Where the runner's private keys come from (never through the workflow). Null: no run can authenticate. */
  vault?: CredentialVault | null;
  /**
   * SSH access with trust on first use: a target no run has connected to yet is connected to once,
   * which records its host key (as a diagnosis or an incident run would), before the runner checks
   * host keys strictly against what is on record. Null: such a host is refused (HostKeyUnknown).
   */
  hostAccess?: HostAccess | null;
  /** Null or absent: the worker has no automation toolkit; automation runs fail with AutomationUnavailable. */
  automation?: AutomationToolkit | null;
  commandPolicy?: CommandPolicy;
  /** How long a host lease lives unless renewed; shared with incident runs (default 15 min). */
  hostLeaseTtlMs?: number;
  /** Hosts one tenant may hold leases on at once, counted with remediations (default 50 for automation runs). */
  maxAutomationHostLeases?: number;
  /**
   * How often the run step reads the runner's new events into the stored log while the playbook
   * runs (default 500 ms; a runner with API rate limits asks for more with `eventsReadIntervalMs`).
   */
  automationLogFollowMs?: number;
  /** Counts ended runs (family `ansible`), playbook durations and stored log lines; null: nothing counted. */
  telemetry?: Telemetry | null;
}

/** Which run a step works on. */
export interface AutomationRunRef {
  tenantId: string;
  runId: string;
}
