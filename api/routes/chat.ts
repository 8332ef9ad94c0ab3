import { randomUUID } from 'node:crypto';
import type { RunEventBus } from '../../adapters/events/port.js';
import type { ChatEvent, ChatSession, Store } from '../../adapters/store/port.js';
import { DEFAULT_CHAT_SETTINGS, type ChatConversationInput, type ChatSettings } from '../../core/contracts/chat.js';
import type { Principal } from '../auth.js';
import {
  ChatAcceptedSchema,
  ChatAnswerSchema,
  ChatConfirmResultSchema,
  ChatConfirmSchema,
  ChatHistorySchema,
  ChatJobSchema,
  ChatSendSchema,
  HistoryQuery,
  JobParam,
  SessionParam,
  toJobBody,
} from '../chat-schemas.js';
import type { ChatWorkflowGateway } from '../chat-gateway.js';
import { notFound, ProblemError } from '../problem.js';
import { streamRunEvents } from '../run-event-stream.js';
import { apiRoute, createRouter, jsonBody, jsonResponse as json } from '../validation.js';
import { lastEventId, StreamHeaders, StreamQuery, streamResponse } from './incident-events.js';

// The chat agent: send a message and wait for the answer, or send it as a job and poll; page a
// session's transcript; confirm a proposed change (bound to its hash); follow the conversation live
// (Server-Sent Events of tokens, tools, confirmations and answers, resumable with Last-Event-ID).
// A session belongs to the user who opened it: anyone else gets 404, as if it did not exist.

const tags = ['Chat'];

export interface ChatRouteDeps {
  store: Store;
  /** Absent: sending and confirming answer 503 (history and events still read). */
  workflows?: ChatWorkflowGateway | undefined;
  settings?: ChatSettings | undefined;
  events?: RunEventBus | undefined;
  maxStreamMs: number;
}

const unavailable = () => new ProblemError(503, 'service-unavailable', 'Chat is not configured on this server.');

