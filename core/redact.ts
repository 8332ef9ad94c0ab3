// Redaction of secrets from anything that leaves an activity for history, logs, the database, an LLM
// or an API response. Pure and workflow-safe.

export const REDACTED = '[REDACTED]';

/** Object keys whose values are secrets. `sshCredential` (a credential *name*) is deliberately not here. */
const SECRET_KEY_PATTERN =
  /^(?:.*[_-])?(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|private[_-]?key|privatekey|authorization|cookie|set-cookie|access[_-]?key|secret[_-]?access[_-]?key|client[_-]?secret|session[_-]?key)$|(?:Password|Passphrase|Secret|Token|ApiKey|PrivateKey)$/i;

const VALUE_PATTERNS: { pattern: RegExp; replacement: string }[] = [
  {
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replacement: '[REDACTED PRIVATE KEY]',
  },
  { pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, replacement: `$1 ${REDACTED}` },
  { pattern: /\biai_[A-Za-z0-9_-]{16,}/g, replacement: REDACTED },
  { pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, replacement: REDACTED },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replacement: REDACTED },
  { pattern: /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g, replacement: REDACTED },
  { pattern: /\bsk-(?:ant-|or-|proj-)?[A-Za-z0-9_-]{20,}/g, replacement: REDACTED },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replacement: REDACTED },
  {
    pattern: /\b((?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key)\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi,
    replacement: `$1${REDACTED}`,
  },
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi, replacement: `$1${REDACTED}@` },
];

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}

export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const { pattern, replacement } of VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Deep copy with secret-named fields replaced and secret-looking substrings masked. */
export function redact<T>(value: T, knownSecrets: readonly string[] = [], depth = 0): T {
  if (depth > 32) return '[TRUNCATED]' as T;
  if (typeof value === 'string') return redactText(value, knownSecrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redact(item, knownSecrets, depth + 1)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      out[key] =
        isSecretKey(key) && inner !== null && inner !== undefined && inner !== '' ? REDACTED : redact(inner, knownSecrets, depth + 1);
    }
    return out as T;
  }
  return value;
}

/** Cuts long text (command output, logs) so payloads stay small; says how much was cut. */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}… [truncated ${text.length - maxChars} chars]`;
}
