-- Chat (workflow family chatConversation): sessions, their transcript, the live stream's events and
-- asynchronous chat jobs. Messages and events are numbered per session (seq from 1) under a lock
-- on the session's row, and carry a key unique in the session, so a retried activity appends
-- nothing twice. Tool results are stored whole here (redacted) and travel through workflow history
-- only as short previews.
CREATE TABLE IF NOT EXISTS chat_sessions (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id         text NOT NULL,
  title           text NOT NULL,
  summary         text,
  last_message_seq integer NOT NULL DEFAULT 0,
  last_event_seq  integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_sessions_user_idx ON chat_sessions (tenant_id, user_id, updated_at DESC);

CREATE TABLE IF NOT EXISTS chat_messages (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session_id    uuid NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
  seq           integer NOT NULL,
  key           text NOT NULL,
  role          text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
  turn          integer NOT NULL,
  content       text,
  tool_calls    jsonb,
  tool_call_id  text,
  tool_name     text,
  data          jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, seq),
  UNIQUE (session_id, key)
);

CREATE TABLE IF NOT EXISTS chat_events (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  key         text NOT NULL,
  type        text NOT NULL CHECK (type IN ('token', 'tool.started', 'tool.ended', 'confirmation.requested',
                'confirmation.decided', 'answer', 'turn.ended')),
  data        jsonb NOT NULL DEFAULT '{}'::jsonb,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, seq),
  UNIQUE (session_id, key)
);

CREATE TABLE IF NOT EXISTS chat_jobs (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session_id   uuid NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
  user_id      text NOT NULL,
  message_id   text NOT NULL,
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  answer       text,
  turn_status  text,
  steps        jsonb NOT NULL DEFAULT '[]'::jsonb,
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_jobs_session_idx ON chat_jobs (session_id);

-- Appends a session's messages (p_messages: a JSON array of ChatMessageInput) in one statement, so
-- every adapter, PostgREST's RPC included, numbers them the same way. Returns each input's seq
-- (a key already stored keeps its first seq), or NULL when the session is gone.
CREATE OR REPLACE FUNCTION infraai_append_chat_messages(p_tenant uuid, p_session uuid, p_messages jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_last  integer;
  v_item  jsonb;
  v_seq   integer;
  v_seqs  jsonb := '[]'::jsonb;
BEGIN
  SELECT last_message_seq INTO v_last FROM chat_sessions WHERE tenant_id = p_tenant AND id = p_session FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  FOR v_item IN SELECT e FROM jsonb_array_elements(p_messages) AS e LOOP
    SELECT seq INTO v_seq FROM chat_messages WHERE session_id = p_session AND key = v_item->>'key';
    IF NOT FOUND THEN
      v_last := v_last + 1;
      v_seq := v_last;
      INSERT INTO chat_messages (tenant_id, session_id, seq, key, role, turn, content, tool_calls, tool_call_id, tool_name, data)
        VALUES (p_tenant, p_session, v_seq, v_item->>'key', v_item->>'role', (v_item->>'turn')::integer, v_item->>'content',
                v_item->'toolCalls', v_item->>'toolCallId', v_item->>'toolName', v_item->'data');
    END IF;
    v_seqs := v_seqs || to_jsonb(v_seq);
  END LOOP;
  UPDATE chat_sessions SET last_message_seq = v_last, updated_at = now() WHERE id = p_session;
  RETURN v_seqs;
END;
$$;

-- Appends a session's stream events (p_events: a JSON array of ChatEventInput), keys already
-- stored skipped; returns the session's last event seq (0 when the session is gone).
CREATE OR REPLACE FUNCTION infraai_append_chat_events(p_tenant uuid, p_session uuid, p_events jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_last  integer;
  v_item  jsonb;
BEGIN
  SELECT last_event_seq INTO v_last FROM chat_sessions WHERE tenant_id = p_tenant AND id = p_session FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  FOR v_item IN SELECT e FROM jsonb_array_elements(p_events) AS e LOOP
    IF NOT EXISTS (SELECT 1 FROM chat_events WHERE session_id = p_session AND key = v_item->>'key') THEN
      v_last := v_last + 1;
      INSERT INTO chat_events (tenant_id, session_id, seq, key, type, data)
        VALUES (p_tenant, p_session, v_last, v_item->>'key', v_item->>'type', coalesce(v_item->'data', '{}'::jsonb));
    END IF;
  END LOOP;
  UPDATE chat_sessions SET last_event_seq = v_last WHERE id = p_session;
  RETURN v_last;
END;
$$;
