import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVmActions, type VsphereConfig } from '../../adapters/vsphere/create.js';
import {
  GuestToolsUnavailableError,
  type VmActions,
  VmAmbiguousError,
  VmNotFoundError,
  VmNotPoweredOnError,
  VsphereAuthenticationError,
  VsphereForbiddenError,
  VsphereUnavailableError,
} from '../../adapters/vsphere/port.js';
import { type FakeVm, type FakeVsphere, startFakeVsphere } from '../support/fake-vsphere.js';

// The VM actions port against a local server that speaks vCenter's Automation REST API for the
// calls used (test/support/fake-vsphere.ts): session login and expiry, name lookup, power state,
// reset and guest reboot, vCenter's error shapes; and over TLS, certificate verification.

const USERS = {
  'svc-infraai@vsphere.local': { password: 'S3cret!pass:with-colon' },
  'auditor@vsphere.local': { password: 'read-only', readOnly: true },
};
const fleet = (): FakeVm[] => [
  { vm: 'vm-1042', name: 'web-01', power_state: 'POWERED_ON', toolsRunning: true },
  { vm: 'vm-1043', name: 'legacy-02', power_state: 'POWERED_ON', toolsRunning: false },
  { vm: 'vm-1044', name: 'batch-03', power_state: 'POWERED_OFF', toolsRunning: false },
  { vm: 'vm-2001', name: 'db-01', power_state: 'POWERED_ON', toolsRunning: true },
  { vm: 'vm-3001', name: 'db-01', power_state: 'POWERED_ON', toolsRunning: true },
];

const config = (url: string, user: keyof typeof USERS = 'svc-infraai@vsphere.local'): VsphereConfig => ({
  url,
  username: user,
  password: USERS[user].password,
  insecureTls: false,
  caFile: null,
});

const implementations: [string, (config: VsphereConfig) => Promise<VmActions>][] = [
  ['vsphere-rest (Automation REST API)', async (c) => (await createVmActions(c))!],
];

