import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleProvider } from '../../adapters/llm/openai-compatible.js';
import { createStore } from '../../adapters/store/create.js';
import type { Store } from '../../adapters/store/port.js';
import { loadConfig } from '../../config.js';
import { DEFAULT_PROVISION_CONVENTIONS } from '../../core/provisioning/conventions.js';
import { parseProvisionRequestWithLlm, type LlmProvisionReading } from '../../core/provisioning/llm.js';
import { buildProvisioning } from '../../wiring.js';
import { startScriptedModel, type ScriptedModelServer } from '../support/scripted-model.js';

// Provisioning requests read by an LLM (structured output) against a local server speaking the
// OpenAI protocol: what the model reads becomes requirements under the conventions, what it leaves
// open or what the conventions do not allow is answered as missing, and a model that cannot be
// reached leaves the request to the grammar.

let model: ScriptedModelServer;
let store: Store;
const provider = () =>
  new OpenAiCompatibleProvider({ apiKey: 'sk-test-000000000000000000000000', model: 'test/provision', baseURL: model.openAiBaseUrl });

const reading = (overrides: Partial<LlmProvisionReading>): LlmProvisionReading => ({
  resourceTypes: [],
  unsupported: null,
  name: null,
  environments: [],
  sizes: [],
  team: null,
  service: null,
  regions: [],
  tags: [],
  options: [],
  ...overrides,
});

beforeAll(async () => {
  model = await startScriptedModel();
  store = await createStore({ kind: 'pglite', dataDir: await mkdtemp(join(tmpdir(), 'infraai-provision-llm-')) });
});

afterAll(async () => {
  await model?.close();
});

beforeEach(() => model.reset());

describe('provisioning requests read by an LLM', () => {
  it('turns what the model read into requirements, with the conventions’ defaults, and sends the request as data', async () => {
    const text =
      'Hi team, could you set up a small postgres 16 database for the accounts service in eu-west-2 in prod? Owner is the identity team.';
    model.script({
      text: JSON.stringify(
        reading({
          resourceTypes: ['postgres_database'],
          environments: ['production'],
          sizes: ['small'],
          team: 'identity',
          service: 'accounts',
          regions: ['eu-west-2'],
          options: [{ key: 'engineVersion', value: '16' }],
        }),
      ),
    });
    const outcome = await parseProvisionRequestWithLlm(provider(), text, {}, DEFAULT_PROVISION_CONVENTIONS);
    expect(outcome).toEqual({
      ok: true,
      parser: 'llm',
      requirements: {
        resourceType: 'postgres_database',
        name: 'accounts-db',
        environment: 'production',
        size: 'small',
        team: 'identity',
        service: 'accounts',
        region: 'eu-west-2',
        tags: {},
        options: { engineVersion: '16' },
      },
    });
    const sent = model.requests[0]!;
    expect(sent.transcript.at(-1)).toContain(`<data>${text}</data>`);
    expect(JSON.stringify(sent.body)).toContain('provision_request');
  });

  it('answers missing, never a guess, when the model reads two types, no environment, or what the conventions forbid', async () => {
    model.script(
      { text: JSON.stringify(reading({ resourceTypes: ['s3_bucket', 'sqs_queue'], environments: ['dev'], service: 'logs' })) },
      { text: JSON.stringify(reading({ resourceTypes: ['redis_cache'], service: 'sessions' })) },
      {
        text: JSON.stringify(
          reading({
            resourceTypes: ['postgres_database'],
            environments: ['staging'],
            service: 'crm',
            regions: ['mars-north-1'],
            options: [{ key: 'engineVersion', value: '9' }],
          }),
        ),
      },
      {
        text: JSON.stringify(
          reading({
            resourceTypes: ['dns_record'],
            environments: ['production'],
            options: [
              { key: 'recordName', value: 'api.example.com' },
              { key: 'recordType', value: 'CNAME' },
            ],
          }),
        ),
      },
    );
    const parse = (text: string) => parseProvisionRequestWithLlm(provider(), text, {}, DEFAULT_PROVISION_CONVENTIONS);
    expect(await parse('a bucket and a queue for logs in dev')).toMatchObject({ ok: false, missing: ['resourceType'] });
    expect(await parse('a redis cache for sessions')).toMatchObject({ ok: false, missing: ['environment'] });
    expect(await parse('postgres 9 for crm in staging on mars')).toMatchObject({ ok: false, missing: ['region', 'engineVersion'] });
    expect(await parse('a CNAME for api.example.com in prod')).toMatchObject({ ok: false, missing: ['recordValue'] });
  });

  it('asks again once when an answer does not match the schema, and a caller’s default environment fills the gap', async () => {
    model.script(
      { text: '{"resourceTypes": ["a spaceship"]}' },
      { text: JSON.stringify(reading({ resourceTypes: ['sqs_queue'], name: 'orders', options: [{ key: 'fifo', value: true }] })) },
    );
    const outcome = await parseProvisionRequestWithLlm(
      provider(),
      'a fifo queue named orders',
      { environment: 'staging' },
      DEFAULT_PROVISION_CONVENTIONS,
    );
    expect(outcome).toMatchObject({
      ok: true,
      requirements: { resourceType: 'sqs_queue', name: 'orders', environment: 'staging', options: { fifo: true } },
    });
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]!.transcript.at(-1)).toMatch(/does not match the required JSON schema/);
  });

  it('wired as npm start wires it: the model reads when it answers; the grammar reads when it does not', async () => {
    const config = loadConfig({
      INFRAAI_CHECKOV: 'off',
      INFRAAI_GIT_LOCAL_REPO: await mkdtemp(join(tmpdir(), 'infraai-provision-llm-git-')),
    });
    const { toolkit } = await buildProvisioning(config, store, { llm: provider() });
    model.script({
      text: JSON.stringify(reading({ resourceTypes: ['s3_bucket'], name: 'invoices', environments: ['staging'], team: 'billing' })),
    });
    expect(await toolkit!.parse('somewhere to keep invoices in staging, billing team', {})).toMatchObject({
      ok: true,
      parser: 'llm',
      requirements: { resourceType: 's3_bucket', name: 'invoices', team: 'billing' },
    });
    model.script(
      { error: { status: 503, message: 'overloaded' } },
      { error: { status: 503, message: 'overloaded' } },
      { error: { status: 503, message: 'overloaded' } },
    );
    expect(await toolkit!.parse('an s3 bucket called invoices for the billing team in staging', {})).toMatchObject({
      ok: true,
      parser: 'grammar',
      requirements: { resourceType: 's3_bucket', name: 'invoices' },
    });
  });
});
