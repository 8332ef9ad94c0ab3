import type { ProvisionFile } from '../../core/provisioning/types.js';
import { GitHostRefusedError } from './port.js';

// What both git hosts agree on, so that a commit one of them made is recognised by either: the
// commit-message trailer naming the provisioning request, and the checks on branch names and file
// paths made before anything is written.

export const PROVISION_REQUEST_TRAILER = 'Provision-Request';

/** The commit message with the `Provision-Request: <requestId>` trailer as its last paragraph. */
export function provisionCommitMessage(message: string, requestId: string): string {
  checkRequestId(requestId);
  const text = message.replace(/\s+$/, '');
  if (provisionRequestOf(text) === requestId) return `${text}\n`;
  return `${text}${text ? '\n\n' : ''}${PROVISION_REQUEST_TRAILER}: ${requestId}\n`;
}

/** The request id in the message's trailer block (its last paragraph), or null. */
export function provisionRequestOf(message: string): string | null {
  const paragraphs = message.replace(/\s+$/, '').split(/\n[ \t]*\n/);
  const trailers = paragraphs[paragraphs.length - 1] ?? '';
  const prefix = `${PROVISION_REQUEST_TRAILER.toLowerCase()}:`;
  for (const line of trailers.split('\n')) {
    if (line.toLowerCase().startsWith(prefix)) return line.slice(prefix.length).trim() || null;
  }
  return null;
}

export function checkRequestId(requestId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(requestId)) {
    throw new GitHostRefusedError(`request id '${requestId}' is not usable in a commit trailer (letters, digits, . _ : - only)`);
  }
}

/** A branch name both hosts accept (a subset of git check-ref-format's rules). */
export function checkBranchName(branch: string): void {
  const ok =
    /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(branch) &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.') &&
    !branch.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'));
  if (!ok) throw new GitHostRefusedError(`'${branch}' is not a valid branch name`);
}

/** Paths relative to the repository root, without `.`/`..` segments or a `.git` directory; no path twice. */
export function checkFiles(files: readonly ProvisionFile[]): void {
  if (files.length === 0) throw new GitHostRefusedError('a commit needs at least one file');
  const seen = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    const ok =
      file.path.length > 0 &&
      file.path.length <= 4096 &&
      !/[\0\n\r\\]/.test(file.path) &&
      parts.every((part) => part !== '' && part !== '.' && part !== '..' && part.toLowerCase() !== '.git');
    if (!ok) throw new GitHostRefusedError(`'${file.path}' is not a relative file path inside the repository`);
    if (seen.has(file.path)) throw new GitHostRefusedError(`'${file.path}' is listed twice`);
    seen.add(file.path);
  }
}
