import type { PullRequestRecords, PullRequestRef, PullRequestState } from './port.js';

// Pull-request records of the local git host kept in memory: for tests and for a process that
// does not need them to outlive it. One record per head branch, numbered from 1.

interface StoredPullRequest extends PullRequestRef {
  title: string;
  body: string;
}

export class MemoryPullRequestRecords implements PullRequestRecords {
  private readonly byNumber = new Map<number, StoredPullRequest>();

  async findByHead(head: string): Promise<PullRequestRef | null> {
    const record = this.recordOf(head);
    return record ? toRef(record) : null;
  }

  async get(number: number): Promise<PullRequestRef | null> {
    const record = this.byNumber.get(number);
    return record ? toRef(record) : null;
  }

  async create(input: { head: string; base: string; title: string; body: string }): Promise<PullRequestRef> {
    // Checked and inserted without an await in between: concurrent creates for one head make one record.
    const existing = this.recordOf(input.head);
    if (existing) return toRef(existing);
    const number = this.byNumber.size + 1;
    const record: StoredPullRequest = { ...input, number, url: `local:#${number}`, state: 'open' };
    this.byNumber.set(number, record);
    return toRef(record);
  }

  async setState(number: number, state: PullRequestState): Promise<PullRequestRef | null> {
    const record = this.byNumber.get(number);
    if (!record) return null;
    record.state = state;
    return toRef(record);
  }

  private recordOf(head: string): StoredPullRequest | undefined {
    for (const record of this.byNumber.values()) if (record.head === head) return record;
    return undefined;
  }

  /** The title and body a pull request was opened with (tests). */
  details(number: number): { title: string; body: string } | null {
    const record = this.byNumber.get(number);
    return record ? { title: record.title, body: record.body } : null;
  }
}

function toRef(record: StoredPullRequest): PullRequestRef {
  return { number: record.number, url: record.url, state: record.state, head: record.head, base: record.base };
}
