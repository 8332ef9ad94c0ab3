-- References of the incident in the operator's other tools (ServiceNow sys_id, PagerDuty incident
-- id or dedup key), given at creation by a client or a bridge and learned by notifiers.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS external jsonb NOT NULL DEFAULT '{}'::jsonb;
