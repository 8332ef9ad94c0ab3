import { createHmac, timingSafeEqual } from 'node:crypto';

// PagerDuty signs each V3 webhook: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of
// the raw request body with the subscription's secret (several values while a secret rotates).
// The check runs on the raw bytes before anything parses them: a body re-serialised after parsing
// is not what was signed.

/** The `v1=` signatures a header carries (other versions are ignored, as PagerDuty asks). */
export function pagerDutySignatures(header: string | undefined | null): Buffer[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice(3))
    .filter((hex) => /^[0-9a-f]{64}$/i.test(hex))
    .map((hex) => Buffer.from(hex, 'hex'));
}

/** True when any signature in the header is the HMAC of the body under any of the secrets; compared in constant time. */
export function verifyPagerDutySignature(rawBody: Uint8Array, header: string | undefined | null, secrets: readonly string[]): boolean {
  const signatures = pagerDutySignatures(header);
  if (signatures.length === 0 || secrets.length === 0) return false;
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every pair is compared, whatever matched first: the time taken says nothing about which.
    for (const signature of signatures) {
      if (timingSafeEqual(expected, signature)) valid = true;
    }
  }
  return valid;
}

/** The header PagerDuty would send for this body (tests and the local PagerDuty stand-in sign with it). */
export function signPagerDutyBody(rawBody: Uint8Array | string, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`).join(',');
}
