import { createHmac, timingSafeEqual } from 'node:crypto';

// GitHub signs each webhook delivery: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw
// request body under the webhook's secret. Checked on the raw bytes before anything parses them;
// several secrets are accepted so one can rotate (GitHub sends one signature, under the secret set
// on the hook now).

/** The signature a header carries, or null when it is missing or malformed. */
function githubSignature(header: string | undefined | null): Buffer | null {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  return match ? Buffer.from(match[1]!, 'hex') : null;
}

/** True when the header is the HMAC of the body under any of the secrets; compared in constant time. */
export function verifyGitHubSignature(rawBody: Uint8Array, header: string | undefined | null, secrets: readonly string[]): boolean {
  const signature = githubSignature(header);
  if (!signature || secrets.length === 0) return false;
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every secret is compared, whatever matched first: the time taken says nothing about which.
    if (timingSafeEqual(expected, signature)) valid = true;
  }
  return valid;
}

/** The header GitHub would send for this body (tests sign with it). */
export function signGitHubBody(rawBody: Uint8Array | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
