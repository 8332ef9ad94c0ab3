-- The alert job reconciler (ingress/alert-job-reconciler.ts) looks for jobs still queued or running
-- that have not moved for a while, across tenants: a small partial index keeps that pass cheap
-- however long the job log grows.
CREATE INDEX IF NOT EXISTS policy_jobs_unfinished_idx ON policy_jobs (updated_at) WHERE status IN ('queued', 'running');
