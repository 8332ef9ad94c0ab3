import { createHash } from 'node:crypto';
import type { AutomationArtifacts } from '../automation.js';

// The approval of a run is bound to this hash: approving hash H approves exactly these artifacts.
// Uses node:crypto, so workflow code must not import this file (activities and the API only; a
// workflow receives the hash as a value).

/** JSON with object keys sorted at every depth, so equal artifacts hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no non-finite numbers');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) over every field of the artifacts: playbook, inventory, variables, collections, command, hosts. */
export function automationArtifactsHash(artifacts: AutomationArtifacts): string {
  // Named field by field, so a field added to AutomationArtifacts must be added here on purpose.
  const canonical = canonicalJson({
    playbook: artifacts.playbook,
    inventory: artifacts.inventory,
    variables: artifacts.variables,
    collections: artifacts.collections,
    command: artifacts.command,
    hosts: artifacts.hosts.map((h) => ({
      tagId: h.tagId,
      hostname: h.hostname,
      address: h.address,
      port: h.port,
      user: h.user,
      credential: h.credential,
    })),
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
