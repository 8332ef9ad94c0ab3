import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { InvalidPrivateKeyError } from './port.js';

// ssh2 is CommonJS: `utils` is not among the names Node detects for ESM import, so take it off the default export.
const { utils } = ssh2;

/** `SHA256:…` as `ssh-keygen -lf` prints it, from a key in SSH wire format. */
export function sshFingerprint(publicKeyWire: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyWire).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH wire-format key (e.g. ssh-ed25519). */
export function sshKeyType(publicKeyWire: Buffer): string {
  if (publicKeyWire.length < 4) return 'unknown';
  const length = publicKeyWire.readUInt32BE(0);
  return publicKeyWire.subarray(4, 4 + Math.min(length, 64)).toString('latin1');
}

/** Checks that a private key parses (with its passphrase) and returns its type and fingerprint. */
export function inspectPrivateKey(privateKey: string, passphrase?: string | null): { keyType: string; fingerprint: string } {
  const parsed = utils.parseKey(privateKey, passphrase ?? undefined);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    const reason = key instanceof Error ? key.message : 'no key found';
    if (/no passphrase given/i.test(reason)) throw new InvalidPrivateKeyError('The private key is encrypted: give its passphrase.');
    if (/bad passphrase|integrity check failed|decrypt/i.test(reason))
      throw new InvalidPrivateKeyError('The passphrase does not decrypt the private key.');
    throw new InvalidPrivateKeyError(`Not a usable private key (${reason}). Send an OpenSSH, PEM (RSA/ECDSA) or PKCS#8 private key.`);
  }
  if (!key.isPrivateKey()) throw new InvalidPrivateKeyError('That is a public key; the credential needs the private key.');
  const wire = key.getPublicSSH();
  return { keyType: key.type, fingerprint: sshFingerprint(wire) };
}
