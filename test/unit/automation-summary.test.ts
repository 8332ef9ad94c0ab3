import { describe, expect, it } from 'vitest';
import { knownHostsLine } from '../../activities/automation/run-playbook.js';
import type { HostRecap } from '../../core/automation.js';
import type { AutomationOutcome } from '../../core/contracts/automation.js';
import { summariseOutcome } from '../../workflows/automation/summarise.js';

const recap = (extra: Partial<HostRecap> = {}): HostRecap => ({
  ok: 3,
  changed: 1,
  unreachable: 0,
  failed: 0,
  skipped: 0,
  rescued: 0,
  ignored: 0,
  ...extra,
});
const outcome = (extra: Partial<AutomationOutcome>): AutomationOutcome => ({
  runnerStatus: 'successful',
  exitCode: 0,
  recap: { 'web-01': recap() },
  logLines: 10,
  logTail: '',
  reattached: false,
  ...extra,
});
const plain = { checkMode: false, hostLeaseLost: null };

describe('summariseOutcome', () => {
  it('counts a run as succeeded only with final stats and no failed or unreachable host', () => {
    expect(summariseOutcome(outcome({}), plain)).toMatchObject({ status: 'succeeded' });
    expect(summariseOutcome(outcome({ recap: null }), plain).status).toBe('recap_missing');
    expect(summariseOutcome(outcome({ recap: {} }), plain).status).toBe('recap_missing');
    expect(summariseOutcome(outcome({ recap: { 'web-01': recap(), 'web-02': recap({ unreachable: 1 }) } }), plain)).toMatchObject({
      status: 'failed',
      summary: expect.stringContaining('web-02'),
    });
    expect(summariseOutcome(outcome({ recap: { 'web-01': recap({ failed: 2 }) } }), plain).status).toBe('failed');
    expect(summariseOutcome(outcome({}), { checkMode: false, hostLeaseLost: 'taken by incident-1' }).status).toBe('failed');
  });

  it('maps every other runner verdict to its final status', () => {
    expect(summariseOutcome(outcome({ runnerStatus: 'recap_missing', recap: null }), plain).status).toBe('recap_missing');
    expect(summariseOutcome(outcome({ runnerStatus: 'failed', exitCode: 2 }), plain).status).toBe('failed');
    expect(summariseOutcome(outcome({ runnerStatus: 'timeout', exitCode: null }), plain).status).toBe('failed');
    expect(summariseOutcome(outcome({ runnerStatus: 'cancelled' }), plain).status).toBe('cancelled');
    expect(summariseOutcome(outcome({ runnerStatus: 'lost', recap: null }), plain).status).toBe('lost');
    expect(summariseOutcome(outcome({ reattached: true }), { checkMode: true, hostLeaseLost: null }).summary).toMatch(
      /^Check-mode run succeeded \(a retried step found the first execution/,
    );
  });
});

describe('knownHostsLine', () => {
  it('writes port 22 bare and any other port in brackets, as ssh expects', () => {
    expect(knownHostsLine({ address: '10.0.0.5', port: 22 }, 'ssh-ed25519', 'AAAA')).toBe('10.0.0.5 ssh-ed25519 AAAA');
    expect(knownHostsLine({ address: '10.0.0.5', port: 2222 }, 'ssh-ed25519', 'AAAA')).toBe('[10.0.0.5]:2222 ssh-ed25519 AAAA');
  });
});
