import { patched, proxyActivities } from '@temporalio/workflow';
import type { createDiagnosisActivities } from '../../activities/diagnosis/index.js';
import type { DiagnoseErrorInput, DiagnosisResult } from '../../core/contracts/diagnosis.js';
import { LLM_STEP, SSH_READ_STEP, STORE_STEP } from '../activity-options.js';

type DiagnosisActivities = ReturnType<typeof createDiagnosisActivities>;
const { analyseError } = proxyActivities<DiagnosisActivities>(LLM_STEP);
const { collectKubernetesFacts } = proxyActivities<DiagnosisActivities>(STORE_STEP);
const { collectHostFacts } = proxyActivities<DiagnosisActivities>(SSH_READ_STEP);

/**
 * Error diagnosis: classify, retrieve and analyse (LLM when configured, runbook planner otherwise).
 * Kubernetes facts and host facts (read-only commands over SSH) are collected side by side first.
 */
export async function diagnoseError(input: DiagnoseErrorInput): Promise<DiagnosisResult> {
  // Runs started before host collection existed replay without it.
  if (!patched('collect-host-facts')) return analyseError({ ...input, facts: await collectKubernetesFacts(input) });
  const [kubernetesFacts, hostFacts] = await Promise.all([collectKubernetesFacts(input), collectHostFacts(input)]);
  const facts = { ...kubernetesFacts, host: hostFacts.host, notes: [...kubernetesFacts.notes, ...hostFacts.notes] };
  return analyseError({ ...input, facts });
}
