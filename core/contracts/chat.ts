// Contract of the chat workflow family (one durable conversation per session) shared by the
// workflow, its activities and the API. Workflow-safe: plain types plus message definitions.
import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** The API's roles (the same union as the store's Role; contracts stay free of adapter imports). */
export type ChatRole = 'admin' | 'operator' | 'viewer';

/** Registered workflow type name; the API starts it by this name and never loads workflow code. */
export const CHAT_WORKFLOW_TYPE = 'chatConversation';

export function chatWorkflowId(sessionId: string): string {
  return `chat-${sessionId}`;
}

/** The largest message a user may send (characters); the update's validator refuses more. */
export const CHAT_MESSAGE_MAX_CHARS = 8000;
/** Ids a client chooses (messageId) or the workflow issues (proposalId): short and printable. */
export const CHAT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * What one turn may spend. It lives in the workflow's state, so a worker restart does not reset it;
 * time spent waiting for a confirmation is not counted (the proposal's expiry bounds that wait).
 */
export interface ChatTurnBudget {
  /** Model steps (LLM or planner calls) per turn. */
  maxModelSteps: number;
  /** Input plus output tokens the model reports over the turn. */
  maxTokens: number;
  /** Workflow time from the turn's start to the start of its last model step (ms). */
  maxTurnMs: number;
}

export interface ChatSettings {
  budget: ChatTurnBudget;
  /** How long a proposed change waits for its confirmation before it expires unrun (ms). */
  confirmationTimeoutMs: number;
  /** A conversation with no message for this long ends its run; the next message starts a new one (ms). */
  idleTimeoutMs: number;
  /**
   * History events after which the run continues as new at its next idle moment: well under
   * Temporal's 50k-event limit and its continue-as-new suggestion, so a long conversation never nears them.
   */
  continueAsNewAfterEvents: number;
  /** Stored messages the model reads back per step (older ones reach it through the summary). */
  contextMessages: number;
}

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
  budget: { maxModelSteps: 8, maxTokens: 60_000, maxTurnMs: 5 * 60_000 },
  confirmationTimeoutMs: 15 * 60_000,
  idleTimeoutMs: 24 * 60 * 60_000,
  continueAsNewAfterEvents: 2_000,
  contextMessages: 40,
};

/** Who the conversation belongs to: its tools run as this caller. */
export interface ChatCaller {
  tenantId: string;
  userId: string;
  role: ChatRole;
}

/** What a run carries into its successor (continue-as-new): a summary and the open state. */
export interface ChatCarriedState {
  /** The model's summary of the conversation so far (produced by the summarise activity). */
  summary: string | null;
  /** Turns already taken by earlier runs (turn numbers keep growing across runs). */
  turns: number;
  /** Stored message seq from which the model reads the transcript (older ones are in the summary). */
  contextFromSeq: number;
  /** The last answers, so a repeated sendMessage after a continue-as-new still gets its answer. */
  recentResults: ChatTurnResult[];
}

export interface ChatConversationInput extends ChatCaller {
  sessionId: string;
  settings?: ChatSettings | undefined;
  carried?: ChatCarriedState | undefined;
  /**
   * The session as the API knows it when the API has just created it (no summary, no turns): the
   * run need not read it back before it accepts the first message. Absent: the run reads it.
   */
  opened?: { summary: string | null; turns: number } | undefined;
}

export interface SendMessageInput {
  /** The client's id of the message: a repeat returns the first answer (it is also the update id). */
  messageId: string;
  text: string;
  /** The role the sender holds now (roles change): tools run with it. */
  role?: ChatRole | undefined;
  /** The async job that waits for this answer (POST /chat/async), updated as the turn goes. */
  jobId?: string | undefined;
}

/** One thing a turn did, as the API's `steps[]` shows it. */
export interface ChatStep {
  kind: 'knowledge' | 'model' | 'tool' | 'confirmation';
  /** The tool called, or the model's name ('offline' for the planner). */
  name: string;
  status: 'ok' | 'failed' | 'refused' | 'proposed' | 'approved' | 'rejected' | 'expired';
  detail: string | null;
}

export type ChatTurnStatus = 'answered' | 'budget_exhausted' | 'failed';

export interface ChatTurnResult {
  messageId: string;
  turn: number;
  status: ChatTurnStatus;
  answer: string;
  /** The planner answered: no LLM is configured. */
  offline: boolean;
  steps: ChatStep[];
  usage: { modelSteps: number; tokens: number };
}

/** A change the agent wants to make, waiting for the user's confirmation of exactly this call. */
export interface ChatProposal {
  proposalId: string;
  tool: string;
  args: unknown;
  /** toolCallHash(tool, args): what confirmAction must carry. */
  hash: string;
  expiresAt: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  decidedBy: string | null;
}

