// The workflow bundle's entry point: every workflow the worker registers.
export { diagnoseError } from './diagnosis.js';
export { remediateIncident } from './incident.js';
export { ingestKnowledgeDocument } from './knowledge.js';
