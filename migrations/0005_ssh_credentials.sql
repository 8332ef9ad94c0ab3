-- SSH credentials (private keys encrypted by the secrets adapter before they reach the database:
-- this table never sees plaintext) and the host keys trusted on first use, per tenant.
CREATE TABLE IF NOT EXISTS ssh_credentials (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL,
  username     text NOT NULL,
  key_type     text NOT NULL,
  fingerprint  text NOT NULL,
  ciphertext   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS ssh_host_keys (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  host           text NOT NULL,
  port           integer NOT NULL,
  key_type       text NOT NULL,
  fingerprint    text NOT NULL,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, host, port)
);
