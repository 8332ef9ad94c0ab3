-- Self-healing policies (core/policies): the policies of a tenant, every decision one of them
-- took on an alert (the job log), every alert notification received (simulation windows and
-- audit), and each policy's circuit breaker. Limits are counted from the job log and the breaker
-- row, so they survive restarts.
CREATE TABLE IF NOT EXISTS self_healing_policies (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text,
  enabled      boolean NOT NULL DEFAULT true,
  priority     integer NOT NULL,
  condition    jsonb NOT NULL,
  action       jsonb NOT NULL,
  host_label   text NOT NULL,
  limits       jsonb NOT NULL,
  breaker      jsonb NOT NULL,
  -- Optimistic concurrency: a replace names the version it read (PUT If-Match).
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
-- Evaluation order: priority, then the older policy, then the id.
CREATE INDEX IF NOT EXISTS self_healing_policies_order_idx ON self_healing_policies (tenant_id, priority, created_at, id);

-- A policy's breaker. claim_seq changes with every write that changes what the limits see (a
-- queued run, a finished run, a breaker change): a writer without a transaction (PostgREST) reads
-- it with the usage and records only if it is unchanged (infraai_record_policy_claim).
CREATE TABLE IF NOT EXISTS policy_breakers (
  policy_id             uuid PRIMARY KEY REFERENCES self_healing_policies(id) ON DELETE CASCADE,
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  state                 text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures  integer NOT NULL DEFAULT 0,
  opened_at             timestamptz,
  claim_seq             bigint NOT NULL DEFAULT 0,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per decision on an alert. policy_id has no foreign key: the log outlives a deleted
-- policy (policy_name keeps what it was called). queued, running, succeeded and failed are runs
-- (they count against the limits); queued and running are in flight (concurrency, host busy).
CREATE TABLE IF NOT EXISTS policy_jobs (
  id               uuid PRIMARY KEY,
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  policy_id        uuid,
  policy_name      text,
  action_type      text,
  fingerprint      text NOT NULL,
  starts_at        timestamptz NOT NULL,
  alert_status     text NOT NULL CHECK (alert_status IN ('firing', 'resolved')),
  labels           jsonb NOT NULL DEFAULT '{}'::jsonb,
  host             text,
  cooldown_key     text,
  params           jsonb,
  status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'limited', 'unusable',
                     'unmatched', 'escalated')),
  limit_reason     text CHECK (limit_reason IN ('hourly', 'daily', 'cooldown', 'concurrency', 'host_busy', 'breaker_open')),
  detail           text,
  trial            boolean NOT NULL DEFAULT false,
  workflow_id      text,
  idempotency_key  text NOT NULL,
  decided_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS policy_jobs_usage_idx ON policy_jobs (policy_id, decided_at)
  WHERE status IN ('queued', 'running', 'succeeded', 'failed');
CREATE INDEX IF NOT EXISTS policy_jobs_list_idx ON policy_jobs (tenant_id, seq);
CREATE INDEX IF NOT EXISTS policy_jobs_policy_idx ON policy_jobs (tenant_id, policy_id, seq);

