import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostRecap } from '../../core/automation.js';
import type { AutomationStatus } from '../../core/contracts/automation.js';
import type { Environment, IncidentStatus, Severity } from '../../core/incident.js';
import { OFFLINE_NOTICE, planOfflineStep, type PlannerMessage, type PlannerToolCall } from '../../core/chat/offline-planner.js';
import { chatRunStarters } from '../../api/run-starts.js';
import {
  createTemporalAutomationGateway,
  createTemporalDiagnosisGateway,
  createTemporalIncidentGateway,
} from '../../api/temporal-gateway.js';
import type { KnowledgeKind, Role } from '../../adapters/store/port.js';
import { createBuiltinTools } from '../../tools/builtin/index.js';
import { IntegrationNotConfiguredError } from '../../tools/integrations.js';
import { createToolRegistry, type ToolRegistry } from '../../tools/registry.js';
import type { ToolCaller, ToolRunContext } from '../../tools/tool.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { loadRunbooksIntoKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';

// The offline planner against the real built-in tools: a real store (PGlite), the store-backed
// knowledge base (with the bundled runbooks as global documents), and the test run's Temporal with a worker, so a confirmed start really starts a
// run and host_diagnose really runs the diagnosis workflow. Every question of
// test/fixtures/chat/offline-questions.json runs in a tenant of its own, seeded with what it needs;
// the planner and the tools loop until the planner answers.

interface Fixture {
  seed: {
    cmdb: Record<
      string,
      {
        hostname: string;
        address: string;
        environment: Environment;
        os: string;
        serviceManager: string;
        owner: string;
        description: string;
        tags: Record<string, string>;
      }
    >;
    knowledge: Record<string, { title: string; kind: KnowledgeKind; text: string }>;
    incidents: Record<
      string,
      {
        tagId: string;
        title: string;
        description: string;
        severity: Severity;
        status: IncidentStatus;
        summary?: string;
        result?: string;
      }
    >;
    automation: Record<
      string,
      {
        request: string;
        targets: string[];
        checkMode: boolean;
        status: AutomationStatus;
        summary?: string;
        error?: string;
        recap?: Record<string, HostRecap>;
      }
    >;
  };
  questions: Question[];
}

interface Question {
  question: string;
  needs: { cmdb?: string[]; knowledge?: string[]; incidents?: string[]; automation?: string[] };
  expectTools: string[];
  expectFacts: string[];
  expectAbsent?: string[];
  expectNoTools?: string[];
  expectProposal?: { tool: string; arguments: Record<string, unknown> };
  confirm?: boolean;
  role?: Role;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/chat/offline-questions.json', import.meta.url), 'utf8')) as Fixture;

let stack: TestStack;
let registry: ToolRegistry;
const passed: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ withWorker: true });
  // As in a deployment: the bundled runbooks are global knowledge every tenant's search also ranks.
  await loadRunbooksIntoKnowledgeBase(stack.knowledge, await loadRunbooks());
  const incidents = createTemporalIncidentGateway(stack.client, { taskQueue: stack.taskQueue });
  const automation = createTemporalAutomationGateway(stack.client, { taskQueue: stack.taskQueue });
  const diagnosis = createTemporalDiagnosisGateway(stack.client, { taskQueue: stack.taskQueue });
  const starters = chatRunStarters({ store: stack.store, incidents, automation });
  registry = createToolRegistry(
    createBuiltinTools({
      store: stack.store,
      knowledge: stack.knowledge,
      ...starters,
      diagnose: (caller, input) => diagnosis.diagnose({ tenantId: caller.tenantId, ...input }, 30_000),
    }),
  );
});

afterAll(async () => {
  console.info(`offline planner: ${passed.length}/${fixture.questions.length} operator questions answered correctly`);
  await stack?.close();
});

/** A tenant of its own holding exactly what the question needs (incidents and runs numbered in `needs` order). */
async function seedTenant(index: number, needs: Question['needs']): Promise<string> {
  const { store, knowledge } = stack;
  const tenant = await store.tenants.ensure(`offline-q${index}-${randomUUID().slice(0, 8)}`);
  for (const tagId of needs.cmdb ?? []) {
    const item = fixture.seed.cmdb[tagId]!;
    await store.cmdb.create(tenant.id, { tagId, instanceId: null, port: 22, sshUser: null, sshCredential: null, ...item });
  }
  for (const key of needs.knowledge ?? []) {
    const doc = fixture.seed.knowledge[key]!;
    await knowledge.ingest({
      tenantId: tenant.id,
      title: doc.title,
      kind: doc.kind,
      source: `fixture:${key}`,
      contentType: 'text/markdown',
      text: doc.text,
    });
  }
  for (const key of needs.incidents ?? []) {
    const seed = fixture.seed.incidents[key]!;
    const { incident } = await store.incidents.create(tenant.id, {
      id: randomUUID(),
      title: seed.title,
      description: seed.description,
      severity: seed.severity,
      tagId: seed.tagId,
      source: 'fixture',
      createdBy: null,
    });
    await store.incidents.update(tenant.id, incident.id, {
      status: seed.status,
      summary: seed.summary ?? null,
      targetHost: fixture.seed.cmdb[seed.tagId]!.hostname,
    });
    if (seed.result) {
      await store.results.write(tenant.id, {
        incidentId: incident.id,
        idempotencyKey: `fixture-${key}`,
        status: seed.status,
        summary: seed.result,
        details: {},
      });
    }
  }
  for (const key of needs.automation ?? []) {
    const seed = fixture.seed.automation[key]!;
    const { run } = await store.automation.create(tenant.id, {
      id: randomUUID(),
      request: seed.request,
      targets: seed.targets,
      checkMode: seed.checkMode,
      createdBy: null,
    });
    await store.automation.update(tenant.id, run.id, {
      status: seed.status,
      summary: seed.summary ?? null,
      error: seed.error ?? null,
      recap: seed.recap ?? null,
    });
  }
  return tenant.id;
}

