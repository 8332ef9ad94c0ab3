import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKubernetesActions } from '../../adapters/kubernetes/kubernetes-cluster.js';
import {
  type KubernetesActions,
  type KubernetesActionsOptions,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesUnavailableError,
  NamespaceNotAllowedError,
  PodWithoutControllerError,
  ReplicasOutOfRangeError,
} from '../../adapters/kubernetes/port.js';
import { listenLocal, localUrl } from '../support/local-server.js';

// The Kubernetes actions port (restart_pod, scale_deployment, rollout restart) against a local
// server that speaks the endpoints used, with the API server's object and Status shapes:
//   GET    /api/v1/namespaces/{ns}/pods/{name}
//   DELETE /api/v1/namespaces/{ns}/pods/{name}                 (DeleteOptions with a uid precondition)
//   GET|PUT /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale   (autoscaling/v1 Scale, resourceVersion checked)
//   PATCH  /apis/apps/v1/namespaces/{ns}/deployments/{name}    (merge patch of the pod template)
// The namespace `restricted` answers 403 as RBAC does, `broken` answers 500.

const TOKEN = 'k8s-actions-token-0123456789';
const USER = 'system:serviceaccount:infraai:actions';

interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: unknown;
}

interface FakePod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  };
  spec: { nodeName: string; containers: { name: string; image: string }[] };
  status: { phase: string };
}

let server: Server;
let kubeconfig: string;
let requests: Recorded[] = [];
let pods = new Map<string, FakePod>();
let scales = new Map<string, { replicas: number; resourceVersion: number }>();
/** Hooks that simulate another actor: the pod replaced right after our read, the deployment changed before our write. */
let replacePodAfterRead = false;
let concurrentScaleChanges = 0;
let resourceVersion = 1000;

const pod = (namespace: string, name: string, owner?: { kind: string; name: string; controller?: boolean }): FakePod => ({
  metadata: {
    name,
    namespace,
    uid: randomUUID(),
    resourceVersion: String(++resourceVersion),
    ...(owner
      ? {
          ownerReferences: [
            {
              apiVersion: owner.kind === 'ConfigMap' ? 'v1' : 'apps/v1',
              kind: owner.kind,
              name: owner.name,
              uid: randomUUID(),
              ...(owner.controller === false ? {} : { controller: true }),
              blockOwnerDeletion: true,
            },
          ],
        }
      : {}),
  },
  spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'registry.example/app:2.1.0' }] },
  status: { phase: 'Running' },
});

const status = (code: number, reason: string, message: string, details: Record<string, unknown> = {}) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  details,
  code,
});

const scaleObject = (namespace: string, name: string) => {
  const scale = scales.get(`${namespace}/${name}`)!;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid: 'b1f0c7e2-0d55-4f1e-9c7a-5d0f5e0c1a11', resourceVersion: String(scale.resourceVersion) },
    spec: { replicas: scale.replicas },
    status: { replicas: scale.replicas, selector: `app=${name}` },
  };
};

