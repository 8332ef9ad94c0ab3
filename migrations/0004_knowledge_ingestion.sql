-- Large documents are ingested by a workflow: the document row exists from the start with a status
-- and progress, its text waits in a staging table until every chunk is indexed, and search only sees
-- documents whose status is 'ready'.
ALTER TABLE knowledge_documents ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'ready';
ALTER TABLE knowledge_documents ADD COLUMN IF NOT EXISTS chunks_indexed integer NOT NULL DEFAULT 0;
ALTER TABLE knowledge_documents ADD COLUMN IF NOT EXISTS error text;
UPDATE knowledge_documents SET chunks_indexed = chunk_count WHERE status = 'ready' AND chunks_indexed = 0;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'knowledge_documents_status_check') THEN
    ALTER TABLE knowledge_documents ADD CONSTRAINT knowledge_documents_status_check CHECK (status IN ('ingesting', 'ready', 'failed'));
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS knowledge_staged_text (
  doc_id  uuid PRIMARY KEY REFERENCES knowledge_documents(id) ON DELETE CASCADE,
  text    text NOT NULL
);
