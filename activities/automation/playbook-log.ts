import type { AnsibleRunner } from '../../adapters/ansible-runner/port.js';
import type { Store } from '../../adapters/store/port.js';
import { redactText, truncateText } from '../../core/redact.js';

// The run's log, stored while the playbook runs: a follower reads the runner's new events every
// `followMs` and appends their lines, and once the runner has answered, `finish` reads the rest.
// Line numbers come from the events alone (cursor null → line 1, in event order), so a retried
// attempt writes the same lines at the same numbers and the store keeps the first. Every line is
// redacted (the run's own keys included) and cut at MAX_LINE_CHARS; a page of events costs bounded
// memory for a run of any size.

/** How often the follower reads the runner's new events while the playbook runs. */
export const LOG_FOLLOW_MS = 500;
/** Lines stored per statement. */
const LOG_BATCH = 1000;
/** Runner events read per page (each may print several lines). */
const EVENT_PAGE = 500;
const TAIL_LINES = 40;
const TAIL_CHARS = 4000;
/** A longer line (a task's whole JSON result) is cut: a page of lines stays a readable size. */
export const MAX_LINE_CHARS = 16_000;

export interface PlaybookLogOptions {
  store: Pick<Store, 'automation'>;
  tenantId: string;
  runId: string;
  runner: Pick<AnsibleRunner, 'readEvents'>;
  runKey: string;
  /** Redacted from every line besides what looks like a secret. */
  secrets: string[];
  /** After each stored batch: the run's line count as the store answered it. */
  onStored?: (total: number) => void;
  /** A read or a write of the follower failed (it tries again at its next turn). */
  onFollowError?: (err: unknown) => void;
}

export interface StoredLog {
  lines: number;
  tail: string;
}

export class PlaybookLog {
  private cursor: string | null = null;
  private stored = 0;
  private tail: string[] = [];
  private following: Promise<void> = Promise.resolve();
  private halt: () => void = () => undefined;

  constructor(private readonly options: PlaybookLogOptions) {}

  /**
   * Reads from the cursor and stores the lines, page by page. A page's lines are stored before the
   * cursor moves past it: after a failed write the page is read again and written at the same numbers.
   * `toEnd`: until the runner says the end (or has nothing more); otherwise until a short page.
   */
  private async readOn(toEnd: boolean): Promise<void> {
    const { store, tenantId, runId, runner, runKey, secrets } = this.options;
    for (;;) {
      const page = await runner.readEvents(runKey, this.cursor, EVENT_PAGE);
      const lines: string[] = [];
      for (const event of page.events) {
        if (!event.stdout) continue;
        const printed = redactText(event.stdout, secrets)
          .split(/\r?\n/)
          .map((line) => truncateText(line, MAX_LINE_CHARS));
        if (printed.at(-1) === '') printed.pop();
        lines.push(...printed);
      }
      for (let i = 0; i < lines.length; i += LOG_BATCH) {
        const total = await store.automation.appendLog(tenantId, runId, this.stored + 1 + i, lines.slice(i, i + LOG_BATCH));
        this.options.onStored?.(total);
      }
      this.stored += lines.length;
      this.cursor = page.cursor;
      if (lines.length > 0) this.tail = [...this.tail.slice(-TAIL_LINES), ...lines.slice(-TAIL_LINES)].slice(-TAIL_LINES);
      if (page.end || page.events.length === 0) return;
      // While the run goes on, a short page means "all there is for now": the next turn reads on.
      if (!toEnd && page.events.length < EVENT_PAGE) return;
    }
  }

  /**
   * Follows the runner's events every `followMs` until `stop` or `finish`. A failed turn (the
   * execution not started yet, a store that did not answer) is retried at the next one; it never
   * rejects.
   */
  follow(followMs: number): void {
    let stopped = false;
    let wake: () => void = () => undefined;
    this.halt = () => {
      stopped = true;
      wake();
    };
    this.following = (async () => {
      while (!stopped) {
        try {
          await this.readOn(false);
        } catch (err) {
          this.options.onFollowError?.(err);
        }
        if (stopped) return;
        await new Promise<void>((done) => {
          const timer = setTimeout(done, followMs);
          wake = () => {
            clearTimeout(timer);
            done();
          };
        });
      }
    })();
  }

  /** Stops the follower and waits for a turn under way: nothing is written after this resolves. */
  async stop(): Promise<void> {
    this.halt();
    await this.following;
  }

  /** Once the runner has answered: stops the follower, then stores the rest (a failure here fails the attempt). */
  async finish(): Promise<StoredLog> {
    await this.stop();
    await this.readOn(true);
    return { lines: this.stored, tail: truncateText(this.tail.join('\n'), TAIL_CHARS) };
  }
}
