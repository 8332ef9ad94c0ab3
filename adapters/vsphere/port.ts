// The vSphere port: restarting a virtual machine by name, the action behind the `restart_vm`
// self-healing policy. vsphere-rest.ts speaks vCenter's Automation REST API.

export type VmPowerState = 'POWERED_ON' | 'POWERED_OFF' | 'SUSPENDED';

/** `reset`: a hard reset (power cycle); `guest_reboot`: the guest OS reboots itself through VMware Tools. */
export type VmRestartMode = 'reset' | 'guest_reboot';

export interface VmRestart {
  /** vCenter's identifier of the VM (e.g. `vm-1042`). */
  vmId: string;
  name: string;
  powerStateBefore: VmPowerState;
  action: VmRestartMode;
}

export interface VmActions {
  /**
   * Restarts the one powered-on VM with this name. A guest reboot never falls back to a reset: when
   * VMware Tools cannot take it, GuestToolsUnavailableError says so and nothing happened.
   */
  restartVm(name: string, options: { mode: VmRestartMode }): Promise<VmRestart>;
  /** Ends the API session (DELETE /api/session). */
  close(): Promise<void>;
}

/** A vSphere call refused or failed; `status` is vCenter's HTTP status when it answered. */
export class VsphereError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** vCenter refused the username and password (401 on POST /api/session). */
export class VsphereAuthenticationError extends VsphereError {
  override readonly name = 'VsphereAuthenticationError';
}

/** The user lacks the privilege for the call (403). */
export class VsphereForbiddenError extends VsphereError {
  override readonly name = 'VsphereForbiddenError';
}

/** No VM has this name (or it went away before the action). */
export class VmNotFoundError extends VsphereError {
  override readonly name = 'VmNotFoundError';
}

/** Several VMs have this name (in different folders or datacenters): none is touched. */
export class VmAmbiguousError extends VsphereError {
  override readonly name = 'VmAmbiguousError';
  constructor(
    message: string,
    readonly vmIds: string[],
  ) {
    super(message);
  }
}

/** The VM is powered off or suspended: a restart would power it on, which a restart policy does not ask for. */
export class VmNotPoweredOnError extends VsphereError {
  override readonly name = 'VmNotPoweredOnError';
}

/** A guest reboot needs VMware Tools running in the guest; they are not (nothing was done). */
export class GuestToolsUnavailableError extends VsphereError {
  override readonly name = 'GuestToolsUnavailableError';
}

/** vCenter unreachable, TLS refused, or an unexpected answer (retryable). */
export class VsphereUnavailableError extends VsphereError {
  override readonly name = 'VsphereUnavailableError';
}
