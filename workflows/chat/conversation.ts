import { patched } from '@temporalio/workflow';
import {
  CHAT_ANSWER_IN_STEP_PATCH,
  CHAT_LOCAL_READ_TOOLS_PATCH,
  CHAT_TURN_OPENING_PATCH,
  DEFAULT_CHAT_SETTINGS,
  type ChatConversationInput,
  type ChatConversationState,
  type ChatHistorySummary,
  type ChatProposal,
  type ChatRole,
  type ChatSettings,
  type ChatTurnResult,
  type SendMessageInput,
} from '../../core/contracts/chat.js';
import type { ToolCaller } from '../../tools/tool.js';
import { chatStoreSteps, type ChatStoreSteps } from './activities.js';

/** A proposal as the workflow keeps it: what the user sees, and the role of whoever decided it. */
export interface OpenProposal extends ChatProposal {
  decidedRole: ChatRole | null;
}

/** Answers carried into the next run, so a repeated message after a continue-as-new still gets its answer. */
const CARRIED_RESULTS = 20;

/**
 * A conversation's state in the workflow: the messages waiting their turn (in arrival order), the
 * answers given (a repeated messageId gets the same one), the open proposals and the turn at work.
 * Transcripts are in the store: the state holds seqs, previews and answers only.
 */
export class ChatConversation {
  readonly settings: ChatSettings;
  readonly ref: { tenantId: string; sessionId: string };
  readonly queue: SendMessageInput[] = [];
  readonly results = new Map<string, ChatTurnResult>();
  /** Every messageId accepted by this run (queued, at work or answered). */
  readonly accepted = new Set<string>();
  readonly proposals = new Map<string, OpenProposal>();
  /** Child runs (remediations, Ansible runs) the conversation started and waits on, by workflow id (child-runs.ts). */
  readonly children = new Map<string, Promise<unknown>>();
  /** The session, transcript, stream and job writes (activities.ts `chatStoreSteps`: local activities, one at a time). */
  readonly store: ChatStoreSteps;
  /**
   * Patches decided once, at the run's start (its first workflow task, before any local activity): a
   * patch first asked for later, in a task that also resolved a local activity, could not be replayed
   * (the property test's restarts found it). Runs recorded before a patch keep its old path to the end.
   */
  /** The first model step opens each turn (CHAT_TURN_OPENING_PATCH). */
  readonly turnOpening: boolean;
  /** Rounds of calls that only read the store run as local activities (CHAT_LOCAL_READ_TOOLS_PATCH). */
  readonly localReadTools: boolean;
  /** The model step that answers records the turn's end (CHAT_ANSWER_IN_STEP_PATCH). */
  readonly answerInStep: boolean;
  current: ChatConversationState['current'] = null;
  summary: string | null;
  turns: number;
  contextFromSeq: number;

  constructor(readonly input: ChatConversationInput) {
    this.settings = input.settings ?? DEFAULT_CHAT_SETTINGS;
    this.ref = { tenantId: input.tenantId, sessionId: input.sessionId };
    this.store = chatStoreSteps();
    this.turnOpening = patched(CHAT_TURN_OPENING_PATCH);
    this.localReadTools = patched(CHAT_LOCAL_READ_TOOLS_PATCH);
    this.answerInStep = patched(CHAT_ANSWER_IN_STEP_PATCH);
    this.summary = input.carried?.summary ?? null;
    this.turns = input.carried?.turns ?? 0;
    this.contextFromSeq = input.carried?.contextFromSeq ?? 1;
    this.remember(input.carried?.recentResults ?? []);
  }

  /**
   * Answers given before this run (carried over, or read back after an idle end): a repeat gets the
   * same one. A message this run already queued before they were read is answered from them too
   * (the loop skips its turn: chat-conversation.ts).
   */
  remember(results: ChatTurnResult[]): void {
    for (const result of results) {
      if (this.results.has(result.messageId)) continue;
      this.results.set(result.messageId, result);
      this.accepted.add(result.messageId);
    }
  }

  /** Tools run as the conversation's owner, with the role the sender holds now. */
  callerFor(message: SendMessageInput): ToolCaller {
    return { tenantId: this.input.tenantId, userId: this.input.userId, role: message.role ?? this.input.role };
  }

  /** Queues a message once; a repeat of an accepted one only waits for its answer. */
  accept(message: SendMessageInput): void {
    if (this.accepted.has(message.messageId)) return;
    this.accepted.add(message.messageId);
    this.queue.push(message);
  }

  setStep(step: string): void {
    if (this.current) this.current = { ...this.current, step };
  }

  state(): ChatConversationState {
    return {
      sessionId: this.input.sessionId,
      turns: this.turns,
      current: this.current,
      queued: this.queue.length,
      proposals: [...this.proposals.values()].filter((p) => p.status === 'pending').map(({ decidedRole: _role, ...proposal }) => proposal),
      summary: this.summary,
    };
  }

  history(): ChatHistorySummary {
    return {
      summary: this.summary,
      turns: this.turns,
      recent: [...this.results.values()].slice(-10).map((r) => ({ messageId: r.messageId, status: r.status, answer: r.answer })),
    };
  }

  recentResults(): ChatTurnResult[] {
    return [...this.results.values()].slice(-CARRIED_RESULTS);
  }
}
