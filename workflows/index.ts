// The workflow bundle's entry point: every workflow the worker registers, one family per folder.
export { handleAlert } from './alerts/handle-alert.js';
export { runAutomation } from './automation/run-automation.js';
export { diagnoseError } from './diagnosis/diagnose-error.js';
export { remediateIncident } from './incident/remediate-incident.js';
export { ingestKnowledgeDocument } from './knowledge/ingest-document.js';
export { pagerDutyIncident } from './pagerduty/pagerduty-incident.js';
export { chatConversation } from './chat/chat-conversation.js';
export { provisionInfrastructure } from './provisioning/provision-infrastructure.js';
