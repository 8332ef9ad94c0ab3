import { describe, expect, it } from 'vitest';
import type { CmdbLookupData, KnowledgeSearchData } from '../../core/chat/builtin-tools.js';
import { OFFLINE_NOTICE, planOfflineStep, promQl, type PlannerMessage, type PlannerStep } from '../../core/chat/offline-planner.js';
import { hostCandidates, readQuestion } from '../../core/chat/offline-question.js';
import type { ToolDescription } from '../../tools/registry.js';

// The offline planner on its own: question reading, the calls it chooses for the tools it is given,
// and what it says when tools fail or are missing. The planner over the real tools and a real store
// is test/integration/offline-planner.test.ts.

const tool = (name: string): ToolDescription => ({ name, description: name, parameters: { type: 'object' }, mutating: false });
const READ_TOOLS = [
  'knowledge_search',
  'cmdb_lookup',
  'cmdb_get_item',
  'incidents_list',
  'incidents_get',
  'automation_runs_list',
  'automation_run_get',
];
const viewerTools = READ_TOOLS.map(tool);
const operatorTools = [...viewerTools, tool('incidents_start_remediation'), tool('automation_start_run')];

const db01: CmdbLookupData = {
  items: [
    {
      tagId: 'db-01',
      hostname: 'db-01.prod.example.com',
      address: '10.0.2.21',
      environment: 'production',
      os: 'linux',
      serviceManager: 'systemd',
      owner: 'team-data',
      description: 'Primary PostgreSQL',
      tags: { role: 'db' },
    },
  ],
  nextCursor: null,
};

function calls(step: PlannerStep) {
  if (!('toolCalls' in step)) throw new Error(`expected tool calls, got the answer: ${step.answer}`);
  return step.toolCalls;
}

function answerOf(step: PlannerStep): string {
  if (!('answer' in step)) throw new Error(`expected an answer, got calls to ${step.toolCalls.map((c) => c.name).join(', ')}`);
  expect(step.answer.startsWith(OFFLINE_NOTICE)).toBe(true);
  return step.answer;
}

/** The conversation after the planner's calls came back with these results (in call order). */
function after(
  messages: PlannerMessage[],
  step: PlannerStep,
  results: { content: string; data?: unknown; isError?: boolean }[],
): PlannerMessage[] {
  const made = calls(step);
  return [
    ...messages,
    { role: 'assistant', content: '', toolCalls: made },
    ...made.map((c, i): PlannerMessage => ({ role: 'tool', toolCallId: c.id, name: c.name, ...results[i]! })),
  ];
}

describe('reading a question', () => {
  it('finds hosts as people write them and skips what only looks like one', () => {
    expect(hostCandidates('restart nginx on web-01 and 10.0.0.5')).toEqual(['10.0.0.5', 'web-01']);
    expect(hostCandidates('is the gateway ok on bastion?')).toEqual(['bastion']);
    expect(hostCandidates('INC-42 in dry-run on x86_64 with sev1')).toEqual([]);
    expect(hostCandidates('upgrade to 1.25.3 on lb.example.com')).toEqual(['lb.example.com']);
  });

  it.each([
    ['list open incidents', 'incidents_list', { status: 'active' }],
    ['escalated incidents this week', 'incidents_list', { status: 'escalated', since: '7d' }],
    ['incidents in the last 3 hours', 'incidents_list', { since: '3h' }],
    ['show incident 42', 'incident_get', { incident: 42 }],
    ['what is wrong with web-01', 'host_status', { hosts: ['web-01'] }],
    ['cpu on db-01', 'metrics', { metric: 'cpu', hosts: ['db-01'] }],
    ['how do I restart nginx', 'knowledge', { services: ['nginx'] }],
    ['restart nginx on web-01', 'automate', { hosts: ['web-01'], checkMode: false }],
    ['upgrade openssl on web-01 as a dry run', 'automate', { checkMode: true }],
    ['fix the disk on db-01', 'remediate', { hosts: ['db-01'] }],
    ['status of ansible run 7', 'automation_get', { run: 7 }],
    ['list failed playbook runs', 'automation_list', { automationStatus: 'failed' }],
    ['which servers are in staging', 'cmdb', { environment: 'staging' }],
    ['diagnose web-01: 502 from nginx', 'diagnose', { hosts: ['web-01'] }],
    ['hi', 'help', {}],
    ['purple', 'unknown', {}],
  ] as const)('%s → %s', (text, intent, entities) => {
    expect(readQuestion(text)).toMatchObject({ intent, ...entities });
  });
});