interface TurnOutcome {
  answer: string;
  calls: PlannerToolCall[];
  proposals: PlannerToolCall[];
}

/** One chat turn: planner → tools (a change call proposed, then confirmed or declined) → planner, until it answers. */
async function runTurn(caller: ToolCaller, question: string, confirm: boolean): Promise<TurnOutcome> {
  const messages: PlannerMessage[] = [{ role: 'user', content: question }];
  const tools = registry.describe(caller);
  const calls: PlannerToolCall[] = [];
  const proposals: PlannerToolCall[] = [];
  for (let step = 0; step < 12; step++) {
    const next = planOfflineStep(messages, tools);
    if ('answer' in next) return { answer: next.answer, calls, proposals };
    expect(next.toolCalls.length).toBeGreaterThan(0);
    messages.push({ role: 'assistant', content: '', toolCalls: next.toolCalls });
    calls.push(...next.toolCalls);
    const results = await Promise.all(
      next.toolCalls.map(async (call): Promise<PlannerMessage> => {
        const context: ToolRunContext = {
          caller,
          signal: new AbortController().signal,
          callKey: `offline-test/${call.id}/${randomUUID()}`,
          integration: (name) => Promise.reject(new IntegrationNotConfiguredError(name)),
        };
        try {
          const prepared = await registry.prepare(call.name, call.arguments, caller);
          let confirmedHash: string | undefined;
          if (prepared.risk === 'change') {
            proposals.push(call);
            if (!confirm)
              return { role: 'tool', toolCallId: call.id, name: call.name, content: 'The user declined this action.', isError: true };
            confirmedHash = prepared.hash;
          }
          const result = await registry.run(prepared, context, confirmedHash);
          return { role: 'tool', toolCallId: call.id, name: call.name, content: result.content, data: result.data };
        } catch (err) {
          return { role: 'tool', toolCallId: call.id, name: call.name, content: (err as Error).message, isError: true };
        }
      }),
    );
    messages.push(...results);
  }
  throw new Error(`No answer after 12 steps for "${question}"`);
}

describe('offline planner over the built-in tools', () => {
  it('has at least 30 operator questions, each seeding only data the fixture defines', () => {
    expect(fixture.questions.length).toBeGreaterThanOrEqual(30);
    for (const q of fixture.questions) {
      for (const kind of ['cmdb', 'knowledge', 'incidents', 'automation'] as const) {
        for (const key of q.needs[kind] ?? []) expect(fixture.seed[kind], `${q.question}: ${kind} ${key}`).toHaveProperty([key]);
      }
    }
  });

  it.each(fixture.questions.map((q, index) => [index, q] as const))('question %i: %o', async (index, q) => {
    const tenantId = await seedTenant(index, q.needs);
    const caller: ToolCaller = { tenantId, userId: 'api-key:offline-test', role: q.role ?? 'operator' };
    const { answer, calls, proposals } = await runTurn(caller, q.question, q.confirm ?? false);
    const names = calls.map((c) => c.name);

    expect(answer.startsWith(OFFLINE_NOTICE), answer).toBe(true);
    expect(answer).toMatch(/offline/i);
    for (const tool of q.expectTools) expect(names, `${q.question} should call ${tool}`).toContain(tool);
    if (q.expectTools.length === 0) expect(names).toEqual([]);
    for (const tool of q.expectNoTools ?? []) expect(names).not.toContain(tool);
    for (const fact of q.expectFacts) expect(answer.toLowerCase(), `answer to "${q.question}":\n${answer}`).toContain(fact.toLowerCase());
    for (const absent of q.expectAbsent ?? []) expect(answer.toLowerCase(), answer).not.toContain(absent.toLowerCase());

    if (q.expectProposal) {
      expect(proposals.map((p) => p.name)).toEqual([q.expectProposal.tool]);
      expect(proposals[0]!.arguments).toMatchObject(q.expectProposal.arguments);
    } else {
      expect(proposals).toEqual([]);
    }
    // What a confirmed change left behind, and that a declined one left nothing.
    const chatIncidents = (await stack.store.incidents.list(tenantId, {}, { limit: 50 })).items.filter((i) => i.source === 'chat');
    const chatRuns = (await stack.store.automation.list(tenantId, {}, { limit: 50 })).items.filter((r) => r.createdBy === caller.userId);
    const started = q.confirm ? q.expectProposal?.tool : undefined;
    expect(chatIncidents.length).toBe(started === 'incidents_start_remediation' ? 1 : 0);
    expect(chatRuns.length).toBe(started === 'automation_start_run' ? 1 : 0);
    if (started === 'incidents_start_remediation') {
      expect(chatIncidents[0]).toMatchObject({ tagId: q.expectProposal!.arguments.tagId, createdBy: caller.userId });
      await expect(stack.client.workflow.getHandle(chatIncidents[0]!.workflowId).describe()).resolves.toBeTruthy();
    }
    if (started === 'automation_start_run') {
      expect(chatRuns[0]).toMatchObject({ targets: q.expectProposal!.arguments.targets, checkMode: q.expectProposal!.arguments.checkMode });
      await expect(stack.client.workflow.getHandle(chatRuns[0]!.workflowId).describe()).resolves.toBeTruthy();
    }
    passed.push(q.question);
  });
});
