-- Remediations and Ansible runs started from a chat are child workflows of the conversation, which
-- records their start, each status of their record and their end in its stream
-- (workflows/chat/child-runs.ts): three more event types.
ALTER TABLE chat_events DROP CONSTRAINT IF EXISTS chat_events_type_check;
ALTER TABLE chat_events ADD CONSTRAINT chat_events_type_check
  CHECK (type IN ('token', 'tool.started', 'tool.ended', 'confirmation.requested', 'confirmation.decided', 'answer',
                  'turn.ended', 'run.started', 'run.status', 'run.ended'));
