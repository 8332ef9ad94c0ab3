import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../core/contracts/incident.js';
import { sampleCmdbItem, startTestStack, waitFor, type TestStack } from '../support/stack.js';

// End to end through the HTTP API: CMDB item and incident over HTTP → the workflow runs on a real
// worker and dev server → the row is updated → the timeline shows the steps.

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: true });
});

afterAll(async () => {
  await stack?.close();
});

/** The history as text with every payload's base64 data decoded, so a scan sees what a payload holds. */
function historyText(json: string): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.data === 'string' && record.metadata) decoded.push(Buffer.from(record.data, 'base64').toString('utf8'));
      Object.values(record).forEach(walk);
    }
  };
  walk(JSON.parse(json));
  return `${json}\n${decoded.join('\n')}`;
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe('incident lifecycle over HTTP', () => {
  it('creates a CMDB item and an incident, runs the workflow to the end and exposes its timeline and result', async () => {
    const created = await stack.call('POST', '/api/v1/cmdb', { body: sampleCmdbItem('web-01') });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/cmdb/web-01');

    const response = await stack.call('POST', '/api/v1/incidents', {
      body: { title: 'nginx down on web-01', description: 'HTTP 502 from the load balancer', severity: 'high', tagId: 'web-01' },
    });
    expect(response.status).toBe(201);
    const incident = await json<{ id: string; number: number; workflowId: string; status: string }>(response);
    expect(incident.workflowId).toBe(`incident-${incident.id}`);
    expect(incident.status).toBe('open');
    // The tenant's first incident.
    expect(incident.number).toBe(1);

    const done = await waitFor(async () => {
      const body = await json<{ status: string; workflow: { status: string } }>(
        await stack.call('GET', `/api/v1/incidents/${incident.id}`),
      );
      // The result row is written by the run's last activity, a moment before the run closes.
      return body.status === 'escalated' && body.workflow.status === 'COMPLETED' ? body : null;
    }, 'the incident to be escalated and its run closed');
    expect(done).toMatchObject({
      id: incident.id,
      targetHost: 'web-01.example.internal',
      workflow: {
        id: incident.workflowId,
        status: 'COMPLETED',
        state: { status: 'escalated', target: { tagId: 'web-01', sshCredential: 'web-01-key' } },
      },
    });

    // The projection says COMPLETED from the run's last local activity, written a moment before the
    // workflow task that closes the run (and records its local activities' markers) reaches history.
    const timeline = await waitFor(async () => {
      const body = await json<{
        entries: {
          step: string;
          kind: string;
          outcome: string;
          attempt: number;
          input: unknown;
          output: unknown;
          startedAt: string | null;
          failure: string | null;
        }[];
      }>(await stack.call('GET', `/api/v1/incidents/${incident.id}/timeline`));
      return body.entries.at(-1)?.step === 'workflowCompleted' ? body : null;
    }, 'the closed run in the timeline');
    const steps = timeline.entries.filter((entry) => entry.kind === 'activity');
    // "nginx down" matches the service-down runbook, but web-01's credential was never stored:
    // the diagnostics step refuses at once (no retry) and the run escalates, changing nothing.
    expect(steps.map((s) => [s.step, s.outcome, s.attempt])).toEqual([
      ['recordIncident', 'completed', 1],
      ['lookupCmdbItem', 'completed', 1],
      ['planRemediation', 'completed', 1],
      ['queryMetrics', 'completed', 1],
      ['runDiagnostics', 'failed', 1],
      ['writeIncidentResult', 'completed', 1],
      // No ticketing or paging tool is configured here: the run asks, and notifies nobody.
      ['listNotifiers', 'completed', 1],
    ]);
    expect(steps[4]!.failure).toMatch(/CredentialNotFound: SSH credential 'web-01-key' of CMDB item 'web-01' does not exist/);
    expect(steps.every((s) => s.startedAt !== null)).toBe(true);
    expect(steps[1]!.output).toMatchObject({ hostname: 'web-01.example.internal', address: '10.20.0.7' });
    expect(timeline.entries.at(-1)).toMatchObject({ step: 'workflowCompleted', outcome: 'completed' });

    const result = await stack.call('GET', `/api/v1/incidents/${incident.id}/result`);
    expect(result.status).toBe(200);
    expect(await json(result)).toMatchObject({ incidentId: incident.id, incidentNumber: incident.number, status: 'escalated' });

    const description = await stack.client.workflow.getHandle(incident.workflowId).describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.targetHost)).toBe('web-01.example.internal');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.incidentStatus)).toBe('escalated');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.severity)).toBe('high');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant)).toBe('acme');

    const listed = await json<{ items: { id: string }[] }>(await stack.call('GET', '/api/v1/incidents?status=escalated&tagId=web-01'));
    expect(listed.items.map((i) => i.id)).toContain(incident.id);
  });

  it('keeps secrets out of the workflow history: no API key, key hash or credential material in any payload', async () => {
    const secretKey = await stack.keyFor('acme', 'operator');
    const privateKey =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----';
    // An operator pasting key material where a credential name belongs is refused, so it cannot travel.
    const refused = await stack.call('POST', '/api/v1/cmdb', {
      key: secretKey,
      body: { ...sampleCmdbItem('db-01'), sshCredential: privateKey },
    });
    expect(refused.status).toBe(422);
    expect((await stack.call('POST', '/api/v1/cmdb', { key: secretKey, body: sampleCmdbItem('db-01') })).status).toBe(201);

    const response = await stack.call('POST', '/api/v1/incidents', {
      key: secretKey,
      // The title reaches the workflow (recordIncident returns it), so a pasted token must be redacted there.
      body: {
        title: `replication lag; try with ${secretKey}`,
        description: `operator pasted a token: Bearer ${secretKey}`,
        severity: 'medium',
        tagId: 'db-01',
      },
    });
    const incident = await json<{ id: string; workflowId: string }>(response);
    await stack.client.workflow.getHandle(incident.workflowId).result();

    const history = historyText(historyToJSON(await stack.client.workflow.getHandle(incident.workflowId).fetchHistory()));
    expect(history).toContain('replication lag; try with [REDACTED]');
    expect(history).toContain('db-01-key'); // the credential *name* travels; that is the point
    expect(history).not.toContain(secretKey);
    expect(history).not.toContain(createHash('sha256').update(secretKey).digest('hex'));
    expect(history).not.toContain('PRIVATE KEY');
    const timeline = await (await stack.call('GET', `/api/v1/incidents/${incident.id}/timeline`)).text();
    expect(timeline).not.toContain(secretKey);
  });

  it('cancels a run that has not finished and records it as cancelled', async () => {
    // A stack with no worker on its queue: the run waits, so the cancellation is what ends it.
    const idle = await startTestStack({ store: stack.store });
    try {
      await idle.call('POST', '/api/v1/cmdb', { key: stack.adminKey, body: sampleCmdbItem('cache-01') });
      const incident = await json<{ id: string; workflowId: string }>(
        await idle.call('POST', '/api/v1/incidents', {
          key: stack.adminKey,
          body: { title: 'evictions', severity: 'low', tagId: 'cache-01' },
        }),
      );
      const running = await json<{ workflow: { status: string }; workflowError: string | null }>(
        await idle.call('GET', `/api/v1/incidents/${incident.id}`, { key: stack.adminKey }),
      );
      expect(running.workflow.status).toBe('RUNNING');

      const cancel = await idle.call('POST', `/api/v1/incidents/${incident.id}/cancel`, { key: stack.adminKey });
      expect(cancel.status).toBe(202);
      expect(await json(cancel)).toMatchObject({ id: incident.id, cancelRequested: true });

      // A worker picks the run up, sees the cancellation and writes the cancelled result.
      const { createInfraWorker } = await import('../../worker.js');
      const { connectTestWorker, testTemporal, testWorkflowBundlePath } = await import('../support/temporal.js');
      const connection = await connectTestWorker();
      const worker = await createInfraWorker({
        connection,
        namespace: testTemporal().namespace,
        taskQueue: idle.taskQueue,
        store: stack.store,
        workflowBundlePath: testWorkflowBundlePath(),
      });
      const run = worker.run();
      try {
        // The row turns cancelled when the run writes its result, a moment before the run itself
        // closes (CANCELLED): wait for the end of the run, which is what a user waits for.
        const final = await waitFor(async () => {
          const body = await json<{ status: string; workflow: { status: string } | null }>(
            await idle.call('GET', `/api/v1/incidents/${incident.id}`, { key: stack.adminKey }),
          );
          return body.workflow?.status !== 'RUNNING' ? body : null;
        }, 'the incident run to end');
        expect(final).toMatchObject({ status: 'cancelled', workflow: { status: 'CANCELLED' } });
      } finally {
        worker.shutdown();
        await run;
        await connection.close();
      }
      const again = await idle.call('POST', `/api/v1/incidents/${incident.id}/cancel`, { key: stack.adminKey });
      expect(again.status).toBe(409);
    } finally {
      await idle.close();
    }
  });
});
