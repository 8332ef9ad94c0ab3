-- Integration settings per tenant and per user (tools/integration-settings.ts): the non-secret
-- fields as jsonb, and only the *names* of the secret fields that are set. The secret values go
-- through the secrets port (adapters/secrets): sealed into sealed_secrets below by the embedded
-- vault, or kept in Infisical; this table never holds them.
CREATE TABLE IF NOT EXISTS integration_settings (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- '' for the tenant-wide settings, else the user's subject (api-key:<id> or a JWT sub). Not NULL:
  -- the primary key (and PostgREST's upsert) needs a plain unique key over the three columns.
  user_id        text NOT NULL DEFAULT '',
  integration    text NOT NULL,
  settings       jsonb NOT NULL DEFAULT '{}'::jsonb,
  secret_fields  text[] NOT NULL DEFAULT '{}',
  updated_by     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, integration)
);

-- Secret values sealed by the embedded vault (AES-256-GCM, the tenant and path as authenticated
-- data): ciphertext only, by tenant and path.
CREATE TABLE IF NOT EXISTS sealed_secrets (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  path        text NOT NULL,
  ciphertext  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, path)
);
