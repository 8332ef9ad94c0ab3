import { describe, expect, it } from 'vitest';
import { AUTOMATION_REQUESTS, scoreAutomationRequests } from '../../bench/automation-requests.js';

// The scored request set: every request becomes exactly the expected templates and parameters (or
// is refused with a message). The harder phrasings (HARDER_AUTOMATION_REQUESTS) are only scored by the bench.

describe('automation request set', () => {
  it('has at least 40 requests, some combined and some refused', () => {
    expect(AUTOMATION_REQUESTS.length).toBeGreaterThanOrEqual(40);
    expect(AUTOMATION_REQUESTS.filter((c) => c.expect !== 'refused' && c.expect.length > 1).length).toBeGreaterThanOrEqual(4);
    expect(AUTOMATION_REQUESTS.filter((c) => c.expect === 'refused').length).toBeGreaterThanOrEqual(4);
  });

  it('understands every request of the set exactly (score 100%)', () => {
    const score = scoreAutomationRequests(AUTOMATION_REQUESTS);
    expect(score.misses).toEqual([]);
    expect(score.share).toBe(1);
  });

  it('scores a wrong expectation as a miss (the score can fail)', () => {
    const score = scoreAutomationRequests([
      { request: 'install nginx', expect: [{ template: 'package-absent', params: { packages: 'nginx' } }] },
      { request: 'install nginx', expect: 'refused' },
      { request: 'reboot the server', expect: [{ template: 'service-restarted', params: { service: 'server' } }] },
    ]);
    expect(score).toMatchObject({ total: 3, correct: 0, share: 0 });
  });
});
