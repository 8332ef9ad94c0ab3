-- Optional vector embeddings of knowledge chunks (JSON arrays, portable across PGlite, PostgreSQL
-- and Supabase), written when an embeddings endpoint is configured; ranking happens in the app.
ALTER TABLE knowledge_chunks ADD COLUMN IF NOT EXISTS embedding jsonb;
ALTER TABLE knowledge_documents ADD COLUMN IF NOT EXISTS embedding_model text;