export interface ConfirmActionInput {
  proposalId: string;
  hash: string;
  approve: boolean;
  /** Who decides (the API's principal) and the role they hold: a change needs operator. */
  by: string;
  role: ChatRole;
}

export interface ConfirmActionResult {
  proposalId: string;
  decision: 'approved' | 'rejected';
}

export interface ChatConversationState {
  sessionId: string;
  turns: number;
  /** The turn being worked on, with what it does now. */
  current: { messageId: string; turn: number; step: string } | null;
  queued: number;
  proposals: ChatProposal[];
  summary: string | null;
}

/** A short description of the conversation's history (for the query and the API). */
export interface ChatHistorySummary {
  summary: string | null;
  turns: number;
  recent: { messageId: string; status: ChatTurnStatus; answer: string }[];
}

/** A message is accepted at once and the update finishes when its turn's answer is ready. */
export const sendMessageUpdate = defineUpdate<ChatTurnResult, [SendMessageInput]>('sendMessage');
/** Approve or reject a proposed change; refused unless it is pending, unexpired and the hash matches. */
export const confirmActionUpdate = defineUpdate<ConfirmActionResult, [ConfirmActionInput]>('confirmAction');
export const chatStateQuery = defineQuery<ChatConversationState>('chatState');
export const chatHistoryQuery = defineQuery<ChatHistorySummary>('chatHistory');

/** Events of a conversation's live stream (GET /chat/{sessionId}/events), numbered per session. */
export const CHAT_EVENT_TYPES = [
  'token',
  'tool.started',
  'tool.ended',
  'confirmation.requested',
  'confirmation.decided',
  'answer',
  'turn.ended',
  // A remediation or Ansible run a confirmed call recorded, started as a child of the conversation.
  'run.started',
  'run.status',
  'run.ended',
] as const;
export type ChatEventType = (typeof CHAT_EVENT_TYPES)[number];

/**
 * A run a chat tool recorded (the incident or automation row) and left for the conversation to
 * start as its child workflow: exactly the start the API would make (type, id, argument, search
 * attributes by their SEARCH_ATTRIBUTES name in core/contracts/incident.ts).
 */
export interface ChatChildRun {
  kind: 'remediation' | 'automation';
  workflowType: string;
  workflowId: string;
  input: unknown;
  searchAttributes: { tenant: string; severity?: string; incidentStatus?: string; targetHost?: string };
  /** What the chat shows: INC-42, RUN-7. */
  label: string;
  /** The incident's or automation run's id: its row's status is the run's progress. */
  recordId: string;
}

/** The patch that starts chat-started runs as child workflows (before it, the tool's activity started them). */
export const CHAT_CHILD_RUNS_PATCH = 'chat-child-runs';

/** The patch that runs the conversation's store steps as local activities (before it, task-queue activities). */
export const CHAT_LOCAL_STORE_STEPS_PATCH = 'chat-local-store-steps';

/**
 * The patch that opens a turn inside its first model step (user message stored, job running,
 * knowledge searched: activities/chat/model-step.ts `ChatTurnOpening`); before it, a store step and a
 * knowledge-search tool activity came first.
 */
export const CHAT_TURN_OPENING_PATCH = 'chat-turn-opening';

/** The patch that runs tool calls reading only the store as local activities (before it, task-queue activities). */
export const CHAT_LOCAL_READ_TOOLS_PATCH = 'chat-local-read-tools';

/**
 * The patch that lets the model step whose model answered record the turn's end (answer and
 * turn.ended events, the async job) itself; before it, a store step after the model step did.
 */
export const CHAT_ANSWER_IN_STEP_PATCH = 'chat-answer-in-step';

export interface ChatEventInput {
  /** Unique in its session: a retried append with the same key adds nothing. */
  key: string;
  type: ChatEventType;
  data: Record<string, unknown>;
}

export const CHAT_MESSAGE_ROLES = ['user', 'assistant', 'tool'] as const;
export type ChatMessageRole = (typeof CHAT_MESSAGE_ROLES)[number];

/** A message as the store keeps it for the transcript (redacted before it is stored). */
export interface ChatMessageInput {
  /** Unique in its session: a retried persist adds nothing. */
  key: string;
  role: ChatMessageRole;
  turn: number;
  content: string | null;
  /** An assistant message's tool calls. */
  toolCalls?: { id: string; name: string; arguments: unknown }[] | undefined;
  /** A tool message's call id and tool. */
  toolCallId?: string | undefined;
  toolName?: string | undefined;
  /** A tool result's structured data (redacted; large results live here, never in history). */
  data?: unknown;
}
