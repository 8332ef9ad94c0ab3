-- Remediation leases: at most one remediation changes a host at a time, and a tenant runs at most a
-- configured number of remediations at once. A lease names the workflow holding it and expires, so
-- a run that was terminated cannot hold a host forever; holders renew it at each change step.
CREATE TABLE IF NOT EXISTS remediation_leases (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  host         text NOT NULL,
  holder       text NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, host)
);
CREATE INDEX IF NOT EXISTS remediation_leases_tenant_idx ON remediation_leases (tenant_id, expires_at);
