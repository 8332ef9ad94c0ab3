import { LocalPlaybookChecker, type LocalPlaybookCheckerOptions } from './local.js';
import type { PlaybookChecker } from './port.js';

/** The playbook checker: Debian's ansible-playbook and ansible-lint on this machine (the only one so far). */
export function createPlaybookChecker(options: LocalPlaybookCheckerOptions = {}): PlaybookChecker {
  return new LocalPlaybookChecker(options);
}
