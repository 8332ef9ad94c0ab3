import { proxyActivities } from '@temporalio/workflow';
import type { createDiagnosisActivities } from '../activities/diagnosis.js';
import type { DiagnoseErrorInput, DiagnosisResult } from '../core/diagnosis.js';
import { LLM_STEP, STORE_STEP } from './activity-options.js';

type DiagnosisActivities = ReturnType<typeof createDiagnosisActivities>;
const { analyseError } = proxyActivities<DiagnosisActivities>(LLM_STEP);
const { collectKubernetesFacts } = proxyActivities<DiagnosisActivities>(STORE_STEP);

/**
 * Error diagnosis: classify, retrieve and analyse (LLM when configured, runbook planner otherwise).
 * Kubernetes facts are collected first (read-only); host facts over SSH slot in beside them.
 */
export async function diagnoseError(input: DiagnoseErrorInput): Promise<DiagnosisResult> {
  const facts = await collectKubernetesFacts(input);
  return analyseError({ ...input, facts });
}
