import { z } from '@hono/zod-openapi';
import type { ChatJob, StoredChatMessage } from '../adapters/store/port.js';
import { CHAT_JOB_STATUSES } from '../adapters/store/port.js';
import { CHAT_ID_PATTERN, CHAT_MESSAGE_MAX_CHARS, CHAT_MESSAGE_ROLES, type ChatStep, type ChatTurnResult } from '../core/contracts/chat.js';
import { Timestamp, type Same } from './remediation-schemas.js';
import { text } from './schemas.js';

// The chat API's bodies, field by field (a frontend is generated from these).

const same = <_T extends true>() => undefined;

export const SessionIdSchema = z.uuid().openapi({ description: 'A chat session id (issued by POST /chat)' });
export const SessionParam = z.object({ sessionId: SessionIdSchema });
export const JobParam = z.object({ jobId: z.uuid() });

export const ChatSendSchema = z
  .object({
    sessionId: SessionIdSchema.optional().openapi({ description: 'Continue this session (yours); absent: a new session' }),
    message: text({ min: 1, max: CHAT_MESSAGE_MAX_CHARS, trim: true }),
    messageId: z
      .string()
      .regex(CHAT_ID_PATTERN)
      .optional()
      .openapi({ description: 'Your id of the message: sending it again returns the same answer (a retry is safe)' }),
  })
  .strict()
  .openapi('ChatSend');

export const ChatStepSchema = z
  .object({
    kind: z.enum(['knowledge', 'model', 'tool', 'confirmation']),
    name: z.string().openapi({ description: 'The tool, or the model (offline: the planner)' }),
    status: z.enum(['ok', 'failed', 'refused', 'proposed', 'approved', 'rejected', 'expired']),
    detail: z.string().nullable(),
  })
  .openapi('ChatStep');
same<Same<z.infer<typeof ChatStepSchema>, ChatStep>>();

const TurnStatusSchema = z.enum(['answered', 'budget_exhausted', 'failed']).openapi('ChatTurnStatus', {
  description: 'answered; budget_exhausted (the turn spent its model steps, tokens or time: the answer says so); failed',
});

export const ChatAnswerSchema = z
  .object({
    sessionId: SessionIdSchema,
    messageId: z.string(),
    turn: z.number().int(),
    status: TurnStatusSchema,
    answer: z.string(),
    offline: z.boolean().openapi({ description: 'No language model is configured: the offline planner answered' }),
    steps: z.array(ChatStepSchema),
    usage: z.object({ modelSteps: z.number().int(), tokens: z.number().int() }),
  })
  .openapi('ChatAnswer');
same<Same<Omit<z.infer<typeof ChatAnswerSchema>, 'sessionId'>, ChatTurnResult>>();

export const ChatAcceptedSchema = z.object({ jobId: z.uuid(), sessionId: SessionIdSchema, messageId: z.string() }).openapi('ChatAccepted');

export const ChatJobSchema = z
  .object({
    jobId: z.uuid(),
    sessionId: SessionIdSchema,
    messageId: z.string(),
    status: z.enum(CHAT_JOB_STATUSES),
    answer: z.string().optional(),
    turnStatus: TurnStatusSchema.optional(),
    steps: z.array(ChatStepSchema),
    error: z.string().optional(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('ChatJob');

export function toJobBody(job: ChatJob): z.infer<typeof ChatJobSchema> {
  return {
    jobId: job.id,
    sessionId: job.sessionId,
    messageId: job.messageId,
    status: job.status,
    ...(job.answer !== null ? { answer: job.answer } : {}),
    ...(job.turnStatus !== null ? { turnStatus: job.turnStatus } : {}),
    steps: job.steps,
    ...(job.error !== null ? { error: job.error } : {}),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export const ChatMessageSchema = z
  .object({
    seq: z.number().int(),
    role: z.enum(CHAT_MESSAGE_ROLES),
    turn: z.number().int(),
    content: z.string().nullable(),
    toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.unknown() })).optional(),
    toolCallId: z.string().optional(),
    toolName: z.string().optional(),
    data: z.unknown().optional().openapi({ description: "A tool result's structured data (redacted)" }),
    createdAt: Timestamp,
  })
  .openapi('ChatMessage');
same<Same<z.infer<typeof ChatMessageSchema>, StoredChatMessage>>();

export const ChatHistorySchema = z
  .object({
    sessionId: SessionIdSchema,
    title: z.string(),
    summary: z.string().nullable(),
    items: z.array(ChatMessageSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `after` for the next page; null at the end' }),
  })
  .openapi('ChatHistory');

export const HistoryQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,10}$/)
      .optional()
      .openapi({ description: 'The seq of the last message you have (the nextCursor of the previous page)' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const ChatConfirmSchema = z
  .object({
    proposalId: z.string().regex(CHAT_ID_PATTERN),
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 hex digest of the proposal'),
    approve: z.boolean(),
  })
  .strict()
  .openapi('ChatConfirm');

export const ChatConfirmResultSchema = z
  .object({ proposalId: z.string(), decision: z.enum(['approved', 'rejected']) })
  .openapi('ChatConfirmResult');
