import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import {
  GuestToolsUnavailableError,
  type VmActions,
  VmAmbiguousError,
  VmNotFoundError,
  VmNotPoweredOnError,
  type VmPowerState,
  VsphereAuthenticationError,
  VsphereForbiddenError,
  VsphereUnavailableError,
} from './port.js';

// vCenter's Automation REST API (/api, vSphere 7.0 U2 and later), spoken directly: the calls are
// few and plain JSON, and VMware's SDKs are Python/Java/Go. Requests go through node:https rather
// than fetch because Node's fetch takes no CA or verification setting without the undici package.
//
//   POST   /api/session                             basic auth → "<session id>" (201)
//   DELETE /api/session                             ends it
//   GET    /api/vcenter/vm?names=<name>             [{ vm, name, power_state, … }]
//   GET    /api/vcenter/vm/{vm}/power               { state }
//   POST   /api/vcenter/vm/{vm}/power?action=reset  204
//   POST   /api/vcenter/vm/{vm}/guest/power?action=reboot  204; 503 when VMware Tools are not running
//
// Every call after login carries `vmware-api-session-id`; a 401 there means the session expired
// (idle timeout, vCenter restart): one new login and one retry. Errors come as
// { error_type, messages: [{ id, default_message }] }.

export interface VsphereRestOptions {
  url: string;
  username: string;
  password: string;
  insecureTls: boolean;
  /** PEM CA certificate(s) trusted besides the system's. */
  ca: string | null;
  timeoutMs?: number;
}

interface Answer {
  status: number;
  body: unknown;
}

interface VsphereErrorBody {
  error_type?: string;
  messages?: { id?: string; default_message?: string }[];
}

const SESSION_HEADER = 'vmware-api-session-id';

function describe(answer: Answer): string {
  const body = answer.body as VsphereErrorBody | null;
  const message = body?.messages?.map((m) => m.default_message).find(Boolean);
  const type = body?.error_type;
  return [type, message].filter(Boolean).join(': ') || `HTTP ${answer.status}`;
}

export function createVsphereRestClient(options: VsphereRestOptions): VmActions {
  const base = new URL(options.url);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new Agent({ keepAlive: true, rejectUnauthorized: !options.insecureTls, ...(options.ca ? { ca: options.ca } : {}) })
    : undefined;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const basicAuth = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  let session: string | null = null;
  let loggingIn: Promise<string> | null = null;

  const send = (method: string, path: string, headers: Record<string, string>): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method, headers: { accept: 'application/json', ...headers }, ...(agent ? { agent } : {}), timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            if (text) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(new VsphereUnavailableError(`vSphere ${method} ${url.pathname} failed: ${err.message.split('\n')[0]}`)),
      );
      req.end();
    });

  const login = (): Promise<string> => {
    // Callers that find the session missing at once share one login.
    loggingIn ??= (async () => {
      try {
        const answer = await send('POST', '/api/session', { authorization: basicAuth });
        if (answer.status === 401) {
          throw new VsphereAuthenticationError(`vCenter refused the credentials of ${options.username} (${describe(answer)})`, 401);
        }
        if (answer.status === 403) throw new VsphereForbiddenError(`vCenter refused a session: ${describe(answer)}`, 403);
        if (answer.status !== 200 && answer.status !== 201) {
          throw new VsphereUnavailableError(`vCenter login answered HTTP ${answer.status}: ${describe(answer)}`, answer.status);
        }
        if (typeof answer.body !== 'string' || !answer.body) throw new VsphereUnavailableError('vCenter login returned no session id');
        session = answer.body;
        return answer.body;
      } finally {
        loggingIn = null;
      }
    })();
    return loggingIn;
  };

  /** A call within the session; a 401 (the session expired) logs in again and retries once. */
  const call = async (method: string, path: string): Promise<Answer> => {
    const id = session ?? (await login());
    const answer = await send(method, path, { [SESSION_HEADER]: id });
    if (answer.status !== 401) return answer;
    if (session === id) session = null;
    const renewed = session ?? (await login());
    const retried = await send(method, path, { [SESSION_HEADER]: renewed });
    if (retried.status === 401) {
      throw new VsphereAuthenticationError(`vCenter refused a fresh session for ${method} ${path}: ${describe(retried)}`, 401);
    }
    return retried;
  };

  /** The errors every call shares; the caller has handled the answers it expects first. */
  const fail = (what: string, answer: Answer): never => {
    if (answer.status === 403) throw new VsphereForbiddenError(`${what}: ${describe(answer)}`, 403);
    throw new VsphereUnavailableError(`${what}: HTTP ${answer.status} ${describe(answer)}`, answer.status);
  };

  const findVm = async (name: string): Promise<string> => {
    const answer = await call('GET', `/api/vcenter/vm?names=${encodeURIComponent(name)}`);
    if (answer.status !== 200 || !Array.isArray(answer.body)) return fail(`listing VMs named ${name}`, answer);
    const ids = (answer.body as { vm?: string; name?: string }[])
      .filter((summary) => summary.name === name && summary.vm)
      .map((summary) => summary.vm!);
    if (ids.length === 0) throw new VmNotFoundError(`no VM is named ${name}`);
    if (ids.length > 1) throw new VmAmbiguousError(`${ids.length} VMs are named ${name} (${ids.join(', ')}); none was restarted`, ids);
    return ids[0]!;
  };

  return {
    async restartVm(name, { mode }) {
      const vmId = await findVm(name);
      const vmPath = `/api/vcenter/vm/${encodeURIComponent(vmId)}`;
      const power = await call('GET', `${vmPath}/power`);
      if (power.status === 404) throw new VmNotFoundError(`VM ${name} (${vmId}) is gone`, 404);
      if (power.status !== 200) return fail(`reading the power state of ${name}`, power);
      const powerStateBefore = (power.body as { state?: VmPowerState }).state ?? 'POWERED_OFF';
      if (powerStateBefore !== 'POWERED_ON') {
        throw new VmNotPoweredOnError(`VM ${name} (${vmId}) is ${powerStateBefore}: not restarted`);
      }
      const answer =
        mode === 'guest_reboot'
          ? await call('POST', `${vmPath}/guest/power?action=reboot`)
          : await call('POST', `${vmPath}/power?action=reset`);
      if (answer.status === 200 || answer.status === 204) return { vmId, name, powerStateBefore, action: mode };
      if (answer.status === 404) throw new VmNotFoundError(`VM ${name} (${vmId}) is gone: ${describe(answer)}`, 404);
      const type = (answer.body as VsphereErrorBody | null)?.error_type;
      if (mode === 'guest_reboot' && (answer.status === 503 || type === 'SERVICE_UNAVAILABLE')) {
        throw new GuestToolsUnavailableError(
          `VMware Tools in ${name} (${vmId}) cannot take a reboot (${describe(answer)}); the VM was not reset instead`,
          answer.status,
        );
      }
      if (type === 'NOT_ALLOWED_IN_CURRENT_STATE') {
        throw new VmNotPoweredOnError(`VM ${name} (${vmId}) cannot be restarted in its current state: ${describe(answer)}`, answer.status);
      }
      return fail(`restarting ${name} (${mode})`, answer);
    },

    async close() {
      const id = session;
      session = null;
      try {
        if (id) await send('DELETE', '/api/session', { [SESSION_HEADER]: id });
      } catch {
        // The session expires on its own; closing must not fail a shutdown.
      } finally {
        agent?.destroy();
      }
    },
  };
}
