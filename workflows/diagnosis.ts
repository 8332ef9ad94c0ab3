import { proxyActivities } from '@temporalio/workflow';
import type { createDiagnosisActivities } from '../activities/diagnosis.js';
import type { DiagnoseErrorInput, DiagnosisResult } from '../core/diagnosis.js';
import { LLM_STEP } from './activity-options.js';

const { analyseError } = proxyActivities<ReturnType<typeof createDiagnosisActivities>>(LLM_STEP);

/**
 * Error diagnosis: classify, retrieve and analyse (LLM when configured, runbook planner otherwise).
 * Collection steps (Kubernetes pods and events, host facts over SSH) slot in before the analysis.
 */
export async function diagnoseError(input: DiagnoseErrorInput): Promise<DiagnosisResult> {
  return analyseError(input);
}
