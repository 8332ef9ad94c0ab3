import { condition, setHandler } from '@temporalio/workflow';
import {
  CHAT_ID_PATTERN,
  CHAT_MESSAGE_MAX_CHARS,
  chatHistoryQuery,
  chatStateQuery,
  confirmActionUpdate,
  sendMessageUpdate,
  type ChatTurnResult,
} from '../../core/contracts/chat.js';
import type { ChatConversation } from './conversation.js';

const ROLE_RANK: Readonly<Record<string, number>> = { viewer: 0, operator: 1, admin: 2 };

/**
 * The conversation's messages. sendMessage is accepted at once (the validator refuses what no turn
 * could take, before it reaches history) and completes with its turn's answer; confirmAction decides
 * a pending proposal, refused unless it is open, unexpired, bound to the same hash and, to approve,
 * sent by an operator.
 */
export function installChatHandlers(conv: ChatConversation): void {
  setHandler(
    sendMessageUpdate,
    async (message) => {
      const repeat = conv.accepted.has(message.messageId);
      conv.accept(message);
      await condition(() => conv.results.has(message.messageId));
      const result = conv.results.get(message.messageId)!;
      // A repeat sent as another async job: that job gets the first answer too.
      if (repeat && message.jobId) await completeRepeatedJob(conv, message.jobId, result);
      return result;
    },
    {
      validator: (message) => {
        if (!CHAT_ID_PATTERN.test(message.messageId ?? '')) throw new Error('messageId must be 1-100 letters, digits or . _ : -');
        if (typeof message.text !== 'string' || message.text.trim() === '') throw new Error('The message is empty.');
        if (message.text.length > CHAT_MESSAGE_MAX_CHARS) {
          throw new Error(`The message has ${message.text.length} characters; at most ${CHAT_MESSAGE_MAX_CHARS} are accepted.`);
        }
      },
    },
  );

  setHandler(
    confirmActionUpdate,
    (decision) => {
      const proposal = conv.proposals.get(decision.proposalId)!;
      proposal.status = decision.approve ? 'approved' : 'rejected';
      proposal.decidedBy = decision.by;
      proposal.decidedRole = decision.role;
      return Promise.resolve({ proposalId: proposal.proposalId, decision: proposal.status });
    },
    {
      validator: (decision) => {
        const proposal = conv.proposals.get(decision.proposalId);
        if (!proposal) throw new Error(`No proposal ${decision.proposalId} is open in this conversation.`);
        if (proposal.status !== 'pending') throw new Error(`Proposal ${decision.proposalId} is already ${proposal.status}.`);
        if (Date.now() >= Date.parse(proposal.expiresAt))
          throw new Error(`Proposal ${decision.proposalId} expired at ${proposal.expiresAt}.`);
        if (decision.hash !== proposal.hash) {
          throw new Error(`The proposal changed: confirm ${proposal.hash}, not ${decision.hash}.`);
        }
        if (decision.approve && (ROLE_RANK[decision.role] ?? -1) < ROLE_RANK.operator!) {
          throw new Error(`Approving a change needs the operator role; you have ${decision.role}.`);
        }
      },
    },
  );

  setHandler(chatStateQuery, () => conv.state());
  setHandler(chatHistoryQuery, () => conv.history());
}

/** A repeated message sent as another async job: that job completes with the first answer. */
export async function completeRepeatedJob(conv: ChatConversation, jobId: string, result: ChatTurnResult): Promise<void> {
  await conv.store
    .recordChatEvents({
      ref: conv.ref,
      events: [],
      job: {
        jobId,
        update: {
          status: result.status === 'failed' ? 'failed' : 'completed',
          answer: result.answer,
          turnStatus: result.status,
          steps: result.steps,
        },
      },
    })
    .catch(() => undefined);
}
