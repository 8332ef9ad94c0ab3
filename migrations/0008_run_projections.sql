-- Run projections: every workflow family's run state, written by the run as it changes, so status
-- reads and live streams never reach Temporal. A run's events are numbered per run (seq, no gaps)
-- and per tenant (tenant_seq, in commit order: the counter row is locked until the write commits,
-- so a reader that has seen tenant_seq N never later finds an event below N appear).
CREATE TABLE IF NOT EXISTS run_projections (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  family       text NOT NULL,
  run_id       text NOT NULL,
  workflow_id  text NOT NULL,
  version      integer NOT NULL DEFAULT 0,
  status       text NOT NULL,
  ended        boolean NOT NULL DEFAULT false,
  state        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, family, run_id)
);
CREATE INDEX IF NOT EXISTS run_projections_status_idx ON run_projections (family, status) WHERE NOT ended;

CREATE TABLE IF NOT EXISTS run_events (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  tenant_seq   bigint NOT NULL,
  family       text NOT NULL,
  run_id       text NOT NULL,
  seq          integer NOT NULL,
  type         text NOT NULL,
  at           timestamptz NOT NULL,
  data         jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (tenant_id, tenant_seq),
  UNIQUE (tenant_id, family, run_id, seq)
);

CREATE TABLE IF NOT EXISTS run_event_counters (
  tenant_id    uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  last_seq     bigint NOT NULL DEFAULT 0
);

-- One write of a run's projection (see RunProjectionWrite in core/contracts/run-events.ts), in one
-- statement so every adapter, PostgREST's RPC included, gets the same transaction: a write whose
-- version the store already has changes nothing; otherwise the events above the stored version
-- are appended with the next tenant sequence numbers and the state replaced.
CREATE OR REPLACE FUNCTION infraai_project_run(w jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_tenant  uuid := (w->>'tenantId')::uuid;
  v_family  text := w->>'family';
  v_run     text := w->>'runId';
  v_version integer := (w->>'version')::integer;
  v_stored  integer;
  v_fresh   jsonb;
  v_count   integer;
  v_last    bigint;
BEGIN
  -- The row exists before it is locked, so two first writes of one run queue on it too.
  INSERT INTO run_projections (tenant_id, family, run_id, workflow_id, version, status)
    VALUES (v_tenant, v_family, v_run, w->>'workflowId', 0, w->>'status')
    ON CONFLICT (tenant_id, family, run_id) DO NOTHING;
  SELECT version INTO v_stored FROM run_projections
    WHERE tenant_id = v_tenant AND family = v_family AND run_id = v_run FOR UPDATE;
  IF v_stored >= v_version THEN
    RETURN jsonb_build_object('applied', false, 'version', v_stored, 'tenantSeq', NULL);
  END IF;

  SELECT coalesce(jsonb_agg(e ORDER BY (e->>'seq')::integer), '[]'::jsonb) INTO v_fresh
    FROM jsonb_array_elements(coalesce(w->'events', '[]'::jsonb)) AS e
    WHERE (e->>'seq')::integer > v_stored AND (e->>'seq')::integer <= v_version;
  v_count := jsonb_array_length(v_fresh);

  INSERT INTO run_event_counters (tenant_id, last_seq) VALUES (v_tenant, v_count)
    ON CONFLICT (tenant_id) DO UPDATE SET last_seq = run_event_counters.last_seq + EXCLUDED.last_seq
    RETURNING last_seq INTO v_last;

  INSERT INTO run_events (tenant_id, tenant_seq, family, run_id, seq, type, at, data)
    SELECT v_tenant, v_last - v_count + x.ord, v_family, v_run, (x.e->>'seq')::integer, x.e->>'type',
           (x.e->>'at')::timestamptz, coalesce(x.e->'data', '{}'::jsonb)
      FROM jsonb_array_elements(v_fresh) WITH ORDINALITY AS x(e, ord);

  UPDATE run_projections
     SET workflow_id = w->>'workflowId', version = v_version, status = w->>'status',
         ended = coalesce((w->>'ended')::boolean, false), state = coalesce(w->'state', '{}'::jsonb), updated_at = now()
   WHERE tenant_id = v_tenant AND family = v_family AND run_id = v_run;

  RETURN jsonb_build_object('applied', true, 'version', v_version, 'tenantSeq', CASE WHEN v_count > 0 THEN v_last END);
END;
$$;
