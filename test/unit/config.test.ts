import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';

describe('loadConfig', () => {
  it('has defaults that run the embedded stack', () => {
    const config = loadConfig({});
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8000, bodyLimitBytes: 1024 * 1024, corsOrigins: [] });
    expect(config.store).toEqual({ kind: 'pglite', dataDir: '.data/pglite' });
    expect(config.temporal).toMatchObject({ address: null, taskQueue: 'infraai', tls: null, apiKey: null });
    expect(config.devServer).toMatchObject({ configFile: 'temporal-dev.yaml', port: null, uiPort: null });
    expect(config.jwt).toBeNull();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('chooses PostgreSQL or Supabase from the environment', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).store).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(loadConfig({ SUPABASE_URL: 'https://x.supabase.co', SUPABASE_KEY: 'k' }).store).toMatchObject({ kind: 'supabase' });
    expect(() => loadConfig({ SUPABASE_URL: 'https://x.supabase.co' })).toThrow(/SUPABASE_URL and SUPABASE_KEY/);
  });

  it('carries run events in memory alone, over PostgreSQL with DATABASE_URL, over Redis with REDIS_URL', () => {
    expect(loadConfig({}).eventBus).toEqual({ kind: 'memory' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).eventBus).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://r:6379' }).eventBus).toEqual({
      kind: 'redis',
      url: 'redis://r:6379',
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', INFRAAI_EVENT_BUS: 'memory' }).eventBus).toEqual({ kind: 'memory' });
    expect(() => loadConfig({ INFRAAI_EVENT_BUS: 'redis' })).toThrow(/INFRAAI_EVENT_BUS=redis needs REDIS_URL/);
    expect(() => loadConfig({ INFRAAI_EVENT_BUS: 'postgres' })).toThrow(/INFRAAI_EVENT_BUS=postgres needs DATABASE_URL/);
    expect(() => loadConfig({ INFRAAI_EVENT_BUS: 'kafka' })).toThrow(/INFRAAI_EVENT_BUS/);
  });

  it('leaves the worker cache to the SDK unless INFRAAI_WORKER_MAX_CACHED_WORKFLOWS sets it (0 switches it off)', () => {
    expect(loadConfig({}).worker.maxCachedWorkflows).toBeNull();
    expect(loadConfig({ INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: '500' }).worker.maxCachedWorkflows).toBe(500);
    expect(loadConfig({ INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBe(0);
    expect(() => loadConfig({ INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toThrow(/INFRAAI_WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => loadConfig({ INFRAAI_WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/INFRAAI_WORKER_MAX_CACHED_WORKFLOWS/);
  });

  it('reads the host lease TTL (15 min by default) and refuses one too short to renew', () => {
    expect(loadConfig({}).remediation.hostLeaseTtlMs).toBe(15 * 60_000);
    expect(loadConfig({ INFRAAI_HOST_LEASE_TTL_MS: '60000' }).remediation.hostLeaseTtlMs).toBe(60_000);
    expect(loadConfig({}).automation).toEqual({ approvalTimeoutMs: 1_800_000, runTimeoutMs: 1_800_000, maxHostLeases: 50 });
    expect(loadConfig({}).alerts).toEqual({
      escalateUnmatched: false,
      resolveWaitMs: 3_600_000,
      verifyTimeoutMs: 30_000,
      reconcileEveryMs: 60_000,
    });
    expect(loadConfig({ INFRAAI_ALERTS_RECONCILE_SECONDS: '0' }).alerts.reconcileEveryMs).toBe(0);
    expect(loadConfig({ INFRAAI_ALERTS_ESCALATE_UNMATCHED: 'true', INFRAAI_ALERTS_RESOLVE_WAIT_SECONDS: '60' }).alerts).toMatchObject({
      escalateUnmatched: true,
      resolveWaitMs: 60_000,
    });
    expect(() => loadConfig({ INFRAAI_ALERTS_ESCALATE_UNMATCHED: 'maybe' })).toThrow(/INFRAAI_ALERTS_ESCALATE_UNMATCHED/);
    expect(loadConfig({ INFRAAI_AUTOMATION_APPROVAL_TIMEOUT_SECONDS: '60' }).automation.approvalTimeoutMs).toBe(60_000);
    expect(() => loadConfig({ INFRAAI_HOST_LEASE_TTL_MS: '500' })).toThrow(/INFRAAI_HOST_LEASE_TTL_MS: must be at least 3000/);
    expect(() => loadConfig({ INFRAAI_HOST_LEASE_TTL_MS: 'soon' })).toThrow(/INFRAAI_HOST_LEASE_TTL_MS/);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ INFRAAI_BODY_LIMIT_BYTES: '-1' })).toThrow(/INFRAAI_BODY_LIMIT_BYTES/);
    expect(() => loadConfig({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS/);
    expect(() => loadConfig({ INFRAAI_JWT_JWKS_URL: 'not a url' })).toThrow(/INFRAAI_JWT_JWKS_URL/);
  });

  it('configures a remote Temporal with TLS, mTLS or an API key, and refuses half-configured TLS', () => {
    const cloud = loadConfig({ TEMPORAL_ADDRESS: 'ns.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns', TEMPORAL_API_KEY: 'secret' });
    expect(cloud.temporal).toMatchObject({ address: 'ns.tmprl.cloud:7233', namespace: 'ns', apiKey: 'secret', tls: {} });
    const mtls = loadConfig({
      TEMPORAL_ADDRESS: 'h:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/k.pem',
    });
    expect(mtls.temporal.tls).toEqual({ clientCertPath: '/c.pem', clientKeyPath: '/k.pem' });
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' })).toThrow(/set together/);
    expect(() => loadConfig({ TEMPORAL_API_KEY: 'secret' })).toThrow(/TEMPORAL_ADDRESS/);
  });

  it('reads JWT, CORS, port overrides and the workflow bundle', () => {
    const config = loadConfig({
      INFRAAI_JWT_JWKS_URL: 'https://clerk.example/.well-known/jwks.json',
      INFRAAI_JWT_TENANT_CLAIM: 'o.id',
      INFRAAI_CORS_ORIGINS: 'https://console.example, http://localhost:3000',
      TEMPORAL_DEV_PORT: '17233',
      TEMPORAL_DEV_UI_PORT: '18233',
      INFRAAI_WORKFLOW_BUNDLE: 'dist/workflow-bundle.js',
    });
    expect(config.jwt).toMatchObject({
      jwksUrl: 'https://clerk.example/.well-known/jwks.json',
      tenantClaim: 'o.id',
      roleClaim: 'role',
      defaultRole: 'operator',
    });
    expect(config.api.corsOrigins).toEqual(['https://console.example', 'http://localhost:3000']);
    expect(config.devServer).toMatchObject({ port: 17233, uiPort: 18233 });
    expect(config.worker.workflowBundlePath).toBe('dist/workflow-bundle.js');
  });
});

describe('LLM configuration', () => {
  it('is off by default and can be switched off explicitly', () => {
    expect(loadConfig({}).llm).toBeNull();
    expect(loadConfig({ OPENAI_API_KEY: 'sk-1', INFRAAI_LLM_PROVIDER: 'none' }).llm).toBeNull();
  });

  it('accepts the reference names: openrouter / OPENROUTER_MODEL go to OpenRouter', () => {
    expect(loadConfig({ openrouter: 'sk-or-1', OPENROUTER_MODEL: 'openai/gpt-5.2' }).llm).toEqual({
      provider: 'openai-compatible',
      model: 'openai/gpt-5.2',
      baseUrl: 'https://openrouter.ai/api/v1',
      apiKey: 'sk-or-1',
      timeoutMs: 60_000,
    });
  });

  it('supports OpenAI, a keyless local server (Ollama, vLLM) and Anthropic', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-1' }).llm).toMatchObject({ provider: 'openai-compatible', baseUrl: null, apiKey: 'sk-1' });
    expect(loadConfig({ INFRAAI_LLM_BASE_URL: 'http://127.0.0.1:11434/v1', INFRAAI_LLM_MODEL: 'llama3.1' }).llm).toMatchObject({
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.1',
    });
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-1' }).llm).toMatchObject({ provider: 'anthropic', apiKey: 'sk-ant-1' });
    expect(() => loadConfig({ INFRAAI_LLM_PROVIDER: 'anthropic' })).toThrow(/ANTHROPIC_API_KEY/);
  });
});

describe('embeddings configuration', () => {
  it('is off by default; a local endpoint needs no key', () => {
    expect(loadConfig({}).embeddings).toBeNull();
    expect(
      loadConfig({ INFRAAI_EMBEDDINGS_BASE_URL: 'http://127.0.0.1:11434/v1', INFRAAI_EMBEDDINGS_MODEL: 'nomic-embed-text' }).embeddings,
    ).toEqual({
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'nomic-embed-text',
      apiKey: 'not-needed',
    });
    expect(loadConfig({ INFRAAI_EMBEDDINGS_MODEL: 'text-embedding-3-small', OPENAI_API_KEY: 'sk-1' }).embeddings).toMatchObject({
      baseUrl: null,
      apiKey: 'sk-1',
    });
  });
});

describe('infrastructure actions configuration', () => {
  it('allows every namespace and at most 50 replicas by default; reads the allowlist and the bound', () => {
    expect(loadConfig({}).kubernetesActions).toEqual({ namespaces: [], maxReplicas: 50 });
    expect(loadConfig({ INFRAAI_KUBE_ACTION_NAMESPACES: 'shop, payments,', INFRAAI_KUBE_MAX_REPLICAS: '10' }).kubernetesActions).toEqual({
      namespaces: ['shop', 'payments'],
      maxReplicas: 10,
    });
    expect(() => loadConfig({ INFRAAI_KUBE_MAX_REPLICAS: '0' })).toThrow(/INFRAAI_KUBE_MAX_REPLICAS/);
  });

  it('configures vCenter only with URL, username and password together, verifying TLS unless told not to', () => {
    expect(loadConfig({}).vsphere).toBeNull();
    const env = {
      INFRAAI_VSPHERE_URL: 'https://vcenter.lab',
      INFRAAI_VSPHERE_USERNAME: 'svc@vsphere.local',
      INFRAAI_VSPHERE_PASSWORD: 'pw',
    };
    expect(loadConfig(env).vsphere).toEqual({ ...toVsphere(env), insecureTls: false, caFile: null });
    expect(loadConfig({ ...env, INFRAAI_VSPHERE_INSECURE_TLS: 'true', INFRAAI_VSPHERE_CA_FILE: '/etc/vmca.pem' }).vsphere).toMatchObject({
      insecureTls: true,
      caFile: '/etc/vmca.pem',
    });
    expect(() => loadConfig({ INFRAAI_VSPHERE_URL: 'https://vcenter.lab' })).toThrow(/must be set together/);
    expect(() => loadConfig({ ...env, INFRAAI_VSPHERE_URL: 'vcenter' })).toThrow(/INFRAAI_VSPHERE_URL/);
    let message = '';
    try {
      loadConfig({ ...env, INFRAAI_VSPHERE_URL: 'not a url', INFRAAI_VSPHERE_PASSWORD: 'hunter2-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/INFRAAI_VSPHERE_URL/);
    expect(message).not.toContain('hunter2-secret');
  });
});

function toVsphere(env: Record<string, string>) {
  return { url: env.INFRAAI_VSPHERE_URL, username: env.INFRAAI_VSPHERE_USERNAME, password: env.INFRAAI_VSPHERE_PASSWORD };
}

describe('event queue configuration', () => {
  const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/infraaiqueue.fifo';

  it('is off by default; the region comes from INFRAAI_SQS_REGION, AWS_REGION or the AWS queue URL', () => {
    expect(loadConfig({}).eventQueue).toBeNull();
    expect(loadConfig({ INFRAAI_SQS_QUEUE_URL: url }).eventQueue).toEqual({
      kind: 'sqs',
      queueUrl: url,
      deadLetterQueueUrl: null,
      region: 'eu-west-1',
      endpoint: null,
    });
    expect(loadConfig({ INFRAAI_SQS_QUEUE_URL: url, AWS_REGION: 'us-east-2' }).eventQueue?.region).toBe('us-east-2');
    expect(loadConfig({ INFRAAI_SQS_QUEUE_URL: url, AWS_REGION: 'us-east-2', INFRAAI_SQS_REGION: 'ap-south-1' }).eventQueue?.region).toBe(
      'ap-south-1',
    );
    expect(loadConfig({ INFRAAI_SQS_QUEUE_URL: 'https://us-west-2.queue.amazonaws.com/1/q' }).eventQueue?.region).toBe('us-west-2');
  });

  it('reaches a local SQS-compatible server through AWS_ENDPOINT_URL, the endpoint the ECS runner uses too', () => {
    const local = 'http://127.0.0.1:5000/123456789012/infraaiqueue.fifo';
    expect(
      loadConfig({
        INFRAAI_SQS_QUEUE_URL: local,
        INFRAAI_SQS_DLQ_URL: 'http://127.0.0.1:5000/123456789012/infraaiqueue-dlq.fifo',
        INFRAAI_SQS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      }).eventQueue,
    ).toEqual({
      kind: 'sqs',
      queueUrl: local,
      deadLetterQueueUrl: 'http://127.0.0.1:5000/123456789012/infraaiqueue-dlq.fifo',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:5000',
    });
  });

  it('refuses a queue without a region, a DLQ without a queue, a DLQ of the other kind and a URL that is not one', () => {
    expect(() => loadConfig({ INFRAAI_SQS_QUEUE_URL: 'http://127.0.0.1:5000/1/q' })).toThrow(/INFRAAI_SQS_REGION/);
    expect(() => loadConfig({ INFRAAI_SQS_DLQ_URL: url })).toThrow(/INFRAAI_SQS_DLQ_URL needs INFRAAI_SQS_QUEUE_URL/);
    expect(() => loadConfig({ INFRAAI_SQS_QUEUE_URL: url, INFRAAI_SQS_DLQ_URL: url.replace('.fifo', '-dlq') })).toThrow(/same kind/);
    expect(() => loadConfig({ INFRAAI_SQS_QUEUE_URL: 'infraaiqueue.fifo' })).toThrow(/INFRAAI_SQS_QUEUE_URL/);
  });
});

describe('SQS bridge configuration', () => {
  it('has defaults for every knob, and the PagerDuty tenant is `default` unless named', () => {
    expect(loadConfig({}).bridge).toEqual({
      concurrency: 32,
      pollers: 1,
      visibilitySeconds: 60,
      maxAttempts: 5,
      waitSeconds: 20,
      shutdownGraceMs: 30_000,
      port: 3002,
    });
    expect(
      loadConfig({
        INFRAAI_BRIDGE_CONCURRENCY: '2',
        INFRAAI_BRIDGE_POLLERS: '3',
        INFRAAI_BRIDGE_VISIBILITY_SECONDS: '6',
        INFRAAI_BRIDGE_MAX_ATTEMPTS: '3',
        INFRAAI_BRIDGE_WAIT_SECONDS: '1',
        INFRAAI_BRIDGE_SHUTDOWN_SECONDS: '5',
        INFRAAI_BRIDGE_PORT: '0',
        INFRAAI_PAGERDUTY_TENANT: 'acme',
      }),
    ).toMatchObject({
      bridge: { concurrency: 2, pollers: 3, visibilitySeconds: 6, maxAttempts: 3, waitSeconds: 1, shutdownGraceMs: 5000, port: 0 },
      pagerDuty: { tenantSlug: 'acme' },
    });
  });

  it('refuses a long poll over SQS’s 20 s, a visibility it could not renew in time, and a concurrency of 0', () => {
    expect(() => loadConfig({ INFRAAI_BRIDGE_WAIT_SECONDS: '21' })).toThrow(/INFRAAI_BRIDGE_WAIT_SECONDS/);
    expect(() => loadConfig({ INFRAAI_BRIDGE_POLLERS: '11' })).toThrow(/INFRAAI_BRIDGE_POLLERS/);
    expect(() => loadConfig({ INFRAAI_BRIDGE_WAIT_SECONDS: '0' })).toThrow(/INFRAAI_BRIDGE_WAIT_SECONDS/);
    expect(() => loadConfig({ INFRAAI_BRIDGE_VISIBILITY_SECONDS: '2' })).toThrow(/INFRAAI_BRIDGE_VISIBILITY_SECONDS/);
    expect(() => loadConfig({ INFRAAI_BRIDGE_VISIBILITY_SECONDS: '43201' })).toThrow(/INFRAAI_BRIDGE_VISIBILITY_SECONDS/);
    expect(() => loadConfig({ INFRAAI_BRIDGE_CONCURRENCY: '0' })).toThrow(/INFRAAI_BRIDGE_CONCURRENCY/);
  });
});

describe('PagerDuty webhook configuration', () => {
  it('has no secret by default (the webhook answers 503) and the default tenant', () => {
    expect(loadConfig({}).pagerDuty).toEqual({ webhookSecrets: [], tenantSlug: 'default' });
  });

  it('reads several secrets (rotation), comma-separated, and the tenant slug', () => {
    expect(
      loadConfig({ INFRAAI_PAGERDUTY_WEBHOOK_SECRETS: ' old-secret , new-secret,', INFRAAI_PAGERDUTY_TENANT: 'ops-team' }).pagerDuty,
    ).toEqual({ webhookSecrets: ['old-secret', 'new-secret'], tenantSlug: 'ops-team' });
  });

  it('refuses a tenant that is not a slug, naming the variable', () => {
    expect(() => loadConfig({ INFRAAI_PAGERDUTY_TENANT: 'Ops Team' })).toThrow(/INFRAAI_PAGERDUTY_TENANT/);
  });
});

describe('notifier tenants configuration', () => {
  it('serves the PagerDuty tenant by default, so a single-tenant deployment notifies as before', () => {
    expect(loadConfig({}).notifyTenants).toEqual(['default']);
    expect(loadConfig({ INFRAAI_PAGERDUTY_TENANT: 'ops-team' }).notifyTenants).toEqual(['ops-team']);
    expect(loadConfig({ INFRAAI_NOTIFY_TENANTS: '  ' }).notifyTenants).toEqual(['default']);
  });

  it('reads comma-separated slugs, once each, or * for every tenant', () => {
    expect(loadConfig({ INFRAAI_NOTIFY_TENANTS: ' acme, ops_team ,acme,', INFRAAI_PAGERDUTY_TENANT: 'other' }).notifyTenants).toEqual([
      'acme',
      'ops_team',
    ]);
    expect(loadConfig({ INFRAAI_NOTIFY_TENANTS: ' * ' }).notifyTenants).toBe('*');
  });

  it('refuses what is not a tenant slug, * among slugs and an empty list, naming the variable', () => {
    for (const value of ['Acme', 'acme,ops team', 'acme,*', ',', '-acme']) {
      expect(() => loadConfig({ INFRAAI_NOTIFY_TENANTS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ INFRAAI_NOTIFY_TENANTS: value })).toThrow(/INFRAAI_NOTIFY_TENANTS: must be \* \(every tenant\) or/);
    }
  });
});

describe('rate limits configuration', () => {
  it('limits chat to 20 requests a minute per user and 200 per tenant, counted in memory without REDIS_URL', () => {
    expect(loadConfig({}).rateLimits).toEqual({ redisUrl: null, chat: { perUserPerMinute: 20, perTenantPerMinute: 200 } });
  });

  it('reads both rates (0 switches one off) and counts in Redis when REDIS_URL is set', () => {
    expect(
      loadConfig({ INFRAAI_CHAT_RATE_PER_MINUTE: '5', INFRAAI_CHAT_TENANT_RATE_PER_MINUTE: '0', REDIS_URL: 'redis://cache:6379' })
        .rateLimits,
    ).toEqual({ redisUrl: 'redis://cache:6379', chat: { perUserPerMinute: 5, perTenantPerMinute: 0 } });
  });

  it('refuses a rate that is not a whole number, naming the variable', () => {
    expect(() => loadConfig({ INFRAAI_CHAT_RATE_PER_MINUTE: 'ten' })).toThrow(
      /INFRAAI_CHAT_RATE_PER_MINUTE: must be a non-negative integer/,
    );
    expect(() => loadConfig({ INFRAAI_CHAT_TENANT_RATE_PER_MINUTE: '-1' })).toThrow(/INFRAAI_CHAT_TENANT_RATE_PER_MINUTE/);
  });
});

describe('MCP configuration', () => {
  it('has no external MCP server by default and proposals that wait 10 minutes', () => {
    expect(loadConfig({}).mcp).toEqual({ servers: [], proposalTtlMs: 600_000 });
  });

  it('reads INFRAAI_MCP_SERVERS as a JSON array, with defaults for what a server leaves out', () => {
    const config = loadConfig({
      INFRAAI_MCP_SERVERS: JSON.stringify([
        { name: 'docs', url: 'https://docs.example.com/mcp' },
        {
          name: 'tracker_2',
          url: 'http://127.0.0.1:9000/mcp',
          bearerToken: 'tok-123',
          headers: { 'X-Tenant': 'acme' },
          allowMutating: ['create_issue'],
          timeoutMs: 5000,
        },
      ]),
      INFRAAI_MCP_PROPOSAL_TTL_SECONDS: '60',
    });
    expect(config.mcp).toEqual({
      servers: [
        { name: 'docs', url: 'https://docs.example.com/mcp', headers: {}, bearerToken: null, allowMutating: [], timeoutMs: 30_000 },
        {
          name: 'tracker_2',
          url: 'http://127.0.0.1:9000/mcp',
          headers: { 'X-Tenant': 'acme' },
          bearerToken: 'tok-123',
          allowMutating: ['create_issue'],
          timeoutMs: 5000,
        },
      ],
      proposalTtlMs: 60_000,
    });
  });

  it('refuses malformed server lists, naming the variable and the field, and never echoes a token', () => {
    const refusal = (servers: unknown) => {
      try {
        loadConfig({ INFRAAI_MCP_SERVERS: typeof servers === 'string' ? servers : JSON.stringify(servers) });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal('[{"name":')).toMatch(/INFRAAI_MCP_SERVERS: must be a JSON array of servers/);
    expect(refusal({ name: 'docs', url: 'https://x/mcp' })).toMatch(/INFRAAI_MCP_SERVERS/);
    expect(refusal([{ name: 'Docs Server', url: 'https://x/mcp' }])).toMatch(/INFRAAI_MCP_SERVERS\.0\.name: must be 1-24 lower-case/);
    expect(refusal([{ name: 'docs', url: 'ftp://x/mcp' }])).toMatch(/INFRAAI_MCP_SERVERS\.0\.url/);
    expect(refusal([{ name: 'docs', url: 'https://x/mcp', allowMutating: 'all' }])).toMatch(/INFRAAI_MCP_SERVERS\.0\.allowMutating/);
    expect(refusal([{ name: 'docs', url: 'https://x/mcp', headers: { 'bad header': 'v' } }])).toMatch(/INFRAAI_MCP_SERVERS\.0\.headers/);
    expect(refusal([{ name: 'docs', url: 'https://x/mcp', token: 'hunter2-secret' }])).not.toContain('hunter2-secret');
    expect(refusal([{ name: 'docs', url: 'https://x/mcp', bearerToken: 42 }])).toMatch(/INFRAAI_MCP_SERVERS\.0\.bearerToken/);
    expect(
      refusal([
        { name: 'docs', url: 'https://a/mcp' },
        { name: 'docs', url: 'https://b/mcp' },
      ]),
    ).toMatch(/INFRAAI_MCP_SERVERS: server names must be unique/);
    expect(() => loadConfig({ INFRAAI_MCP_PROPOSAL_TTL_SECONDS: '0' })).toThrow(/INFRAAI_MCP_PROPOSAL_TTL_SECONDS/);
  });
});