function reset() {
  requests = [];
  replacePodAfterRead = false;
  concurrentScaleChanges = 0;
  pods = new Map(
    [
      pod('shop', 'web-5d8f7c6b9-x2x4q', { kind: 'ReplicaSet', name: 'web-5d8f7c6b9' }),
      pod('shop', 'db-0', { kind: 'StatefulSet', name: 'db' }),
      pod('shop', 'debug-shell'),
      pod('shop', 'adopted', { kind: 'ConfigMap', name: 'holder', controller: false }),
      pod('restricted', 'api-7f9c-abcde', { kind: 'ReplicaSet', name: 'api-7f9c' }),
    ].map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]),
  );
  scales = new Map([
    ['shop/web', { replicas: 3, resourceVersion: ++resourceVersion }],
    ['payments/api', { replicas: 2, resourceVersion: ++resourceVersion }],
  ]);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : undefined;
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname, contentType: req.headers['content-type'], auth: req.headers.authorization, body });
      const send = (code: number, payload: unknown) =>
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));

      const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
      const scalePath = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/.exec(url.pathname);
      const deploymentPath = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(url.pathname);
      const namespace = (podPath ?? scalePath ?? deploymentPath)?.[1];
      const verb = { GET: 'get', DELETE: 'delete', PUT: 'update', PATCH: 'patch' }[method] ?? method.toLowerCase();
      if (namespace === 'restricted') {
        const [resource, group] = podPath ? ['pods', '""'] : ['deployments', '"apps"'];
        const name = (podPath ?? scalePath ?? deploymentPath)![2];
        return send(
          403,
          status(
            403,
            'Forbidden',
            `${resource} "${name}" is forbidden: User "${USER}" cannot ${verb} resource "${resource}" in API group ${group} in the namespace "restricted"`,
            { name, kind: resource },
          ),
        );
      }
      if (namespace === 'broken') return send(500, status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out'));

      if (podPath) {
        const [, ns, name] = podPath as unknown as [string, string, string];
        const key = `${ns}/${name}`;
        const current = pods.get(key);
        if (!current) return send(404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
        if (method === 'GET') {
          send(200, { kind: 'Pod', apiVersion: 'v1', ...current });
          // A StatefulSet recreates a pod under the same name with a new uid.
          if (replacePodAfterRead) pods.set(key, { ...current, metadata: { ...current.metadata, uid: randomUUID() } });
          return;
        }
        if (method === 'DELETE') {
          const wanted = (body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid;
          if (wanted && wanted !== current.metadata.uid) {
            return send(
              409,
              status(
                409,
                'Conflict',
                `Operation cannot be fulfilled on Pod "${name}": Precondition failed: UID in precondition: ${wanted}, UID in object meta: ${current.metadata.uid}`,
                { name, kind: 'Pod' },
              ),
            );
          }
          pods.delete(key);
          return send(200, {
            kind: 'Pod',
            apiVersion: 'v1',
            ...current,
            metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 },
          });
        }
      }

      if (scalePath) {
        const [, ns, name] = scalePath as unknown as [string, string, string];
        const current = scales.get(`${ns}/${name}`);
        if (!current) {
          return send(404, status(404, 'NotFound', `deployments.apps "${name}" not found`, { name, group: 'apps', kind: 'deployments' }));
        }
        if (method === 'GET') return send(200, scaleObject(ns, name));
        if (method === 'PUT') {
          if (concurrentScaleChanges > 0) {
            concurrentScaleChanges--;
            current.replicas += 1;
            current.resourceVersion = ++resourceVersion;
          }
          const update = body as { metadata?: { resourceVersion?: string }; spec?: { replicas?: number } };
          if (update.metadata?.resourceVersion && update.metadata.resourceVersion !== String(current.resourceVersion)) {
            return send(
              409,
              status(
                409,
                'Conflict',
                `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
                { name, group: 'apps', kind: 'deployments' },
              ),
            );
          }
          current.replicas = update.spec?.replicas ?? current.replicas;
          current.resourceVersion = ++resourceVersion;
          return send(200, scaleObject(ns, name));
        }
      }

      if (deploymentPath && method === 'PATCH') {
        const [, ns, name] = deploymentPath as unknown as [string, string, string];
        if (!scales.has(`${ns}/${name}`)) return send(404, status(404, 'NotFound', `deployments.apps "${name}" not found`));
        return send(200, {
          kind: 'Deployment',
          apiVersion: 'apps/v1',
          metadata: { name, namespace: ns, generation: 7, resourceVersion: String(++resourceVersion) },
          spec: { replicas: scales.get(`${ns}/${name}`)!.replicas, template: (body as { spec: { template: unknown } }).spec.template },
        });
      }
      send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    });
  });
  await listenLocal(server);
  kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: lab
    cluster: { server: "${localUrl(server)}", insecure-skip-tls-verify: true }
users:
  - name: actions
    user: { token: "${TOKEN}" }
contexts:
  - name: lab
    context: { cluster: lab, user: actions, namespace: shop }
current-context: lab
`;
});

afterAll(() => {
  server?.close();
});

beforeEach(reset);

const implementations: [string, (options: KubernetesActionsOptions) => KubernetesActions][] = [
  ['kubernetes-cluster (@kubernetes/client-node)', (options) => createKubernetesActions(kubeconfig, options)],
];

describe.each(implementations)('KubernetesActions contract: %s', (_name, create) => {
  const actions = (options: Partial<KubernetesActionsOptions> = {}) => create({ namespaces: [], maxReplicas: 50, ...options });
  const writes = () => requests.filter((r) => r.method !== 'GET');

  it('restarts a pod by deleting exactly the pod it inspected, and names the controller that recreates it', async () => {
    const before = pods.get('shop/web-5d8f7c6b9-x2x4q')!;
    const result = await actions().restartPod('shop', 'web-5d8f7c6b9-x2x4q');
    expect(result).toEqual({
      namespace: 'shop',
      pod: 'web-5d8f7c6b9-x2x4q',
      uid: before.metadata.uid,
      owner: { kind: 'ReplicaSet', name: 'web-5d8f7c6b9' },
    });
    expect(pods.has('shop/web-5d8f7c6b9-x2x4q')).toBe(false);
    expect(writes()).toEqual([
      {
        method: 'DELETE',
        path: '/api/v1/namespaces/shop/pods/web-5d8f7c6b9-x2x4q',
        contentType: 'application/json',
        auth: `Bearer ${TOKEN}`,
        body: { preconditions: { uid: before.metadata.uid } },
      },
    ]);
    expect((await actions().restartPod('shop', 'db-0')).owner).toEqual({ kind: 'StatefulSet', name: 'db' });
  });

  it('refuses a pod no controller owns (deleting it would lose it) and sends no delete', async () => {
    await expect(actions().restartPod('shop', 'debug-shell')).rejects.toThrow(PodWithoutControllerError);
    await expect(actions().restartPod('shop', 'adopted')).rejects.toThrow(/no controller/);
    expect(writes()).toEqual([]);
    expect(pods.has('shop/debug-shell')).toBe(true);
  });

  it('reports a pod replaced since it was read as a conflict, without deleting the replacement', async () => {
    replacePodAfterRead = true;
    const error = await actions()
      .restartPod('shop', 'db-0')
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KubernetesConflictError);
    expect(error).toMatchObject({ status: 409, message: expect.stringContaining('Precondition failed') });
    expect(writes()).toHaveLength(1);
    expect(pods.has('shop/db-0')).toBe(true);
  });

  it('scales a deployment through its scale subresource and reports the previous count', async () => {
    expect(await actions().scaleDeployment('shop', 'web', 5)).toEqual({
      namespace: 'shop',
      deployment: 'web',
      previousReplicas: 3,
      replicas: 5,
    });
    expect(scales.get('shop/web')!.replicas).toBe(5);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/apps/v1/namespaces/shop/deployments/web/scale',
      'PUT /apis/apps/v1/namespaces/shop/deployments/web/scale',
    ]);
    expect(writes()[0]!.body).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'shop', resourceVersion: expect.stringMatching(/^\d+$/) },
      spec: { replicas: 5 },
    });
    // Scaling to the current count writes nothing; scaling to zero is allowed.
    requests = [];
    expect(await actions().scaleDeployment('shop', 'web', 5)).toMatchObject({ previousReplicas: 5, replicas: 5 });
    expect(writes()).toEqual([]);
    expect(await actions().scaleDeployment('shop', 'web', 0)).toMatchObject({ previousReplicas: 5, replicas: 0 });
  });

  it('retries a scale once when the deployment changed under it, then reports the conflict', async () => {
    concurrentScaleChanges = 1;
    expect(await actions().scaleDeployment('shop', 'web', 6)).toEqual({
      namespace: 'shop',
      deployment: 'web',
      previousReplicas: 4,
      replicas: 6,
    });
    expect(requests.filter((r) => r.method === 'PUT')).toHaveLength(2);

    requests = [];
    concurrentScaleChanges = 2;
    await expect(actions().scaleDeployment('shop', 'web', 9)).rejects.toThrow(KubernetesConflictError);
    expect(requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
    expect(scales.get('shop/web')!.replicas).toBe(8);
  });

  it('bounds replicas and keeps to the allowed namespaces before sending anything', async () => {
    for (const replicas of [-1, 51, 2.5, Number.NaN]) {
      await expect(actions().scaleDeployment('shop', 'web', replicas)).rejects.toThrow(ReplicasOutOfRangeError);
    }
    await expect(actions({ maxReplicas: 4 }).scaleDeployment('shop', 'web', 5)).rejects.toThrow(/from 0 to 4/);
    const limited = actions({ namespaces: ['payments'] });
    await expect(limited.restartPod('shop', 'web-5d8f7c6b9-x2x4q')).rejects.toThrow(NamespaceNotAllowedError);
    await expect(limited.scaleDeployment('shop', 'web', 4)).rejects.toThrow(NamespaceNotAllowedError);
    await expect(limited.rolloutRestartDeployment('shop', 'web')).rejects.toThrow(NamespaceNotAllowedError);
    expect(requests).toEqual([]);
    expect(await limited.scaleDeployment('payments', 'api', 4)).toMatchObject({ previousReplicas: 2, replicas: 4 });
  });

  it('names what the API server answered: not found, forbidden, unavailable', async () => {
    const missingPod = await actions()
      .restartPod('shop', 'ghost')
      .catch((err: unknown) => err);
    expect(missingPod).toBeInstanceOf(KubernetesNotFoundError);
    expect(missingPod).toMatchObject({ status: 404, message: expect.stringContaining('pods "ghost" not found') });
    await expect(actions().scaleDeployment('shop', 'nope', 2)).rejects.toThrow(KubernetesNotFoundError);

    const forbidden = await actions()
      .restartPod('restricted', 'api-7f9c-abcde')
      .catch((err: unknown) => err);
    expect(forbidden).toBeInstanceOf(KubernetesForbiddenError);
    expect(forbidden).toMatchObject({ status: 403, message: expect.stringContaining(`User "${USER}" cannot get resource "pods"`) });
    await expect(actions().scaleDeployment('restricted', 'api', 2)).rejects.toThrow(KubernetesForbiddenError);

    await expect(create({ namespaces: [], maxReplicas: 50 }).scaleDeployment('broken', 'web', 2)).rejects.toThrow(
      KubernetesUnavailableError,
    );
    const wrongToken = createKubernetesActions(kubeconfig.replace(TOKEN, 'wrong-token'), { namespaces: [], maxReplicas: 50 });
    await expect(wrongToken.restartPod('shop', 'db-0')).rejects.toThrow(KubernetesForbiddenError);

    const closed = createServer();
    await listenLocal(closed);
    const deadUrl = localUrl(closed);
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = createKubernetesActions(kubeconfig.replace(localUrl(server), deadUrl), { namespaces: [], maxReplicas: 50 });
    await expect(unreachable.scaleDeployment('shop', 'web', 2)).rejects.toThrow(KubernetesUnavailableError);
  });

  it('restarts every pod of a deployment as kubectl rollout restart does (merge patch of the template)', async () => {
    const result = await actions().rolloutRestartDeployment('shop', 'web');
    expect(new Date(result.restartedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(writes()).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/web',
        contentType: 'application/merge-patch+json',
        auth: `Bearer ${TOKEN}`,
        body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': result.restartedAt } } } } },
      },
    ]);
    await expect(actions().rolloutRestartDeployment('shop', 'nope')).rejects.toThrow(KubernetesNotFoundError);
  });
});
