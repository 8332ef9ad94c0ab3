import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbooksIntoKnowledgeBase } from '../../adapters/knowledge/knowledge-base.js';
import { loadRunbooks } from '../../adapters/knowledge/runbook-files.js';
import { createKubernetesCluster } from '../../adapters/kubernetes/kubernetes-cluster.js';
import { startTestStack, type TestStack } from '../support/stack.js';

// The Kubernetes adapter (official client) against a local server that speaks the Kubernetes API
// for the calls we make (pods list, events list, nodes list) with realistic objects.

const TOKEN = 'k8s-test-token-0123456789';
const seen: { path: string; auth: string | undefined }[] = [];

const container = (name: string, extra: Record<string, unknown>) => ({
  name,
  image: `registry.example/${name}:1.4.2`,
  imageID: '',
  containerID: '',
  started: false,
  ...extra,
});
const pods = {
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '1' },
  items: [
    {
      metadata: { name: 'web-5d8', namespace: 'shop' },
      spec: { nodeName: 'node-a', containers: [] },
      status: {
        phase: 'Running',
        containerStatuses: [container('web', { ready: true, restartCount: 0, state: { running: { startedAt: '2026-11-24T00:00:00Z' } } })],
      },
    },
    {
      metadata: { name: 'api-7f9', namespace: 'shop' },
      spec: { nodeName: 'node-b', containers: [] },
      status: {
        phase: 'Running',
        containerStatuses: [
          container('api', {
            ready: false,
            restartCount: 7,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
            lastState: { terminated: { reason: 'Error', exitCode: 1 } },
          }),
        ],
      },
    },
    {
      metadata: { name: 'api-oom', namespace: 'shop' },
      spec: { nodeName: 'node-b', containers: [] },
      status: {
        phase: 'Running',
        containerStatuses: [
          container('worker', {
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
          }),
        ],
      },
    },
  ],
};
const events = {
  kind: 'EventList',
  apiVersion: 'v1',
  metadata: {},
  items: [
    {
      metadata: { name: 'e1', namespace: 'shop' },
      involvedObject: { kind: 'Pod', name: 'api-oom' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container worker in pod api-oom',
      count: 12,
      lastTimestamp: '2026-11-24T01:00:00Z',
    },
    {
      metadata: { name: 'e2', namespace: 'shop' },
      involvedObject: { kind: 'Pod', name: 'api-oom' },
      type: 'Warning',
      reason: 'OOMKilling',
      message: 'Memory cgroup out of memory: Killed process 4242 (worker)',
      count: 4,
      lastTimestamp: '2026-11-24T00:59:00Z',
    },
  ],
};
const nodes = {
  kind: 'NodeList',
  apiVersion: 'v1',
  metadata: {},
  items: [
    {
      metadata: { name: 'node-a' },
      status: {
        nodeInfo: { kubeletVersion: 'v1.31.2' },
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'MemoryPressure', status: 'False' },
        ],
      },
    },
    {
      metadata: { name: 'node-b' },
      status: {
        nodeInfo: { kubeletVersion: 'v1.31.2' },
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'MemoryPressure', status: 'True' },
        ],
      },
    },
  ],
};

let server: Server;
let kubeconfig: string;
let stack: TestStack;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: `${url.pathname}${url.search}`, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        }),
      );
      return;
    }
    const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/api/v1/namespaces/shop/pods') return send(pods);
    if (url.pathname === '/api/v1/namespaces/shop/events') {
      const selector = url.searchParams.get('fieldSelector');
      const name = selector?.replace('involvedObject.name=', '');
      return send({ ...events, items: events.items.filter((e) => !name || e.involvedObject.name === name) });
    }
    if (url.pathname === '/api/v1/nodes') return send(nodes);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404, message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: lab
    cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true }
users:
  - name: sre
    user: { token: "${TOKEN}" }
contexts:
  - name: lab
    context: { cluster: lab, user: sre, namespace: shop }
current-context: lab
`;
  stack = await startTestStack({ withWorker: true, kubernetes: createKubernetesCluster(kubeconfig) });
  await loadRunbooksIntoKnowledgeBase(stack.knowledge, await loadRunbooks());
});

afterAll(async () => {
  await stack?.close();
  server?.close();
});

describe('Kubernetes adapter', () => {
  it('summarises pods, events and nodes from the API, authenticated by the kubeconfig', async () => {
    const cluster = createKubernetesCluster(kubeconfig);
    const podList = await cluster.listPods('shop');
    expect(podList.map((p) => [p.name, p.ready, p.restarts, p.reason, p.exitCode])).toEqual([
      ['web-5d8', true, 0, null, null],
      ['api-7f9', false, 7, 'CrashLoopBackOff (last: Error)', 1],
      ['api-oom', false, 4, 'CrashLoopBackOff (last: OOMKilled)', 137],
    ]);
    const eventList = await cluster.listEvents('shop', 'api-oom');
    expect(eventList.map((e) => e.reason)).toEqual(['BackOff', 'OOMKilling']);
    expect(seen.some((s) => s.path.includes('fieldSelector=involvedObject.name%3Dapi-oom'))).toBe(true);
    expect((await cluster.listNodes()).map((n) => [n.name, n.ready, n.problems])).toEqual([
      ['node-a', true, []],
      ['node-b', true, ['MemoryPressure']],
    ]);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('reports cluster health over the API', async () => {
    const response = await stack.call('GET', '/api/v1/cluster-health?namespace=shop');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      nodes: { total: number; ready: number };
      pods: { total: number; byPhase: Record<string, number>; unhealthy: { name: string }[] };
    };
    expect(body).toMatchObject({ status: 'degraded', nodes: { total: 2, ready: 2 }, pods: { total: 3, byPhase: { Running: 3 } } });
    expect(body.pods.unhealthy.map((p) => p.name)).toEqual(['api-7f9', 'api-oom']);
    const bad = createKubernetesCluster(kubeconfig.replace(TOKEN, 'wrong-token'));
    const unreachable = await startTestStack({ store: stack.store, kubernetes: bad });
    try {
      const failed = await unreachable.call('GET', '/api/v1/cluster-health?namespace=shop', { key: stack.adminKey });
      expect(failed.status).toBe(503);
      expect(await failed.json()).toMatchObject({ type: 'urn:infraai:problem:cluster-unavailable' });
    } finally {
      await unreachable.close();
    }
  });

  it('collects the pod’s facts during diagnosis and lets them decide the category', async () => {
    const response = await stack.call('POST', '/api/v1/diagnose', {
      body: { errorMessage: 'pod api-oom keeps restarting', namespace: 'shop', pod: 'api-oom' },
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      category: string;
      facts: { kubernetes: { pod: { reason: string; exitCode: number }; events: unknown[] } };
    };
    expect(result.category).toBe('oomkilled');
    expect(result.facts.kubernetes.pod).toMatchObject({ reason: 'CrashLoopBackOff (last: OOMKilled)', exitCode: 137 });
    expect(result.facts.kubernetes.events).toHaveLength(2);
  });
});
