import { describe, expect, it } from 'vitest';
import { hostCommandRisk, worstToolRisk } from '../../tools/host-command-risk.js';

// What a chat tool that reaches a host is rated, by the command policy: read-only commands run at
// once, changes wait for a confirmation, forbidden ones never run.

describe('hostCommandRisk', () => {
  it.each([
    ['systemctl status nginx', 'read'],
    ['df -h /var', 'read'],
    ['journalctl -u nginx -n 50 | grep -i error', 'read'],
    ['systemctl restart nginx', 'change'],
    ['rm -f /var/log/app/old.log', 'change'],
    ['sh -c "cat /etc/hosts; systemctl restart cron"', 'change'],
    ['systemctl stop sshd', 'forbidden'],
    ['rm -rf /', 'forbidden'],
    ['reboot', 'forbidden'],
  ] as const)('%s → %s', (command, risk) => {
    expect(hostCommandRisk(command, {}, null).risk).toBe(risk);
  });

  it('follows the policy: a reboot it allows is a change to confirm, not forbidden', () => {
    expect(hostCommandRisk('reboot', { allowReboot: true }, null).risk).toBe('change');
    expect(hostCommandRisk('reboot', {}, null).classification.reasons.join(' ')).toMatch(/reboot|shutdown|power/i);
  });

  it('rates a batch by its worst command', () => {
    expect(worstToolRisk(['read', 'read'])).toBe('read');
    expect(worstToolRisk(['read', 'change'])).toBe('change');
    expect(worstToolRisk(['change', 'forbidden', 'read'])).toBe('forbidden');
  });
});
