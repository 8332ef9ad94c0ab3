import { describe, expect, it } from 'vitest';
import { redact, redactText, REDACTED, truncateText } from '../../core/redact.js';

describe('redact', () => {
  it('masks secret-named fields at any depth but keeps credential names and ids', () => {
    const value = redact({
      password: 'hunter2',
      nested: { apiKey: 'k', clientSecret: 's', list: [{ privateKey: 'p', token: 't' }] },
      dbPassword: 'x',
      sshCredential: 'web-ssh-key',
      tagId: 'web-01',
      tokenCount: 12,
      emptyPassword: '',
    });
    expect(value).toEqual({
      password: REDACTED,
      nested: { apiKey: REDACTED, clientSecret: REDACTED, list: [{ privateKey: REDACTED, token: REDACTED }] },
      dbPassword: REDACTED,
      sshCredential: 'web-ssh-key',
      tagId: 'web-01',
      tokenCount: 12,
      emptyPassword: '',
    });
  });

  it('masks secrets inside free text', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----';
    const text = redactText(
      [
        `key: ${pem}`,
        'curl -H "Authorization: Bearer abcdefghijklmnop"',
        'iai_0123456789abcdefghijklmnopqrstuv',
        'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
        'AKIAABCDEFGHIJKLMNOP',
        'ghp_abcdefghijklmnopqrstuvwxyz0123',
        'password=s3cret; user=bob',
        'postgres://app:pa55word@db.internal:5432/prod',
      ].join('\n'),
      ['my-known-secret'],
    );
    expect(text).not.toContain('AAAA');
    expect(text).toContain('[REDACTED PRIVATE KEY]');
    expect(text).not.toContain('abcdefghijklmnop"');
    expect(text).not.toContain('iai_0123456789');
    expect(text).not.toContain('eyJhbGciOiJIUzI1NiJ9.eyJ');
    expect(text).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(text).not.toContain('ghp_abc');
    expect(text).not.toContain('s3cret');
    expect(text).toContain('user=bob');
    expect(text).not.toContain('pa55word');
    expect(text).toContain('db.internal:5432/prod');
    expect(redactText('token my-known-secret here', ['my-known-secret'])).toBe(`token ${REDACTED} here`);
  });

  it('leaves ordinary text alone and truncates long output with a note', () => {
    expect(redactText('nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)')).toBe(
      'nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)',
    );
    expect(truncateText('abcdef', 10)).toBe('abcdef');
    expect(truncateText('a'.repeat(30), 10)).toBe(`${'a'.repeat(10)}… [truncated 20 chars]`);
  });
});
