import { z } from '@hono/zod-openapi';
import type { KnowledgeBase } from '../../adapters/knowledge/port.js';
import { KubernetesUnavailableError, type KubernetesCluster } from '../../adapters/kubernetes/port.js';
import type { Store } from '../../adapters/store/port.js';
import { classify } from '../../core/planner.js';
import type { Runbook } from '../../core/runbook.js';
import type { DiagnosisResult } from '../../core/contracts/diagnosis.js';
import type { Same } from '../remediation-schemas.js';
import { ProblemError, unprocessable } from '../problem.js';
import { unknownCmdbItem } from '../run-routes.js';
import { TagIdSchema, text } from '../schemas.js';
import type { DiagnosisGateway } from '../temporal-gateway.js';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../validation.js';

const tags = ['Diagnosis'];
const DIAGNOSE_TIMEOUT_MS = 30_000;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const DiagnoseSchema = z
  .object({
    errorMessage: text({ min: 3, max: 20_000, trim: true }).openapi({
      example: 'Back-off restarting failed container api in pod api-7f9c',
    }),
    namespace: z.string().max(63).regex(K8S_NAME, 'a Kubernetes namespace name').optional(),
    pod: z.string().max(253).regex(K8S_NAME, 'a Kubernetes pod name').optional(),
    tagId: TagIdSchema.optional(),
  })
  .strict()
  .openapi('DiagnoseRequest');

const DiagnosisSchema = z
  .object({
    category: z.string(),
    rootCause: z.string(),
    fixCommands: z.array(
      z.object({ command: z.string().nullable(), risk: z.enum(['low', 'high']), description: z.string(), unresolved: z.array(z.string()) }),
    ),
    diagnosticCommands: z.array(z.object({ command: z.string().nullable(), description: z.string(), unresolved: z.array(z.string()) })),
    prevention: z.array(z.string()),
    runbooks: z.array(z.object({ id: z.string(), title: z.string(), score: z.number(), source: z.enum(['patterns', 'knowledge']) })),
    confidence: z.number(),
    mode: z.enum(['planner', 'llm']),
    escalate: z.boolean(),
    parameters: z.record(z.string(), z.string()),
    target: z.object({ tagId: z.string(), hostname: z.string() }).nullable(),
    findings: z
      .array(z.object({ finding: z.string(), diagnostic: z.string(), evidence: z.string() }))
      .optional()
      .openapi({ description: 'What the runbook rules established from the host output' }),
    llm: z
      .object({
        provider: z.string(),
        model: z.string(),
        calls: z.number().int(),
        inputTokens: z.number().int(),
        outputTokens: z.number().int(),
      })
      .optional()
      .openapi({ description: 'Model and token use when an LLM answered' }),
    fallbackReason: z.string().optional().openapi({ description: 'Why the planner answered although an LLM is configured' }),
    facts: z
      .object({
        kubernetes: z
          .object({
            pod: z
              .object({
                name: z.string(),
                phase: z.string(),
                ready: z.boolean(),
                restarts: z.number().int(),
                reason: z.string().nullable(),
                exitCode: z.number().int().nullable(),
              })
              .nullable(),
            events: z.array(z.object({ type: z.string(), reason: z.string(), message: z.string(), count: z.number().int() })),
          })
          .nullable(),
        host: z
          .object({
            tagId: z.string(),
            address: z.string(),
            runbookId: z.string().nullable(),
            hostKeyFingerprint: z.string(),
            commands: z.array(
              z.object({
                id: z.string(),
                command: z.string(),
                exitCode: z.number().int().nullable(),
                output: z.string(),
                truncated: z.boolean(),
                timedOut: z.boolean(),
                durationMs: z.number(),
              }),
            ),
          })
          .nullable()
          .optional(),
        notes: z.array(z.string()),
      })
      .nullable()
      .openapi({ description: 'Read-only evidence gathered before the analysis: Kubernetes pod and events, host commands over SSH' }),
    workflowId: z.string(),
  })
  .openapi('Diagnosis');
// The document says what the workflow returns, field by field (and the workflow id added here).
const sameShape: Same<Omit<z.infer<typeof DiagnosisSchema>, 'workflowId'>, DiagnosisResult> = true;
void sameShape;

const SuggestSchema = z
  .object({ errorMessage: text({ min: 2, max: 20_000, trim: true }), k: z.number().int().min(1).max(20).default(5) })
  .strict()
  .openapi('SuggestRunbookRequest');

