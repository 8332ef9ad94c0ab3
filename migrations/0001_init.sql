-- InfraAI schema, shared by PGlite, PostgreSQL and Supabase (applied by the migration runner,
-- or pasted into Supabase's SQL editor). Every row belongs to a tenant.

CREATE TABLE IF NOT EXISTS tenants (
  id          uuid PRIMARY KEY,
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_keys (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  prefix        text NOT NULL UNIQUE,
  hash          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_tenant_idx ON api_keys (tenant_id);

CREATE TABLE IF NOT EXISTS cmdb_items (
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  tag_id           text NOT NULL,
  instance_id      text,
  hostname         text NOT NULL,
  address          text NOT NULL,
  port             integer NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
  environment      text NOT NULL DEFAULT 'production',
  owner            text,
  os               text,
  service_manager  text,
  ssh_user         text,
  ssh_credential   text,
  description      text,
  tags             jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, tag_id)
);
CREATE INDEX IF NOT EXISTS cmdb_items_instance_idx ON cmdb_items (tenant_id, instance_id);
CREATE INDEX IF NOT EXISTS cmdb_items_hostname_idx ON cmdb_items (tenant_id, hostname);

-- Per-tenant incident numbers come from this counter through a trigger, so every backend
-- (including Supabase's REST interface, which cannot run a multi-statement transaction) numbers alike.
CREATE TABLE IF NOT EXISTS tenant_counters (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name       text NOT NULL,
  value      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS incidents (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  number           bigint NOT NULL,
  title            text NOT NULL,
  description      text NOT NULL DEFAULT '',
  severity         text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
  tag_id           text NOT NULL,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'investigating', 'awaiting_approval',
                     'remediating', 'verifying', 'resolved', 'escalated', 'failed', 'cancelled')),
  source           text NOT NULL DEFAULT 'api',
  workflow_id      text NOT NULL,
  target_host      text,
  summary          text,
  created_by       text,
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  resolved_at      timestamptz,
  UNIQUE (tenant_id, number),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS incidents_created_idx ON incidents (tenant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS incidents_status_idx ON incidents (tenant_id, status);
CREATE INDEX IF NOT EXISTS incidents_tag_idx ON incidents (tenant_id, tag_id);

CREATE OR REPLACE FUNCTION infraai_assign_incident_number() RETURNS trigger AS $$
BEGIN
  IF NEW.number IS NULL OR NEW.number = 0 THEN
    INSERT INTO tenant_counters (tenant_id, name, value) VALUES (NEW.tenant_id, 'incident', 1)
    ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1
    RETURNING value INTO NEW.number;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS incidents_assign_number ON incidents;
CREATE TRIGGER incidents_assign_number BEFORE INSERT ON incidents
  FOR EACH ROW EXECUTE FUNCTION infraai_assign_incident_number();

CREATE TABLE IF NOT EXISTS results (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id      uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL,
  status           text NOT NULL,
  summary          text NOT NULL,
  details          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS results_incident_idx ON results (tenant_id, incident_id, created_at);

CREATE TABLE IF NOT EXISTS job_logs (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id      uuid REFERENCES incidents(id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL,
  action           text NOT NULL,
  target           text NOT NULL,
  status           text NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
  detail           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS job_logs_incident_idx ON job_logs (tenant_id, incident_id, created_at);