export function chatRoutes(deps: ChatRouteDeps) {
  const { store } = deps;
  const app = createRouter();

  /** The caller's session, or 404 (another user's session is indistinguishable from none). */
  async function ownSession(principal: Principal, sessionId: string): Promise<ChatSession> {
    const session = await store.chat.getSession(principal.tenantId, sessionId);
    if (!session || session.userId !== principal.subject) throw notFound(`Chat session '${sessionId}'`);
    return session;
  }

  /** The caller's session, or a new one (`created`: nothing is stored in it yet). */
  async function openOrCreate(
    principal: Principal,
    sessionId: string | undefined,
    message: string,
  ): Promise<{ session: ChatSession; created: boolean }> {
    if (sessionId) return { session: await ownSession(principal, sessionId), created: false };
    const session = await store.chat.createSession(principal.tenantId, {
      id: randomUUID(),
      userId: principal.subject,
      title: message.slice(0, 80),
    });
    return { session, created: true };
  }

  const conversationOf = (
    principal: Principal,
    { session, created }: { session: ChatSession; created: boolean },
  ): ChatConversationInput => ({
    tenantId: principal.tenantId,
    userId: principal.subject,
    role: principal.role,
    sessionId: session.id,
    settings: deps.settings ?? DEFAULT_CHAT_SETTINGS,
    // A session made just now has nothing to read back: its run accepts the first message in its first task.
    ...(created ? { opened: { summary: null, turns: 0 } } : {}),
  });

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/',
        operationId: 'chat',
        tags,
        summary: 'Send a message and wait for the answer (a new session unless sessionId is given)',
        request: { body: jsonBody(ChatSendSchema) },
        responses: { 200: json(ChatAnswerSchema, 'The turn’s answer, with what it did') },
      },
      [404, 409, 429, 503],
    ),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      if (!deps.workflows) throw unavailable();
      const opened = await openOrCreate(principal, body.sessionId, body.message);
      const { session } = opened;
      const result = await deps.workflows.send(conversationOf(principal, opened), {
        messageId: body.messageId ?? randomUUID(),
        text: body.message,
        role: principal.role,
      });
      return c.json({ sessionId: session.id, ...result }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/async',
        operationId: 'chatAsync',
        tags,
        summary: 'Send a message as a job: 202 at once, poll GET /chat/async/{jobId} or follow /chat/{sessionId}/events',
        request: { body: jsonBody(ChatSendSchema) },
        responses: { 202: json(ChatAcceptedSchema, 'Accepted by the conversation') },
      },
      [404, 409, 429, 503],
    ),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      if (!deps.workflows) throw unavailable();
      const opened = await openOrCreate(principal, body.sessionId, body.message);
      const { session } = opened;
      const messageId = body.messageId ?? randomUUID();
      const job = await store.chat.createJob(principal.tenantId, {
        id: randomUUID(),
        sessionId: session.id,
        userId: principal.subject,
        messageId,
      });
      try {
        await deps.workflows.sendAsync(conversationOf(principal, opened), {
          messageId,
          text: body.message,
          role: principal.role,
          jobId: job.id,
        });
      } catch (err) {
        await store.chat.updateJob(principal.tenantId, job.id, {
          status: 'failed',
          error: err instanceof Error ? err.message : String(err),
        });
        throw err;
      }
      return c.json({ jobId: job.id, sessionId: session.id, messageId }, 202);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/async/{jobId}',
        operationId: 'getChatJob',
        tags,
        summary: 'Where an asynchronous message is: queued, running, completed (with the answer) or failed',
        request: { params: JobParam },
        responses: { 200: json(ChatJobSchema, 'The job') },
      },
      [404],
    ),
    async (c) => {
      const principal = c.get('principal');
      const job = await store.chat.getJob(principal.tenantId, c.req.valid('param').jobId);
      if (!job || job.userId !== principal.subject) throw notFound(`Chat job '${c.req.valid('param').jobId}'`);
      return c.json(toJobBody(job), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{sessionId}/history',
        operationId: 'getChatHistory',
        tags,
        summary: 'The session’s messages (user, assistant, tool calls and results, redacted), oldest first, paged',
        request: { params: SessionParam, query: HistoryQuery },
        responses: { 200: json(ChatHistorySchema, 'One page of the transcript') },
      },
      [404],
    ),
    async (c) => {
      const principal = c.get('principal');
      const session = await ownSession(principal, c.req.valid('param').sessionId);
      const { after, limit } = c.req.valid('query');
      const page = await store.chat.messages(principal.tenantId, session.id, Number(after ?? 0), limit + 1);
      const items = page.slice(0, limit);
      const nextCursor = page.length > limit ? String(items.at(-1)!.seq) : null;
      return c.json({ sessionId: session.id, title: session.title, summary: session.summary, items, nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/{sessionId}/confirm',
        operationId: 'confirmChatAction',
        tags,
        summary: 'Approve or reject a proposed change, bound to its hash (approving needs the operator role)',
        request: { params: SessionParam, body: jsonBody(ChatConfirmSchema) },
        responses: { 200: json(ChatConfirmResultSchema, 'The decision, recorded') },
      },
      [404, 409, 503],
    ),
    async (c) => {
      const principal = c.get('principal');
      const session = await ownSession(principal, c.req.valid('param').sessionId);
      if (!deps.workflows) throw unavailable();
      const body = c.req.valid('json');
      const result = await deps.workflows.confirm(session.id, { ...body, by: principal.subject, role: principal.role });
      return c.json(result, 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/{sessionId}/events',
        operationId: 'streamChatEvents',
        tags,
        summary:
          'The conversation live (Server-Sent Events): tokens, tool.started/ended, confirmation.requested/decided, answer, turn.ended, run.started/status/ended (a remediation or Ansible run it started)',
        request: { params: SessionParam, headers: StreamHeaders, query: StreamQuery },
        responses: { 200: streamResponse('The session’s events after Last-Event-ID (ids: the session’s event seq).') },
      },
      [404],
    ),
    async (c) => {
      const principal = c.get('principal');
      const session = await ownSession(principal, c.req.valid('param').sessionId);
      return streamRunEvents<ChatEvent>(c, {
        tenantId: principal.tenantId,
        bus: deps.events,
        after: lastEventId(c.req.valid('header')['last-event-id'], c.req.valid('query').after),
        idOf: (event) => event.seq,
        read: (after, limit) => store.chat.events(principal.tenantId, session.id, Math.min(after, 2_147_483_647), limit),
        wire: (event) => event,
        concerns: (notice) => notice.family === 'chat' && notice.runId === session.id,
        maxStreamMs: deps.maxStreamMs,
        pollMs: 1000,
      }) as never;
    },
  );

  return app;
}
