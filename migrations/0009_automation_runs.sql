-- Ansible automation runs (workflow runAutomation): what was asked, what it became (generation,
-- artifacts and their hash, validation findings), the approval, the outcome (recap, progress) and
-- the full log, one row per line, paged by the API. The run's live status comes from its projection
-- (run_projections, family 'automation') and is mirrored onto the row by a trigger, so lists and
-- filters read one table. The artifacts are `json`, not `jsonb`: their text is kept as written, so
-- they hash the same when read back (jsonb would reorder their keys).
CREATE TABLE IF NOT EXISTS automation_runs (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  number           bigint NOT NULL,
  request          text NOT NULL,
  targets          text[] NOT NULL,
  check_mode       boolean NOT NULL DEFAULT false,
  status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'generating', 'validating', 'awaiting_approval',
                     'waiting_for_hosts', 'running', 'succeeded', 'failed', 'recap_missing', 'not_understood', 'invalid',
                     'rejected', 'timed_out', 'cancelled', 'lost')),
  generation       jsonb,
  artifacts        json,
  artifacts_hash   text,
  findings         jsonb NOT NULL DEFAULT '[]'::jsonb,
  approval         jsonb,
  recap            jsonb,
  progress         jsonb,
  summary          text,
  error            text,
  log_lines        integer NOT NULL DEFAULT 0,
  workflow_id      text NOT NULL,
  created_by       text,
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  UNIQUE (tenant_id, number),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS automation_runs_status_idx ON automation_runs (tenant_id, status);
CREATE INDEX IF NOT EXISTS automation_runs_targets_idx ON automation_runs USING gin (targets);

CREATE OR REPLACE FUNCTION infraai_assign_automation_number() RETURNS trigger AS $$
BEGIN
  IF NEW.number IS NULL OR NEW.number = 0 THEN
    INSERT INTO tenant_counters (tenant_id, name, value) VALUES (NEW.tenant_id, 'automation', 1)
    ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1
    RETURNING value INTO NEW.number;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS automation_runs_assign_number ON automation_runs;
CREATE TRIGGER automation_runs_assign_number BEFORE INSERT ON automation_runs
  FOR EACH ROW EXECUTE FUNCTION infraai_assign_automation_number();

-- The full log of a run, one row per line (line numbers from 1): appended once per line number,
-- so a retried store of the same log adds nothing.
CREATE TABLE IF NOT EXISTS automation_log_lines (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  run_id     uuid NOT NULL REFERENCES automation_runs(id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  text       text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

-- The projection's status onto the run's row (infraai_project_run itself stays family-agnostic). A
-- final status on the row (written by the result step) is never replaced by a late projection write.
CREATE OR REPLACE FUNCTION infraai_mirror_automation_status() RETURNS trigger AS $$
BEGIN
  UPDATE automation_runs
     SET status = NEW.status, updated_at = now(),
         finished_at = CASE WHEN NEW.ended THEN coalesce(finished_at, now()) ELSE finished_at END
   WHERE tenant_id = NEW.tenant_id AND id::text = NEW.run_id
     AND status NOT IN ('succeeded', 'failed', 'recap_missing', 'not_understood', 'invalid', 'rejected', 'timed_out', 'cancelled', 'lost')
     AND (status IS DISTINCT FROM NEW.status OR (NEW.ended AND finished_at IS NULL));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS run_projections_mirror_automation ON run_projections;
CREATE TRIGGER run_projections_mirror_automation AFTER INSERT OR UPDATE OF status, ended ON run_projections
  FOR EACH ROW WHEN (NEW.family = 'automation') EXECUTE FUNCTION infraai_mirror_automation_status();

-- Trusted host keys keep the public key itself (base64 of the SSH wire format) besides its
-- fingerprint: a runner's known_hosts needs the key. Keys recorded before this have none until the
-- next SSH connection to the host fills it in (only when its fingerprint matches the trusted one).
ALTER TABLE ssh_host_keys ADD COLUMN IF NOT EXISTS public_key text;
