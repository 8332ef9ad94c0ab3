import { describe, expect, it } from 'vitest';
import { checkBranchName, checkFiles, provisionCommitMessage, provisionRequestOf } from '../../adapters/git-host/commits.js';
import { GitHostRefusedError } from '../../adapters/git-host/port.js';

describe('git host commit rules', () => {
  it('adds the Provision-Request trailer once, as the last paragraph', () => {
    expect(provisionCommitMessage('Provision reports\n\nTwo files.\n\n', 'req-1')).toBe(
      'Provision reports\n\nTwo files.\n\nProvision-Request: req-1\n',
    );
    expect(provisionCommitMessage('Provision\n\nProvision-Request: req-1', 'req-1')).toBe('Provision\n\nProvision-Request: req-1\n');
    // Another request's trailer is not ours: ours goes last.
    expect(provisionRequestOf(provisionCommitMessage('Provision\n\nProvision-Request: other', 'req-2'))).toBe('req-2');
    expect(() => provisionCommitMessage('m', 'req\nSigned-off-by: x')).toThrow(GitHostRefusedError);
  });

  it('reads the trailer only from the trailer block', () => {
    expect(provisionRequestOf('Provision\n\nCo-authored-by: A <a@x>\nprovision-request:  req-9 \n')).toBe('req-9');
    expect(provisionRequestOf('Provision-Request: req-1\n\nA body that follows.')).toBeNull();
    expect(provisionRequestOf('Provision')).toBe(null);
  });

  it('accepts provisioning branches and repository-relative paths only', () => {
    expect(() => checkBranchName('infraai/provision-0b7c')).not.toThrow();
    for (const bad of ['-x', 'a..b', 'a/', 'a//b', 'a/.hidden', 'x.lock', 'a b', 'a~1', '']) {
      expect(() => checkBranchName(bad), bad).toThrow(GitHostRefusedError);
    }
    expect(() => checkFiles([{ path: 'terraform/dev/s3_bucket/a/main.tf', content: '' }])).not.toThrow();
    for (const bad of ['/etc/passwd', '../x', 'a/../b', 'a/./b', '.git/hooks/pre-commit', 'a/.GIT/x', 'a\\b', '']) {
      expect(() => checkFiles([{ path: bad, content: '' }]), bad).toThrow(GitHostRefusedError);
    }
    expect(() => checkFiles([])).toThrow(GitHostRefusedError);
    expect(() =>
      checkFiles([
        { path: 'a.tf', content: '1' },
        { path: 'a.tf', content: '2' },
      ]),
    ).toThrow(/listed twice/);
  });
});
