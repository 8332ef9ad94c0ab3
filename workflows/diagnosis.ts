import { proxyActivities } from '@temporalio/workflow';
import type { createDiagnosisActivities } from '../activities/diagnosis.js';
import type { DiagnoseErrorInput, DiagnosisResult } from '../core/diagnosis.js';
import { STORE_STEP } from './activity-options.js';

const { analyseErrorWithPlanner } = proxyActivities<ReturnType<typeof createDiagnosisActivities>>(STORE_STEP);

/**
 * Error diagnosis: classify and analyse with the runbook planner. Collection steps (Kubernetes,
 * host facts over SSH) and the LLM analysis slot in before the analysis as they arrive.
 */
export async function diagnoseError(input: DiagnoseErrorInput): Promise<DiagnosisResult> {
  return analyseErrorWithPlanner(input);
}
