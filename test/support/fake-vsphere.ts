import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { listenLocal } from './local-server.js';

// A local stand-in for vCenter's Automation REST API, for exactly the calls adapters/vsphere makes:
//   POST   /api/session                                   basic auth → 201 "<session id>" (JSON string)
//   DELETE /api/session                                   204
//   GET    /api/vcenter/vm?names=<name>                   [{ vm, name, power_state, cpu_count, memory_size_MiB }]
//   GET    /api/vcenter/vm/{vm}/power                     { state }
//   POST   /api/vcenter/vm/{vm}/power?action=reset        204; 400 NOT_ALLOWED_IN_CURRENT_STATE unless powered on
//   POST   /api/vcenter/vm/{vm}/guest/power?action=reboot 204; 503 SERVICE_UNAVAILABLE without VMware Tools running
// Errors have vCenter's shape ({ error_type, messages: [{ id, default_message, args }] }). Every call
// but the login needs a live `vmware-api-session-id` (401 UNAUTHENTICATED otherwise); `expireSessions`
// ends them all as vCenter's idle timeout does. A read-only user gets 403 UNAUTHORIZED on power calls.

export interface FakeVm {
  vm: string;
  name: string;
  power_state: 'POWERED_ON' | 'POWERED_OFF' | 'SUSPENDED';
  toolsRunning: boolean;
}

export interface VsphereRequest {
  method: string;
  path: string;
  query: string;
  session: string | undefined;
  basicUser: string | null;
}

export interface FakeVsphere {
  url: string;
  vms: FakeVm[];
  requests: VsphereRequest[];
  /** What was done to each VM, in order: `reset vm-1` or `reboot vm-1`. */
  actions: string[];
  /** Live session ids. */
  sessions: Set<string>;
  expireSessions(): void;
  close(): Promise<void>;
}

const vapiError = (type: string, id: string, message: string) => ({
  error_type: type,
  messages: [{ args: [], default_message: message, id }],
});

export async function startFakeVsphere(options: {
  users: Record<string, { password: string; readOnly?: boolean }>;
  vms: FakeVm[];
  tls?: { key: string; cert: string };
}): Promise<FakeVsphere> {
  const requests: VsphereRequest[] = [];
  const actions: string[] = [];
  const sessions = new Map<string, string>();
  const vms = options.vms;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const sessionHeader = req.headers['vmware-api-session-id'];
    const session = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [basicUser, basicPassword] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s) : [null, null];
    requests.push({ method, path: url.pathname, query: url.search, session, basicUser: basicUser ?? null });
    const send = (status: number, body?: unknown) => {
      if (body === undefined) return res.writeHead(status).end();
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const unauthenticated = () =>
      send(401, vapiError('UNAUTHENTICATED', 'vapi.method.authentication.required', 'This method requires authentication.'));

    if (url.pathname === '/api/session' && method === 'POST') {
      const user = basicUser ? options.users[basicUser] : undefined;
      if (!user || user.password !== basicPassword) {
        return send(401, vapiError('UNAUTHENTICATED', 'vapi.security.authentication.invalid', 'Unable to authenticate user.'));
      }
      const id = randomBytes(16).toString('hex');
      sessions.set(id, basicUser!);
      return send(201, id);
    }
    const user = session ? sessions.get(session) : undefined;
    if (!user) return unauthenticated();
    if (url.pathname === '/api/session' && method === 'DELETE') {
      sessions.delete(session!);
      return send(204);
    }
    if (url.pathname === '/api/vcenter/vm' && method === 'GET') {
      const names = url.searchParams.getAll('names');
      return send(
        200,
        vms
          .filter((vm) => names.length === 0 || names.includes(vm.name))
          .map((vm) => ({ vm: vm.vm, name: vm.name, power_state: vm.power_state, cpu_count: 2, memory_size_MiB: 4096 })),
      );
    }
    const vmPath = /^\/api\/vcenter\/vm\/([^/]+)\/(power|guest\/power)$/.exec(url.pathname);
    const vm = vmPath ? vms.find((candidate) => candidate.vm === decodeURIComponent(vmPath[1]!)) : undefined;
    if (vmPath && !vm) {
      return send(
        404,
        vapiError('NOT_FOUND', 'com.vmware.api.vcenter.vm.not_found', `Virtual machine with identifier '${vmPath[1]}' does not exist.`),
      );
    }
    if (vm && vmPath![2] === 'power' && method === 'GET') {
      return send(200, vm.power_state === 'POWERED_OFF' ? { state: vm.power_state, clean_power_off: true } : { state: vm.power_state });
    }
    if (vm && method === 'POST') {
      const action = url.searchParams.get('action');
      const guest = vmPath![2] === 'guest/power';
      if ((guest && action !== 'reboot') || (!guest && action !== 'reset')) {
        return send(400, vapiError('INVALID_ARGUMENT', 'vapi.bindings.method.impl.unexpected', `unexpected action ${action}`));
      }
      if (options.users[user]?.readOnly) {
        return send(
          403,
          vapiError('UNAUTHORIZED', 'vapi.security.authorization.invalid', 'Permission to perform this operation was denied.'),
        );
      }
      if (vm.power_state !== 'POWERED_ON') {
        return send(
          400,
          vapiError(
            'NOT_ALLOWED_IN_CURRENT_STATE',
            'com.vmware.api.vcenter.vm.power.not_powered_on',
            `The operation is not allowed in the current state (${vm.power_state}).`,
          ),
        );
      }
      if (guest && !vm.toolsRunning) {
        return send(
          503,
          vapiError(
            'SERVICE_UNAVAILABLE',
            'com.vmware.api.vcenter.vm.guest.power.tools_not_running',
            'VMware Tools is not running in the virtual machine.',
          ),
        );
      }
      actions.push(`${guest ? 'reboot' : 'reset'} ${vm.vm}`);
      return send(204);
    }
    send(404, vapiError('NOT_FOUND', 'vapi.method.not.found', `no operation ${method} ${url.pathname}`));
  };

  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle)
    : createHttpServer(handle);
  await listenLocal(server);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    vms,
    requests,
    actions,
    get sessions() {
      return new Set(sessions.keys());
    },
    expireSessions: () => sessions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
