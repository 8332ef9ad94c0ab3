import { z } from 'zod';
import { BUILTIN_TOOL, type HostDiagnosisData } from '../../core/chat/builtin-tools.js';
import type { DiagnosisResult } from '../../core/contracts/diagnosis.js';
import type { ChatTool, ToolCaller } from '../tool.js';
import { boundedContent, cmdbLink, oneLine, TAG_ID_PATTERN } from './shared.js';

/** Runs the diagnoseError workflow and waits for it; the wiring supplies it (the API's DiagnosisGateway). */
export type HostDiagnoser = (
  caller: ToolCaller,
  input: { errorMessage: string; tagId?: string | undefined },
) => Promise<{ workflowId: string; result: DiagnosisResult }>;

const DiagnoseArgs = z.strictObject({
  errorMessage: z.string().trim().min(3).max(20_000).describe('The symptom or error message to diagnose'),
  tagId: z
    .string()
    .min(1)
    .max(128)
    .regex(TAG_ID_PATTERN, 'a CMDB tagId')
    .optional()
    .describe('The CMDB item whose host to inspect with read-only commands'),
});

/**
 * `host_diagnose`: the diagnosis workflow (classify, gather read-only evidence on the host over SSH,
 * analyse, suggest fixes). It only reads: the diagnostics it runs are the runbooks' read-only
 * commands, each passed through the command policy by the workflow. Its fixes are suggestions.
 */
export function createDiagnosisTools({ diagnose }: { diagnose: HostDiagnoser }): ChatTool[] {
  const tool: ChatTool<z.output<typeof DiagnoseArgs>> = {
    name: BUILTIN_TOOL.hostDiagnose,
    description:
      'Diagnose an error on a host: classifies it, runs read-only diagnostic commands on the CMDB item over SSH, and returns the ' +
      'likely root cause, suggested fix commands (not run) and matching runbooks. Changes nothing.',
    input: DiagnoseArgs,
    // POST /api/v1/diagnose needs an operator: it opens SSH sessions to the tenant's hosts.
    role: 'operator',
    risk: () => 'read',
    async run(args, { caller }) {
      const { workflowId, result } = await diagnose(caller, args);
      const data: HostDiagnosisData = {
        workflowId,
        category: result.category,
        rootCause: result.rootCause,
        confidence: result.confidence,
        escalate: result.escalate,
        target: result.target,
        fixCommands: result.fixCommands.map((f) => ({ command: f.command, risk: f.risk, description: f.description })),
        findings: (result.findings ?? []).map((f) => f.finding),
        runbooks: result.runbooks.map((r) => r.title),
      };
      return {
        content: boundedContent(
          [
            `Diagnosis ${workflowId}${result.target ? ` of ${result.target.tagId}` : ''}: ${result.category} (confidence ${result.confidence})`,
            `Root cause: ${oneLine(result.rootCause, 600)}`,
            ...data.findings.map((f) => `Finding: ${oneLine(f, 200)}`),
            ...data.fixCommands.map(
              (f) => `Suggested fix (${f.risk} risk, not run): ${f.command ?? '(no command)'} — ${oneLine(f.description, 160)}`,
            ),
            data.runbooks.length ? `Runbooks: ${data.runbooks.join('; ')}` : '',
            result.escalate ? 'It should be escalated to a human.' : '',
          ].filter(Boolean),
        ),
        data,
        links: result.target ? [cmdbLink(result.target)] : [],
      };
    },
  };
  return [tool];
}
