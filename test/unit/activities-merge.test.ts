import { describe, expect, it } from 'vitest';
import { DuplicateActivityError, mergeActivities } from '../../activities/merge.js';
import { createActivities } from '../../activities/index.js';
import type { Store } from '../../adapters/store/port.js';
import type { KnowledgeBase, StagedIngestion } from '../../adapters/knowledge/port.js';

describe('activity registration', () => {
  it('refuses an activity name two step groups both define, naming both', () => {
    const one = { recordIncident: async () => 1 };
    const two = { recordIncident: async () => 2, other: async () => 3 };
    expect(() => mergeActivities('incident', { record: one, plan: two })).toThrow(DuplicateActivityError);
    expect(() => mergeActivities('incident', { record: one, plan: two })).toThrow(
      "Activity 'recordIncident' is defined by both incident/record and incident/plan.",
    );
  });

  it('registers every activity of every family once', () => {
    // The factories only capture their ports: nothing is called while building.
    const activities = createActivities({
      store: {} as Store,
      knowledge: {} as KnowledgeBase,
      ingestion: {} as StagedIngestion,
      runbooks: [],
      hostAccess: null,
      llm: null,
      kubernetes: null,
    });
    expect(Object.keys(activities).sort()).toEqual(
      [
        'acquireHostLease',
        'analyseDiagnostics',
        'analyseError',
        'applyRemediationAction',
        'chunkStagedDocument',
        'collectHostFacts',
        'combineCauseChain',
        'collectKubernetesFacts',
        'completeDocumentIngestion',
        'failDocumentIngestion',
        'indexDocumentBatch',
        'listNotifiers',
        'lookupCmdbItem',
        'notifyIncident',
        'planFollowUp',
        'planRemediation',
        'projectRun',
        'queryMetrics',
        'recordIncident',
        'releaseHostLease',
        'renewHostLease',
        'runDiagnostics',
        'setIncidentStatus',
        'verifyRemediation',
        'writeIncidentResult',
        'recordAutomationRun',
        'resolveAutomationTargets',
        'generateAutomation',
        'validateAutomation',
        'acquireAutomationLeases',
        'renewAutomationLeases',
        'releaseAutomationLeases',
        'runPlaybook',
        'cleanupAutomationRun',
        'writeAutomationResult',
        'resolvePagerDutyTarget',
        'recordPagerDutyIncident',
        'decideAlert',
        'recordAlertDecision',
        'markAlertJobRunning',
        'finishAlertJob',
        'addAlertJobDetail',
        'resolveAlertHost',
        'prepareAlertCommand',
        'runAlertCommand',
        'verifyAlertCommand',
        'restartPodForAlert',
        'scaleDeploymentForAlert',
        'restartVmForAlert',
        'notifyForAlert',
        'raiseAlertIncident',
        'openChatSession',
        'persistChatMessages',
        'recordChatEvents',
        'summariseChat',
        'chatModelStep',
        'runChatTool',
        'watchChatChildRun',
        'createAlertAutomationRun',
        'recordProvisionStatus',
        'understandProvisionRequest',
        'generateProvisionFiles',
        'validateProvisionHcl',
        'checkProvisionPolicy',
        'pushProvisionBranch',
        'openProvisionPullRequest',
        'readProvisionPullRequest',
        'remindProvisionReview',
        'writeProvisionResult',
      ].sort(),
    );
  });
});