/** Reference 003's endpoints: diagnose an error, suggest runbooks, cluster health. */
export function diagnosisRoutes(deps: {
  store: Store;
  knowledge: KnowledgeBase;
  runbooks: readonly Runbook[];
  diagnosis: DiagnosisGateway;
  kubernetes: KubernetesCluster | null;
}) {
  const app = createRouter();

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/diagnose',
        operationId: 'diagnoseError',
        tags,
        summary: 'Diagnose an error: classify, retrieve runbooks, analyse, suggest fixes (runs the diagnoseError workflow)',
        request: { body: jsonBody(DiagnoseSchema) },
        responses: { 200: jsonResponse(DiagnosisSchema, 'The diagnosis') },
      },
      [502, 504],
    ),
    async (c) => {
      const body = c.req.valid('json');
      const tenantId = c.get('principal').tenantId;
      if (body.tagId && !(await deps.store.cmdb.get(tenantId, body.tagId))) {
        throw unprocessable('The request body is not valid.', [unknownCmdbItem('tagId', body.tagId)]);
      }
      const { workflowId, result } = await deps.diagnosis.diagnose({ tenantId, ...body }, DIAGNOSE_TIMEOUT_MS);
      return c.json({ ...result, workflowId }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/suggest-runbook',
      operationId: 'suggestRunbooks',
      tags,
      summary: 'Suggest runbooks for an error message (patterns and knowledge search)',
      request: { body: jsonBody(SuggestSchema) },
      responses: {
        200: jsonResponse(
          z.object({
            items: z.array(
              z.object({
                id: z.string(),
                title: z.string(),
                score: z.number(),
                source: z.enum(['patterns', 'knowledge']),
                excerpt: z.string().nullable(),
              }),
            ),
          }),
          'Runbooks, best first',
        ),
      },
    }),
    async (c) => {
      const { errorMessage, k } = c.req.valid('json');
      const matches = classify(errorMessage, deps.runbooks).map((m) => ({
        id: m.runbookId,
        title: m.title,
        score: m.confidence,
        source: 'patterns' as const,
        excerpt: null,
      }));
      const hits = (await deps.knowledge.search(c.get('principal').tenantId, errorMessage, { k, kinds: ['runbook', 'sop'] })).map((h) => ({
        id: h.docId,
        title: h.title,
        score: h.score,
        source: 'knowledge' as const,
        excerpt: h.text.slice(0, 300),
      }));
      const items = [...matches, ...hits].filter((item, i, all) => all.findIndex((other) => other.title === item.title) === i).slice(0, k);
      return c.json({ items }, 200);
    },
  );

  const PodSchema = z.object({
    name: z.string(),
    namespace: z.string(),
    phase: z.string(),
    ready: z.boolean(),
    restarts: z.number().int(),
    reason: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    node: z.string().nullable(),
  });
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/cluster-health',
      operationId: 'getClusterHealth',
      tags,
      summary: 'Nodes and pods summary of the configured Kubernetes cluster',
      request: { query: z.object({ namespace: z.string().max(63).regex(K8S_NAME).default('default') }).strict() },
      responses: {
        200: jsonResponse(
          z
            .object({
              status: z.enum(['healthy', 'degraded']),
              nodes: z.object({
                total: z.number().int(),
                ready: z.number().int(),
                items: z.array(
                  z.object({ name: z.string(), ready: z.boolean(), kubeletVersion: z.string(), problems: z.array(z.string()) }),
                ),
              }),
              pods: z.object({
                namespace: z.string(),
                total: z.number().int(),
                byPhase: z.record(z.string(), z.number().int()),
                unhealthy: z.array(PodSchema),
              }),
            })
            .openapi('ClusterHealth'),
          'Cluster summary',
        ),
      },
    }),
    async (c) => {
      if (!deps.kubernetes)
        throw new ProblemError(503, 'cluster-not-configured', 'No Kubernetes cluster is configured (set INFRAAI_KUBECONFIG).');
      const { namespace } = c.req.valid('query');
      try {
        const [nodes, pods] = await Promise.all([deps.kubernetes.listNodes(), deps.kubernetes.listPods(namespace)]);
        const byPhase: Record<string, number> = {};
        for (const pod of pods) byPhase[pod.phase] = (byPhase[pod.phase] ?? 0) + 1;
        const unhealthy = pods.filter((pod) => pod.phase !== 'Succeeded' && (!pod.ready || pod.reason !== null));
        const readyNodes = nodes.filter((n) => n.ready).length;
        const status =
          readyNodes === nodes.length && unhealthy.length === 0 && nodes.every((n) => n.problems.length === 0)
            ? ('healthy' as const)
            : ('degraded' as const);
        return c.json(
          {
            status,
            nodes: { total: nodes.length, ready: readyNodes, items: nodes },
            pods: { namespace, total: pods.length, byPhase, unhealthy },
          },
          200,
        );
      } catch (err) {
        if (err instanceof KubernetesUnavailableError) throw new ProblemError(503, 'cluster-unavailable', err.message);
        throw err;
      }
    },
  );

  return app;
}
