import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { InvalidCursorError, type Store } from '../../adapters/store/port.js';
import { provisionBranch } from '../../core/contracts/provisioning.js';
import type { ProvisionRequirements } from '../../core/provisioning/types.js';

// The provisioning part of the store contract (migration 0015): requests numbered per tenant, listed
// by requester and status with cursors, a final status that stays, the branch lookup the GitHub
// webhook uses, and the local git host's pull-request records numbered per tenant and repository.

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}`;

const requirements: ProvisionRequirements = {
  resourceType: 's3_bucket',
  name: 'logs',
  environment: 'staging',
  size: 'small',
  team: null,
  service: null,
  region: 'eu-west-1',
  tags: {},
  options: { versioning: true },
};

export function describeProvisioningContract(store: () => Store): void {
  const newTenant = () => store().tenants.ensure(unique('prov'));
  const newRequest = (tenantId: string, requester = 'alice@example.com') =>
    store().provisioning.create(tenantId, {
      id: randomUUID(),
      requester,
      request: 'staging s3 bucket logs',
      environment: 'staging',
      requirements,
      parser: 'grammar',
    });

  it('creates a request queued, numbered per tenant, and reads it back in its tenant only', async () => {
    const tenant = await newTenant();
    const first = await newRequest(tenant.id);
    const second = await newRequest(tenant.id);
    expect(first).toMatchObject({
      tenantId: tenant.id,
      number: 1,
      status: 'queued',
      requirements,
      parser: 'grammar',
      files: null,
      findings: [],
      workflowId: `provision-${first.id}`,
      finishedAt: null,
    });
    expect(second.number).toBe(2);
    expect(await store().provisioning.get(tenant.id, first.id)).toEqual(first);
    const other = await newTenant();
    expect(await store().provisioning.get(other.id, first.id)).toBeNull();
    expect(await store().provisioning.get(tenant.id, 'not-a-uuid')).toBeNull();
  });

  it('answers the request recorded first for a repeated idempotency key, also when both arrive at once, per tenant', async () => {
    const tenant = await newTenant();
    const create = (key: string | null, tenantId = tenant.id) =>
      store().provisioning.create(tenantId, {
        id: randomUUID(),
        requester: 'alice@example.com',
        request: 'staging s3 bucket logs',
        environment: 'staging',
        requirements,
        parser: 'grammar',
        idempotencyKey: key,
      });
    const first = await create('key-1');
    expect(await create('key-1')).toEqual(first);
    const raced = await Promise.all([create('key-2'), create('key-2'), create('key-2')]);
    expect(new Set(raced.map((r) => r.id)).size).toBe(1);
    // Without a key every create is its own request; another tenant's key is its own.
    const [a, b] = [await create(null), await create(null)];
    expect(a.id).not.toBe(b.id);
    const other = await newTenant();
    expect((await create('key-1', other.id)).id).not.toBe(first.id);
    expect((await store().provisioning.list(tenant.id, {}, { limit: 50 })).items.map((r) => r.id).sort()).toEqual(
      [first.id, raced[0]!.id, a.id, b.id].sort(),
    );
  });

  it('updates steps, keeps a final status once set, and finds a request by its branch', async () => {
    const tenant = await newTenant();
    const request = await newRequest(tenant.id);
    const files = [{ path: 'terraform/staging/s3_bucket/logs/main.tf', content: 'resource "aws_s3_bucket" "logs" {}\n' }];
    const updated = await store().provisioning.update(tenant.id, request.id, {
      status: 'creating_pr',
      stage: 'pushProvisionBranch',
      files,
      directory: 'terraform/staging/s3_bucket/logs',
      branch: provisionBranch(request.id),
      commitSha: 'abc123',
      findings: [{ rule: 'required_tags', source: 'rules', severity: 'warning', file: 'main.tf', line: 1, resource: null, message: 'm' }],
    });
    expect(updated).toMatchObject({ status: 'creating_pr', files, commitSha: 'abc123', finishedAt: null });
    expect(updated!.findings).toHaveLength(1);
    expect((await store().provisioning.findByBranch(provisionBranch(request.id)))?.id).toBe(request.id);
    expect(await store().provisioning.findByBranch('infraai/provision-nothing')).toBeNull();

    const done = await store().provisioning.update(tenant.id, request.id, { status: 'completed', prState: 'merged', summary: 'merged' });
    expect(done).toMatchObject({ status: 'completed', prState: 'merged' });
    expect(done!.finishedAt).not.toBeNull();
    const late = await store().provisioning.update(tenant.id, request.id, { status: 'awaiting_review', stage: 'late' });
    expect(late).toMatchObject({ status: 'completed', stage: 'late', finishedAt: done!.finishedAt });
    expect(await store().provisioning.update(tenant.id, randomUUID(), { status: 'failed' })).toBeNull();
  });

  it('lists newest first by requester and status, page by page', async () => {
    const tenant = await newTenant();
    const made = [];
    for (let i = 0; i < 3; i += 1) made.push(await newRequest(tenant.id, 'bob@example.com'));
    await newRequest(tenant.id, 'carol@example.com');
    await store().provisioning.update(tenant.id, made[0]!.id, { status: 'blocked' });
    const first = await store().provisioning.list(tenant.id, { requester: 'bob@example.com' }, { limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.nextCursor).not.toBeNull();
    const second = await store().provisioning.list(tenant.id, { requester: 'bob@example.com' }, { limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [expect.objectContaining({ id: made[0]!.id, status: 'blocked' })], nextCursor: null });
    const blocked = await store().provisioning.list(tenant.id, { status: 'blocked' }, { limit: 10 });
    expect(blocked.items.map((r) => r.id)).toEqual([made[0]!.id]);
    await expect(store().provisioning.list(tenant.id, {}, { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('deletes a request of its tenant only', async () => {
    const tenant = await newTenant();
    const request = await newRequest(tenant.id);
    const other = await newTenant();
    expect(await store().provisioning.delete(other.id, request.id)).toBe(false);
    expect(await store().provisioning.delete(tenant.id, request.id)).toBe(true);
    expect(await store().provisioning.get(tenant.id, request.id)).toBeNull();
  });

  it('numbers pull-request records per tenant and repository, one per head, even when created at once', async () => {
    const tenant = await newTenant();
    const url = (n: number) => `local://infra/pull/${n}`;
    const records = store().provisioning.pullRequests({ tenantId: tenant.id, repo: 'infra', url });
    const input = (head: string) => ({ head, base: 'main', title: `t ${head}`, body: 'b' });
    const [a, again] = await Promise.all([records.create(input('infraai/provision-a')), records.create(input('infraai/provision-a'))]);
    expect(a).toEqual({ number: 1, url: 'local://infra/pull/1', state: 'open', head: 'infraai/provision-a', base: 'main' });
    expect(again).toEqual(a);
    const b = await records.create(input('infraai/provision-b'));
    expect(b.number).toBe(2);
    const otherRepo = store().provisioning.pullRequests({ tenantId: tenant.id, repo: 'other', url });
    expect((await otherRepo.create(input('infraai/provision-a'))).number).toBe(1);
    expect(await records.findByHead('infraai/provision-b')).toEqual(b);
    expect(await records.get(1)).toEqual(a);
    expect(await records.get(99)).toBeNull();
    expect(await records.setState(2, 'merged')).toEqual({ ...b, state: 'merged' });
    expect((await records.get(2))?.state).toBe('merged');
    expect(await records.setState(99, 'closed')).toBeNull();
  });
}