describe.each(implementations)('VmActions contract: %s', (_name, create) => {
  let vcenter: FakeVsphere;
  const opened: VmActions[] = [];
  const open = async (c: VsphereConfig) => {
    const actions = await create(c);
    opened.push(actions);
    return actions;
  };

  beforeEach(async () => {
    vcenter = await startFakeVsphere({ users: USERS, vms: fleet() });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((actions) => actions.close()));
    await vcenter.close();
  });

  it('resets a VM found by name within one session, and ends the session on close', async () => {
    const actions = await open(config(vcenter.url));
    expect(await actions.restartVm('web-01', { mode: 'reset' })).toEqual({
      vmId: 'vm-1042',
      name: 'web-01',
      powerStateBefore: 'POWERED_ON',
      action: 'reset',
    });
    expect(vcenter.actions).toEqual(['reset vm-1042']);
    expect(vcenter.requests.map((r) => `${r.method} ${r.path}${r.query}`)).toEqual([
      'POST /api/session',
      'GET /api/vcenter/vm?names=web-01',
      'GET /api/vcenter/vm/vm-1042/power',
      'POST /api/vcenter/vm/vm-1042/power?action=reset',
    ]);
    const [login, ...rest] = vcenter.requests;
    expect(login!.basicUser).toBe('svc-infraai@vsphere.local');
    const [session] = [...vcenter.sessions];
    expect(rest.every((r) => r.session === session && r.basicUser === null)).toBe(true);

    await actions.close();
    expect(vcenter.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/session', session });
    expect(vcenter.sessions.size).toBe(0);
  });

  it('reboots the guest through VMware Tools, and never falls back to a reset when they are not running', async () => {
    const actions = await open(config(vcenter.url));
    expect(await actions.restartVm('web-01', { mode: 'guest_reboot' })).toMatchObject({ vmId: 'vm-1042', action: 'guest_reboot' });
    expect(vcenter.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/vcenter/vm/vm-1042/guest/power', query: '?action=reboot' });

    const error = await actions.restartVm('legacy-02', { mode: 'guest_reboot' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GuestToolsUnavailableError);
    expect(error).toMatchObject({ status: 503, message: expect.stringContaining('VMware Tools is not running') });
    expect(vcenter.actions).toEqual(['reboot vm-1042']);
    expect(vcenter.requests.filter((r) => r.method === 'POST' && r.path === '/api/vcenter/vm/vm-1043/power')).toEqual([]);
  });

  it('finds exactly one VM by name: none is not found, two are ambiguous, and neither is touched', async () => {
    const actions = await open(config(vcenter.url));
    await expect(actions.restartVm('no-such-vm', { mode: 'reset' })).rejects.toThrow(VmNotFoundError);
    const ambiguous = await actions.restartVm('db-01', { mode: 'reset' }).catch((err: unknown) => err);
    expect(ambiguous).toBeInstanceOf(VmAmbiguousError);
    expect(ambiguous).toMatchObject({ vmIds: ['vm-2001', 'vm-3001'] });
    expect(vcenter.actions).toEqual([]);
    expect(vcenter.requests.filter((r) => r.path.includes('/power'))).toEqual([]);
  });

  it('refuses a VM that is not powered on, reporting its state', async () => {
    const actions = await open(config(vcenter.url));
    const error = await actions.restartVm('batch-03', { mode: 'reset' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(VmNotPoweredOnError);
    expect((error as Error).message).toContain('POWERED_OFF');
    expect(vcenter.actions).toEqual([]);
  });

  it('logs in again once when the session expired, and keeps using the new session', async () => {
    const actions = await open(config(vcenter.url));
    await actions.restartVm('web-01', { mode: 'reset' });
    const [first] = [...vcenter.sessions];
    vcenter.expireSessions();
    vcenter.requests.length = 0;

    await actions.restartVm('web-01', { mode: 'guest_reboot' });
    const [second] = [...vcenter.sessions];
    expect(second).not.toBe(first);
    expect(
      vcenter.requests.map((r) => [`${r.method} ${r.path}`, r.session === first ? 'old' : r.session === second ? 'new' : 'none']),
    ).toEqual([
      ['GET /api/vcenter/vm', 'old'],
      ['POST /api/session', 'none'],
      ['GET /api/vcenter/vm', 'new'],
      ['GET /api/vcenter/vm/vm-1042/power', 'new'],
      ['POST /api/vcenter/vm/vm-1042/guest/power', 'new'],
    ]);
    expect(vcenter.actions).toEqual(['reset vm-1042', 'reboot vm-1042']);
  });

  it('surfaces bad credentials as an authentication error, without the password in it', async () => {
    const actions = await open({ ...config(vcenter.url), password: 'wrong-password-42' });
    const error = await actions.restartVm('web-01', { mode: 'reset' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(VsphereAuthenticationError);
    expect(error).toMatchObject({ status: 401, message: expect.stringContaining('svc-infraai@vsphere.local') });
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain('wrong-password-42');
    expect(vcenter.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/session']);
    expect(vcenter.actions).toEqual([]);
  });

  it('names a missing privilege as forbidden, and an unreachable vCenter as unavailable', async () => {
    const auditor = await open(config(vcenter.url, 'auditor@vsphere.local'));
    const forbidden = await auditor.restartVm('web-01', { mode: 'reset' }).catch((err: unknown) => err);
    expect(forbidden).toBeInstanceOf(VsphereForbiddenError);
    expect(forbidden).toMatchObject({ status: 403, message: expect.stringContaining('UNAUTHORIZED') });
    expect(vcenter.actions).toEqual([]);

    const url = vcenter.url;
    await vcenter.close();
    const unreachable = await open(config(url));
    await expect(unreachable.restartVm('web-01', { mode: 'reset' })).rejects.toThrow(VsphereUnavailableError);
    vcenter = await startFakeVsphere({ users: USERS, vms: fleet() });
  });
});

describe('vSphere REST client over TLS', () => {
  let dir: string;
  let vcenter: FakeVsphere;
  const opened: VmActions[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infraai-vsphere-'));
    // A self-signed certificate for 127.0.0.1, as a lab vCenter's VMCA-issued one looks to a client without the VMCA root.
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    vcenter = await startFakeVsphere({
      users: USERS,
      vms: fleet(),
      tls: { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'ca.pem'), 'utf8') },
    });
  });
  afterAll(async () => {
    await Promise.all(opened.map((actions) => actions.close()));
    await vcenter?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the certificate by default, trusts a configured CA file, and skips verification only when told', async () => {
    const open = async (c: VsphereConfig) => {
      const actions = (await createVmActions(c))!;
      opened.push(actions);
      return actions;
    };
    const verifying = await open(config(vcenter.url));
    await expect(verifying.restartVm('web-01', { mode: 'reset' })).rejects.toThrow(/self[- ]signed certificate/);
    expect(vcenter.requests).toEqual([]);

    const withCa = await open({ ...config(vcenter.url), caFile: join(dir, 'ca.pem') });
    expect(await withCa.restartVm('web-01', { mode: 'reset' })).toMatchObject({ vmId: 'vm-1042' });

    const insecure = await open({ ...config(vcenter.url), insecureTls: true });
    expect(await insecure.restartVm('web-01', { mode: 'guest_reboot' })).toMatchObject({ action: 'guest_reboot' });
    expect(vcenter.actions).toEqual(['reset vm-1042', 'reboot vm-1042']);

    await expect(createVmActions({ ...config(vcenter.url), caFile: join(dir, 'missing.pem') })).rejects.toThrow(/INFRAAI_VSPHERE_CA_FILE/);
  });

  it('is not built when vSphere is not configured', async () => {
    expect(await createVmActions(null)).toBeNull();
  });
});
