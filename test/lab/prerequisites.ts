import { labPrerequisites } from '../../lab/lab.js';

/**
 * What keeps the lab tier from running here. Off CI a missing prerequisite skips the lab files
 * (each says why); under CI=true the lab can always be set up (root, `npm ci` installs the Debian
 * packages), so a missing prerequisite fails the tier instead of skipping it.
 */
export function labTestProblems(): string[] {
  const problems = labPrerequisites();
  if (problems.length > 0 && process.env.CI === 'true') {
    throw new Error(`The lab tier cannot run under CI: ${problems.join('; ')}`);
  }
  return problems;
}
