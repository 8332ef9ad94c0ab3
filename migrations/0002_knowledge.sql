-- Knowledge base: documents (SOPs, runbooks, architecture notes) and their retrieval chunks.
-- tenant_id NULL = global (bundled runbooks, architecture documents) and visible to every tenant.

CREATE TABLE IF NOT EXISTS knowledge_documents (
  id            uuid PRIMARY KEY,
  tenant_id     uuid REFERENCES tenants(id) ON DELETE CASCADE,
  title         text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('sop', 'runbook', 'architecture', 'doc')),
  source        text NOT NULL,
  content_type  text NOT NULL,
  content_hash  text NOT NULL,
  size_bytes    integer NOT NULL,
  chunk_count   integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT knowledge_documents_unique_content UNIQUE NULLS NOT DISTINCT (tenant_id, content_hash)
);
CREATE INDEX IF NOT EXISTS knowledge_documents_tenant_idx ON knowledge_documents (tenant_id, created_at DESC);

CREATE TABLE IF NOT EXISTS knowledge_chunks (
  id         text PRIMARY KEY,
  doc_id     uuid NOT NULL REFERENCES knowledge_documents(id) ON DELETE CASCADE,
  tenant_id  uuid REFERENCES tenants(id) ON DELETE CASCADE,
  idx        integer NOT NULL,
  section    text NOT NULL DEFAULT '',
  text       text NOT NULL
);
CREATE INDEX IF NOT EXISTS knowledge_chunks_doc_idx ON knowledge_chunks (doc_id, idx);
