import { WithStartWorkflowOperation, WorkflowUpdateFailedError, isGrpcServiceError, type Client } from '@temporalio/client';
import {
  CHAT_WORKFLOW_TYPE,
  chatWorkflowId,
  confirmActionUpdate,
  sendMessageUpdate,
  type ChatConversationInput,
  type ChatTurnResult,
  type ConfirmActionInput,
  type ConfirmActionResult,
  type SendMessageInput,
} from '../core/contracts/chat.js';
import { ProblemError } from './problem.js';
import { mapTemporalError } from './temporal-gateway.js';

/** What the chat API needs from Temporal: a message to a conversation (started on demand) and a confirmation. */
export interface ChatWorkflowGateway {
  /** Sends a message (starting the conversation's run when none is open) and waits for its turn's answer. */
  send(conversation: ChatConversationInput, message: SendMessageInput): Promise<ChatTurnResult>;
  /** Sends a message and returns once the conversation has accepted it. */
  sendAsync(conversation: ChatConversationInput, message: SendMessageInput): Promise<void>;
  /** Decides a proposal; 409 when it is unknown, decided, expired or the hash differs, 403 for a role too low. */
  confirm(sessionId: string, decision: ConfirmActionInput): Promise<ConfirmActionResult>;
}

export function createTemporalChatGateway(client: Client, options: { taskQueue: string; turnTimeoutMs?: number }): ChatWorkflowGateway {
  const turnTimeoutMs = options.turnTimeoutMs ?? 30 * 60_000;
  const startOperation = (conversation: ChatConversationInput) =>
    new WithStartWorkflowOperation(CHAT_WORKFLOW_TYPE, {
      workflowId: chatWorkflowId(conversation.sessionId),
      taskQueue: options.taskQueue,
      args: [conversation],
      // One open run per conversation: a message to a running one joins it; after an idle end, a new run starts.
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  const refused = (err: unknown): never => {
    if (err instanceof WorkflowUpdateFailedError) {
      const message = err.cause?.message ?? err.message;
      throw new ProblemError(
        message.includes('operator role') ? 403 : 409,
        message.includes('operator role') ? 'forbidden' : 'conflict',
        message,
      );
    }
    return mapTemporalError(err);
  };
  return {
    async send(conversation, message) {
      try {
        return await client.connection.withDeadline(Date.now() + turnTimeoutMs, () =>
          client.workflow.executeUpdateWithStart(sendMessageUpdate, {
            args: [message],
            // The update id is the message id: Temporal returns the first outcome for a repeat.
            updateId: message.messageId,
            startWorkflowOperation: startOperation(conversation),
          }),
        );
      } catch (err) {
        return refused(err);
      }
    },
    async sendAsync(conversation, message) {
      try {
        await client.connection.withDeadline(Date.now() + 15_000, () =>
          client.workflow.startUpdateWithStart(sendMessageUpdate, {
            args: [message],
            // Its own update id per job: a repeated message as a new job reaches the handler (which
            // dedups by messageId and completes that job too) instead of Temporal's stored outcome.
            updateId: message.jobId ? `${message.messageId}/job/${message.jobId}` : message.messageId,
            waitForStage: 'ACCEPTED',
            startWorkflowOperation: startOperation(conversation),
          }),
        );
      } catch (err) {
        refused(err);
      }
    },
    async confirm(sessionId, decision) {
      try {
        return await client.connection.withDeadline(Date.now() + 15_000, () =>
          client.workflow.getHandle(chatWorkflowId(sessionId)).executeUpdate(confirmActionUpdate, { args: [decision] }),
        );
      } catch (err) {
        if (isGrpcServiceError(err) && err.code === 5) throw new ProblemError(409, 'conflict', 'The conversation has no open proposal.');
        return refused(err);
      }
    },
  };
}
