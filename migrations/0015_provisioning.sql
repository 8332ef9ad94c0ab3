-- Infrastructure provisioning requests (workflow provisionInfrastructure): what was asked, what it
-- was understood as (requirements), the Terraform files generated for it and where (directory), the
-- policy findings, and what the git host made of it (branch, commit, pull request). Each step of the
-- run writes its status and stage here; the API reads only this row.
CREATE TABLE IF NOT EXISTS provision_requests (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  number           bigint NOT NULL,
  requester        text NOT NULL,
  request          text NOT NULL,
  environment      text,
  status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'parsing', 'generating', 'validating', 'policy_check',
                     'creating_pr', 'awaiting_review', 'completed', 'cancelled', 'expired', 'failed', 'blocked', 'not_understood')),
  stage            text,
  requirements     jsonb,
  parser           text,
  files            jsonb,
  findings         jsonb NOT NULL DEFAULT '[]'::jsonb,
  directory        text,
  branch           text,
  commit_sha       text,
  pr_number        integer,
  pr_url           text,
  pr_state         text CHECK (pr_state IS NULL OR pr_state IN ('open', 'merged', 'closed')),
  review_deadline  timestamptz,
  reminded_at      timestamptz,
  summary          text,
  error            text,
  workflow_id      text NOT NULL,
  -- The client's Idempotency-Key: a repeat answers the request recorded first and starts nothing.
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  UNIQUE (tenant_id, number),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS provision_requests_requester_idx ON provision_requests (tenant_id, requester, number DESC);
CREATE INDEX IF NOT EXISTS provision_requests_status_idx ON provision_requests (tenant_id, status);
-- The GitHub webhook finds a request by its pull request's head branch, whatever the tenant.
CREATE UNIQUE INDEX IF NOT EXISTS provision_requests_branch_idx ON provision_requests (branch) WHERE branch IS NOT NULL;

CREATE OR REPLACE FUNCTION infraai_assign_provision_number() RETURNS trigger AS $$
BEGIN
  IF NEW.number IS NULL OR NEW.number = 0 THEN
    INSERT INTO tenant_counters (tenant_id, name, value) VALUES (NEW.tenant_id, 'provision', 1)
    ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1
    RETURNING value INTO NEW.number;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS provision_requests_assign_number ON provision_requests;
CREATE TRIGGER provision_requests_assign_number BEFORE INSERT ON provision_requests
  FOR EACH ROW EXECUTE FUNCTION infraai_assign_provision_number();

-- Pull requests of the local git host (no GitHub account): numbered per tenant and repository from
-- 1, one per head branch (a retried open finds the first).
CREATE TABLE IF NOT EXISTS provision_pull_requests (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  repo        text NOT NULL,
  number      integer NOT NULL,
  head        text NOT NULL,
  base        text NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'closed')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, repo, number),
  UNIQUE (tenant_id, repo, head)
);

-- One transaction for both adapters (SQL and Supabase's rpc): the existing record of the head, or a
-- new one with the repository's next number. Racing creates of one head both answer the same row.
CREATE OR REPLACE FUNCTION infraai_create_pull_request(p_tenant uuid, p_repo text, p_head text, p_base text, p_title text, p_body text)
RETURNS SETOF provision_pull_requests AS $$
DECLARE
  next_number integer;
BEGIN
  -- One create per repository at a time: two racing creates of one head would otherwise both take a
  -- number from the counter, and the loser's would be a gap in the repository's numbering.
  PERFORM pg_advisory_xact_lock(hashtext('infraai_pull_request:' || p_tenant::text || ':' || p_repo));
  IF NOT EXISTS (SELECT 1 FROM provision_pull_requests WHERE tenant_id = p_tenant AND repo = p_repo AND head = p_head) THEN
    INSERT INTO tenant_counters (tenant_id, name, value) VALUES (p_tenant, 'pull_request:' || p_repo, 1)
    ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1
    RETURNING value INTO next_number;
    INSERT INTO provision_pull_requests (tenant_id, repo, number, head, base, title, body)
    VALUES (p_tenant, p_repo, next_number, p_head, p_base, p_title, p_body)
    ON CONFLICT (tenant_id, repo, head) DO NOTHING;
  END IF;
  RETURN QUERY SELECT * FROM provision_pull_requests WHERE tenant_id = p_tenant AND repo = p_repo AND head = p_head;
END;
$$ LANGUAGE plpgsql;
