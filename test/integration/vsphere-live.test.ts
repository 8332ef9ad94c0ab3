import { describe, expect, it } from 'vitest';
import { createVmActions, type VsphereConfig } from '../../adapters/vsphere/create.js';
import { VmNotFoundError, type VmRestartMode, VsphereAuthenticationError } from '../../adapters/vsphere/port.js';

// The VM actions port against a real vCenter. It restarts a real VM, so it runs only when a vCenter
// and a VM that may be restarted are named (INFRAAI_VSPHERE_LIVE_URL, _USERNAME, _PASSWORD, _VM);
// otherwise, CI included, it is skipped. _MODE picks `guest_reboot` (default) or `reset`;
// _INSECURE_TLS=1 or _CA_FILE for a lab vCenter's own certificate.
const env = process.env;
const live: VsphereConfig | null =
  env.INFRAAI_VSPHERE_LIVE_URL && env.INFRAAI_VSPHERE_LIVE_USERNAME && env.INFRAAI_VSPHERE_LIVE_PASSWORD && env.INFRAAI_VSPHERE_LIVE_VM
    ? {
        url: env.INFRAAI_VSPHERE_LIVE_URL,
        username: env.INFRAAI_VSPHERE_LIVE_USERNAME,
        password: env.INFRAAI_VSPHERE_LIVE_PASSWORD,
        insecureTls: env.INFRAAI_VSPHERE_LIVE_INSECURE_TLS === '1',
        caFile: env.INFRAAI_VSPHERE_LIVE_CA_FILE || null,
      }
    : null;
const vmName = env.INFRAAI_VSPHERE_LIVE_VM ?? '';
const mode: VmRestartMode = env.INFRAAI_VSPHERE_LIVE_MODE === 'reset' ? 'reset' : 'guest_reboot';

if (!live) {
  console.info(
    'vSphere live test skipped: set INFRAAI_VSPHERE_LIVE_URL, INFRAAI_VSPHERE_LIVE_USERNAME, INFRAAI_VSPHERE_LIVE_PASSWORD and INFRAAI_VSPHERE_LIVE_VM (a VM that may be restarted) to run it.',
  );
}

describe.skipIf(!live)(live ? `vSphere (live, ${new URL(live.url).host})` : 'vSphere (live) skipped: not configured', () => {
  it(`restarts ${vmName || 'the named VM'} (${mode}) and names what it cannot find or log into`, async () => {
    const actions = (await createVmActions(live))!;
    try {
      const result = await actions.restartVm(vmName, { mode });
      expect(result).toMatchObject({ name: vmName, powerStateBefore: 'POWERED_ON', action: mode });
      expect(result.vmId).toMatch(/^vm-\d+$/);
      await expect(actions.restartVm(`infraai-no-such-vm-${Date.now()}`, { mode })).rejects.toThrow(VmNotFoundError);
    } finally {
      await actions.close();
    }
    const wrong = (await createVmActions({ ...live!, password: `${live!.password}-wrong` }))!;
    try {
      await expect(wrong.restartVm(vmName, { mode })).rejects.toThrow(VsphereAuthenticationError);
    } finally {
      await wrong.close();
    }
  });
});