describe('offline planner steps', () => {
  it('always says it is offline and, when nothing is asked, what it can do with the tools it has', () => {
    const empty = answerOf(planOfflineStep([], viewerTools));
    expect(empty).toMatch(/I can:/);
    expect(empty).not.toMatch(/after your confirmation/);
    const withChanges = answerOf(planOfflineStep([{ role: 'user', content: 'what can you do' }], operatorTools));
    expect(withChanges).toMatch(/start an Ansible run after your confirmation/);
    expect(answerOf(planOfflineStep([{ role: 'user', content: 'purple' }], viewerTools))).toMatch(/could not tell/);
  });

  it('is deterministic: the same conversation gives the same calls with ids unique in the turn', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'restart nginx on db-01' }];
    const first = planOfflineStep(messages, operatorTools);
    expect(planOfflineStep(messages, operatorTools)).toEqual(first);
    expect(calls(first).map((c) => [c.id, c.name])).toEqual([
      ['offline-0-1', 'cmdb_lookup'],
      ['offline-0-2', 'knowledge_search'],
    ]);
    const next = after(messages, first, [
      { content: '1 item', data: db01 },
      { content: 'none', data: { query: 'x', hits: [] } },
    ]);
    const proposal = calls(planOfflineStep(next, operatorTools));
    expect(proposal).toEqual([
      { id: 'offline-0-3', name: 'automation_start_run', arguments: { request: 'restart nginx', targets: ['db-01'], checkMode: false } },
    ]);
  });

  it('queries Prometheus for the host when prometheus_query is available, and says so when it is not', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'cpu on db-01' }];
    const withPrometheus = [...viewerTools, tool('prometheus_query')];
    const lookup = planOfflineStep(messages, withPrometheus);
    expect(calls(lookup)[0]).toMatchObject({ name: 'cmdb_lookup', arguments: { query: 'db-01' } });
    const resolved = after(messages, lookup, [{ content: '1 item', data: db01 }]);
    const query = calls(planOfflineStep(resolved, withPrometheus));
    expect(query).toHaveLength(1);
    expect(query[0]!.name).toBe('prometheus_query');
    expect(query[0]!.arguments.query).toBe(promQl('cpu', db01.items[0]!));
    expect(query[0]!.arguments.query).toContain(
      'node_cpu_seconds_total{mode="idle",instance=~"(db-01|db-01\\\\.prod\\\\.example\\\\.com|10\\\\.0\\\\.2\\\\.21)(:[0-9]+)?"}',
    );
    const answered = answerOf(
      planOfflineStep(
        after(resolved, planOfflineStep(resolved, withPrometheus), [{ content: '{instance="10.0.2.21:9100"} 87.5' }]),
        withPrometheus,
      ),
    );
    expect(answered).toMatch(/CPU use \(%\) on db-01 \(10\.0\.2\.21\), from Prometheus:\n\{instance="10\.0\.2\.21:9100"\} 87\.5/);
    expect(answerOf(planOfflineStep(resolved, viewerTools))).toMatch(/Prometheus is not configured for you/);
  });

  it('asks which host when the name matches several items, and says when it matches none', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'what is wrong with web?' }];
    const lookup = planOfflineStep(messages, viewerTools);
    const two: CmdbLookupData = {
      items: [
        { ...db01.items[0]!, tagId: 'web-1' },
        { ...db01.items[0]!, tagId: 'web-2' },
      ],
      nextCursor: null,
    };
    expect(answerOf(planOfflineStep(after(messages, lookup, [{ content: '2 items', data: two }]), viewerTools))).toMatch(
      /"web" matches several CMDB items; which one do you mean\?\n- web-1 .*\n- web-2/,
    );
    expect(
      answerOf(planOfflineStep(after(messages, lookup, [{ content: 'none', data: { items: [], nextCursor: null } }]), viewerTools)),
    ).toMatch(/I found no CMDB item named "web"/);
  });

  it('says a tool failed instead of inventing an answer', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'show incident 7' }];
    const get = planOfflineStep(messages, viewerTools);
    expect(calls(get)).toEqual([{ id: 'offline-0-1', name: 'incidents_get', arguments: { id: 7 } }]);
    const failed = answerOf(planOfflineStep(after(messages, get, [{ content: 'There is no incident INC-7', isError: true }]), viewerTools));
    expect(failed).toMatch(/The incidents_get call did not succeed: There is no incident INC-7/);
  });

  it('cites knowledge sources with the sentences that answer the question', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'why does nginx answer 502?' }];
    const search = planOfflineStep(messages, viewerTools);
    expect(calls(search)[0]).toMatchObject({ name: 'knowledge_search', arguments: { query: 'why does nginx answer 502?' } });
    const hits: KnowledgeSearchData = {
      query: 'why does nginx answer 502?',
      hits: [
        {
          docId: 'd1',
          title: 'nginx operations',
          section: 'Errors',
          kind: 'sop',
          score: 3,
          global: false,
          excerpt: `${'Filler sentence about logging. '.repeat(15)}A 502 from nginx means the upstream did not answer. ${'More filler here. '.repeat(10)}`,
        },
      ],
    };
    const answered = answerOf(planOfflineStep(after(messages, search, [{ content: '1 passage', data: hits }]), viewerTools));
    expect(answered).toMatch(/1\. nginx operations — Errors: .*A 502 from nginx means the upstream did not answer\./);
    expect(answered).toMatch(/Sources: nginx operations/);
  });

  it('tells a user without the change tools that it would start one, proposing nothing', () => {
    const messages: PlannerMessage[] = [{ role: 'user', content: 'fix postgres on db-01' }];
    const lookup = planOfflineStep(messages, viewerTools);
    const step = planOfflineStep(
      after(messages, lookup, [
        { content: '1 item', data: db01 },
        { content: 'none', data: { query: 'x', hits: [] } },
      ]),
      viewerTools,
    );
    expect(answerOf(step)).toMatch(/I would start a remediation on db-01, but incidents_start_remediation is not available to you/);
  });

  it('answers with what it has once a turn has made its calls', () => {
    let messages: PlannerMessage[] = [{ role: 'user', content: 'list open incidents' }];
    for (let i = 0; i < 8; i++) {
      const id = `x-${i}`;
      messages = [
        ...messages,
        { role: 'assistant', content: '', toolCalls: [{ id, name: 'incidents_list', arguments: {} }] },
        { role: 'tool', toolCallId: id, name: 'incidents_list', content: `page ${i}` },
      ];
    }
    expect(answerOf(planOfflineStep(messages, viewerTools))).toMatch(/I stopped after the tool calls this turn allows/);
  });
});
