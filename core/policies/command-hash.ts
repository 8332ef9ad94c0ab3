// The approval of a policy's ssh_command is bound to this hash: approving hash H approves exactly
// that command, as interpolated for the alert. Web Crypto (global in Node), so nothing here imports
// a Node built-in; workflow code must still not call it (its sandbox has no crypto): the activity
// that rates the command and the API's approval route do, and a workflow receives the hash as a value.

/** SHA-256 (hex) of the interpolated command, as the job log shows it. */
export async function policyCommandHash(command: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(command));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
