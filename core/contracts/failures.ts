// Every named failure type of every workflow family, once. Activities throw ApplicationFailure with
// one of these types, activity presets list the ones no retry can fix, and workflows branch on them;
// nothing else spells a failure type as a string. Failure types appear in workflow history and in
// the Web UI, so each name says what happened.

export const FAILURE = {
  /** The incident row is gone (deleted while its run was going on). */
  IncidentNotFound: 'IncidentNotFound',
  /** The incident run ended in a failure it could not escalate from (a changed host key, a bug). */
  IncidentRunFailed: 'IncidentRunFailed',
  /** The CMDB item behind a run no longer exists. */
  TargetGone: 'TargetGone',
  /** The worker was built without host access (no SSH): no host can be worked on. */
  HostAccessUnavailable: 'HostAccessUnavailable',
  /** The CMDB item names no SSH credential, or one that does not exist. */
  CredentialNotFound: 'CredentialNotFound',
  /** The host refused the credential. */
  SshAuthenticationFailed: 'SshAuthenticationFailed',
  /** The host's key differs from the one trusted on first use: nothing runs. */
  HostKeyMismatch: 'HostKeyMismatch',
  /** The host could not be reached or the connection dropped (retryable). */
  HostUnreachable: 'HostUnreachable',
  /** The command policy refused a command for the step that asked to run it. */
  CommandRefused: 'CommandRefused',
  /** A high-risk change reached the fix step without an approval. */
  ApprovalRequired: 'ApprovalRequired',
  /** A fix whose outcome is unknown after a crash (no guard can tell): it is never run again blindly. */
  FixOutcomeUnknown: 'FixOutcomeUnknown',
  /** Another run holds the host's lease, or the tenant is at its cap (retryable: the run waits). */
  HostBusy: 'HostBusy',
  /** The lease was lost (expired and taken by another run) while this run still held the host. */
  HostLeaseLost: 'HostLeaseLost',
  /** A runbook named by a plan is not loaded in this worker. */
  RunbookMissing: 'RunbookMissing',
  /** A step that needs its workflow's identity ran outside a workflow. */
  NotInWorkflow: 'NotInWorkflow',
  /** The model endpoint is rate limiting or down (retryable, honouring Retry-After). */
  LlmUnavailable: 'LlmUnavailable',
  /** The embeddings endpoint refused the request (bad key, bad model): retrying will not help. */
  EmbeddingsRejected: 'EmbeddingsRejected',
  /** The embeddings endpoint is rate limiting or down (retryable). */
  EmbeddingsUnavailable: 'EmbeddingsUnavailable',
  /** Document ingestion failed; the document is marked failed and can be uploaded again. */
  IngestionFailed: 'IngestionFailed',
  /** A ticketing or paging tool refused the notice (bad credentials, bad request). */
  NotificationRejected: 'NotificationRejected',
  /** A ticketing or paging tool is rate limiting or down (retryable). */
  NotificationUnavailable: 'NotificationUnavailable',
  /** An automation request no template understood (and no LLM is configured): the API answers 422 naming what was understood. */
  AutomationRequestUnrecognised: 'AutomationRequestUnrecognised',
  /** A playbook failed validation (YAML, allowlist, command policy, become, hosts, syntax check or lint): it never runs. */
  PlaybookInvalid: 'PlaybookInvalid',
  /** ansible-playbook or ansible-lint is not installed where the check runs: install them, retrying will not help. */
  PlaybookCheckerUnavailable: 'PlaybookCheckerUnavailable',
  /** The model's playbook could not be used (no valid structured answer, or tasks that are not YAML). */
  PlaybookGenerationFailed: 'PlaybookGenerationFailed',
  /** The automation run's row is gone (deleted while its run was going on). */
  AutomationRunNotFound: 'AutomationRunNotFound',
  /** The worker was built without the automation toolkit (generator, validator, runner). */
  AutomationUnavailable: 'AutomationUnavailable',
  /** A playbook reached the run step without the approval of its artifacts hash (or with another hash). */
  AutomationNotApproved: 'AutomationNotApproved',
  /** No trusted host key is on record for a target host: the runner would have to trust blindly. */
  HostKeyUnknown: 'HostKeyUnknown',
  /** The runner failed to start or follow the playbook (retryable: a retry re-attaches to the first execution). */
  RunnerUnavailable: 'RunnerUnavailable',
  /** The automation run ended in a failure no step could handle (a bug, a store gone for good). */
  AutomationRunFailed: 'AutomationRunFailed',
  /** The Ansible runner cannot work (ansible-runner missing, ECS or S3 refusing): retryable, the run key keeps it once. */
  AnsibleRunnerUnavailable: 'AnsibleRunnerUnavailable',
  /** The runner refused the run's input (a command option it does not pass on, a bad credential name). */
  AnsibleRunInputRejected: 'AnsibleRunInputRejected',
  /** The playbook's execution died without a final status: its effect is unknown and it is never run again. */
  AnsibleRunLost: 'AnsibleRunLost',
  /** The PagerDuty run could not record its incident or start its remediation (the store gone for 30 minutes, a bug). */
  PagerDutyRunFailed: 'PagerDutyRunFailed',
  /** The policy job of an alert's run is gone (deleted with its tenant while the run went on). */
  PolicyJobNotFound: 'PolicyJobNotFound',
  /** A self-healing action's adapter (Kubernetes, vSphere, a notifier) refused it or is not configured: retrying will not help. */
  PolicyActionRefused: 'PolicyActionRefused',
  /** A self-healing action's adapter is unreachable or busy (retryable). */
  PolicyActionUnavailable: 'PolicyActionUnavailable',
  /** The chat session's row is gone (deleted, or its tenant removed) while its conversation ran. */
  ChatSessionNotFound: 'ChatSessionNotFound',
  /** No LLM is configured and the worker has no offline planner: the chat cannot answer. */
  ChatModelUnavailable: 'ChatModelUnavailable',
  /** A chat tool failed for good (after its retries): the agent is told and says so. */
  ChatToolFailed: 'ChatToolFailed',
  /** A chat tool's service is rate limiting or down (retryable, then ChatToolFailed). */
  ChatToolUnavailable: 'ChatToolUnavailable',
  /** The provisioning request's row is gone (deleted, or its tenant removed) while its run went on. */
  ProvisionRequestNotFound: 'ProvisionRequestNotFound',
  /** The worker was built without the provisioning toolkit or a git host: nothing can be generated or pushed. */
  ProvisioningUnavailable: 'ProvisioningUnavailable',
  /** A step found the request's row without what an earlier step stored (files, requirements, pull request). */
  ProvisionStateMissing: 'ProvisionStateMissing',
  /** The git host is unreachable or rate limiting (retryable; each git step finds what an earlier attempt made). */
  GitHostUnavailable: 'GitHostUnavailable',
  /** The git host refused for good (credentials, repository missing, validation): retrying will not help. */
  GitHostRefused: 'GitHostRefused',
  /** The provisioning run ended in a failure no step could handle (a bug, a store gone for good). */
  ProvisionRunFailed: 'ProvisionRunFailed',
} as const;

export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];

/** Failures that mean "this host cannot be worked on from here": the incident escalates to a human. */
export const UNREACHABLE_HOST_FAILURES: readonly FailureType[] = [
  FAILURE.CredentialNotFound,
  FAILURE.SshAuthenticationFailed,
  FAILURE.HostUnreachable,
  FAILURE.HostAccessUnavailable,
  FAILURE.TargetGone,
];