-- Every alert notification received, as the policies saw it.
CREATE TABLE IF NOT EXISTS alert_events (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  source       text NOT NULL,
  received_at  timestamptz NOT NULL,
  status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
  fingerprint  text NOT NULL,
  starts_at    timestamptz NOT NULL,
  labels       jsonb NOT NULL DEFAULT '{}'::jsonb,
  annotations  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS alert_events_window_idx ON alert_events (tenant_id, received_at, seq);

-- What the limits of a policy see at p_now (core/policies/evaluate.ts PolicyUsage), with the
-- breaker's claim_seq, in one statement (one snapshot).
CREATE OR REPLACE FUNCTION infraai_policy_usage(p_tenant uuid, p_policy uuid, p_key text, p_now timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'runsLastHour', (SELECT count(*) FROM policy_jobs WHERE policy_id = p_policy AND tenant_id = p_tenant
                       AND status IN ('queued', 'running', 'succeeded', 'failed') AND decided_at > p_now - interval '1 hour'),
    'runsLastDay', (SELECT count(*) FROM policy_jobs WHERE policy_id = p_policy AND tenant_id = p_tenant
                       AND status IN ('queued', 'running', 'succeeded', 'failed') AND decided_at > p_now - interval '1 day'),
    'lastRunForKey', (SELECT max(decided_at) FROM policy_jobs WHERE policy_id = p_policy AND tenant_id = p_tenant
                       AND status IN ('queued', 'running', 'succeeded', 'failed') AND cooldown_key = p_key),
    'hostsInFlight', coalesce((SELECT jsonb_agg(DISTINCT host) FROM policy_jobs WHERE policy_id = p_policy AND tenant_id = p_tenant
                       AND status IN ('queued', 'running') AND host IS NOT NULL), '[]'::jsonb),
    'breaker', coalesce((SELECT jsonb_build_object('state', state, 'consecutiveFailures', consecutive_failures, 'openedAt', opened_at)
                       FROM policy_breakers WHERE policy_id = p_policy AND tenant_id = p_tenant),
                       '{"state": "closed", "consecutiveFailures": 0, "openedAt": null}'::jsonb),
    'claimSeq', coalesce((SELECT claim_seq FROM policy_breakers WHERE policy_id = p_policy AND tenant_id = p_tenant), 0)
  )
$$;

-- Records one decision taken on the usage read with claim_seq p_expected_seq. A decision that
-- changes what the limits see (a queued run; p_breaker for a trial run's half_open) is recorded
-- only while claim_seq is unchanged, and bumps it; otherwise the answer is {"outcome": "stale"}
-- and the caller reads the usage again. A repeated idempotency key answers the stored job.
CREATE OR REPLACE FUNCTION infraai_record_policy_claim(j jsonb, p_expected_seq bigint, p_breaker jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_tenant  uuid := (j->>'tenant_id')::uuid;
  v_policy  uuid := (j->>'policy_id')::uuid;
  v_row     policy_jobs;
BEGIN
  SELECT * INTO v_row FROM policy_jobs WHERE tenant_id = v_tenant AND idempotency_key = j->>'idempotency_key';
  IF FOUND THEN
    RETURN jsonb_build_object('outcome', 'repeat', 'job', to_jsonb(v_row));
  END IF;
  IF j->>'status' = 'queued' AND v_policy IS NOT NULL THEN
    INSERT INTO policy_breakers (policy_id, tenant_id)
      SELECT id, tenant_id FROM self_healing_policies WHERE id = v_policy AND tenant_id = v_tenant
      ON CONFLICT (policy_id) DO NOTHING;
    UPDATE policy_breakers
       SET claim_seq = claim_seq + 1, updated_at = now(),
           state = coalesce(p_breaker->>'state', state),
           consecutive_failures = coalesce((p_breaker->>'consecutiveFailures')::integer, consecutive_failures),
           opened_at = CASE WHEN p_breaker IS NULL THEN opened_at ELSE (p_breaker->>'openedAt')::timestamptz END
     WHERE policy_id = v_policy AND tenant_id = v_tenant AND claim_seq = p_expected_seq;
    -- No row at all: the policy was deleted meanwhile, and its last decision is still logged.
    IF NOT FOUND AND EXISTS (SELECT 1 FROM policy_breakers WHERE policy_id = v_policy) THEN
      RETURN jsonb_build_object('outcome', 'stale');
    END IF;
  END IF;
  INSERT INTO policy_jobs (id, tenant_id, policy_id, policy_name, action_type, fingerprint, starts_at, alert_status, labels, host,
      cooldown_key, params, status, limit_reason, detail, trial, workflow_id, idempotency_key, decided_at)
    VALUES ((j->>'id')::uuid, v_tenant, v_policy, j->>'policy_name', j->>'action_type', j->>'fingerprint',
      (j->>'starts_at')::timestamptz, j->>'alert_status', coalesce(j->'labels', '{}'::jsonb), j->>'host', j->>'cooldown_key',
      j->'params', j->>'status', j->>'limit_reason', j->>'detail', coalesce((j->>'trial')::boolean, false), j->>'workflow_id',
      j->>'idempotency_key', (j->>'decided_at')::timestamptz)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING * INTO v_row;
  IF NOT FOUND THEN
    SELECT * INTO v_row FROM policy_jobs WHERE tenant_id = v_tenant AND idempotency_key = j->>'idempotency_key';
    RETURN jsonb_build_object('outcome', 'repeat', 'job', to_jsonb(v_row));
  END IF;
  RETURN jsonb_build_object('outcome', 'recorded', 'job', to_jsonb(v_row));
END;
$$;

-- Ends a queued or running job (succeeded or failed) and writes the breaker the caller computed
-- from the breaker it read with claim_seq p_expected_seq (stale otherwise, as above). A job that
-- already ended is answered as it is, and the breaker is left alone.
CREATE OR REPLACE FUNCTION infraai_finish_policy_job(p_tenant uuid, p_job uuid, p_status text, p_detail text, p_now timestamptz,
    p_expected_seq bigint, p_breaker jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_row  policy_jobs;
BEGIN
  -- Locked: a concurrent finish of the same job waits here, then finds it ended.
  SELECT * INTO v_row FROM policy_jobs WHERE tenant_id = p_tenant AND id = p_job FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('outcome', 'not_found');
  END IF;
  IF v_row.status NOT IN ('queued', 'running') THEN
    RETURN jsonb_build_object('outcome', 'ended', 'job', to_jsonb(v_row));
  END IF;
  IF v_row.policy_id IS NOT NULL THEN
    INSERT INTO policy_breakers (policy_id, tenant_id)
      SELECT id, tenant_id FROM self_healing_policies WHERE id = v_row.policy_id AND tenant_id = p_tenant
      ON CONFLICT (policy_id) DO NOTHING;
    UPDATE policy_breakers
       SET claim_seq = claim_seq + 1, updated_at = now(), state = p_breaker->>'state',
           consecutive_failures = (p_breaker->>'consecutiveFailures')::integer, opened_at = (p_breaker->>'openedAt')::timestamptz
     WHERE policy_id = v_row.policy_id AND tenant_id = p_tenant AND claim_seq = p_expected_seq;
    IF NOT FOUND AND EXISTS (SELECT 1 FROM policy_breakers WHERE policy_id = v_row.policy_id) THEN
      RETURN jsonb_build_object('outcome', 'stale');
    END IF;
  END IF;
  UPDATE policy_jobs SET status = p_status, detail = coalesce(p_detail, detail), finished_at = p_now, updated_at = now(),
         started_at = coalesce(started_at, decided_at)
   WHERE id = p_job AND tenant_id = p_tenant AND status IN ('queued', 'running')
   RETURNING * INTO v_row;
  RETURN jsonb_build_object('outcome', 'finished', 'job', to_jsonb(v_row));
END;
$$;
