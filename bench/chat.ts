import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScriptedModel, wallClockMs, type ReceivedModelRequest, type ScriptedAnswer } from '../test/support/scripted-model.js';
import {
  createBenchDatabase,
  freePort,
  machineDescription,
  mapLimit,
  onInterrupt,
  percentile,
  provenance,
  round,
  startStack,
  writeReport,
  type NodeProcess,
} from './lib.js';
import { benchStopSignal, benchTurnUpdate } from './noop-workflows.js';

// `npm run bench:chat` (issue 12's targets), each measured in this one run against the real stack
// (`npm start`: Temporal dev server, PostgreSQL store and bus, the API and the worker with the chat
// activities), its LLM adapter pointed at a zero-latency scripted model (OpenAI protocol, streaming)
// running in this process, so only InfraAI's own cost shows:
// 1. message accepted: POST /api/v1/chat/async → 202 (the sendMessage update accepted by the run);
// 2. overhead per model step: (turn wall time − the model's time at the model server − the tools'
//    time from their stored tool.started/tool.ended events) / model steps, over turns of two steps
//    (knowledge search, model → cmdb_lookup, model → answer);
// 3. first token: an SSE client on GET /api/v1/chat/{sessionId}/events receives the turn's first
//    token event, against the wall time the model server wrote that token;
// 4. 100 conversations at once, two turns each;
// 5. the baseline: a bare Temporal update on a no-op workflow (bench/noop-workflows.ts, a worker in
//    this process), with no activity (acceptance, round-trip) and with as many no-op activities as a
//    chat turn runs in sequence, so the ratios say what the chat path costs over Temporal's floor.

const API_KEY = 'bench-admin-key-0123456789abcdef';
const TURNS = Number(process.env.BENCH_CHAT_TURNS ?? 100);
const TURN_SESSIONS = Number(process.env.BENCH_CHAT_TURN_SESSIONS ?? 6);
const MESSAGES = Number(process.env.BENCH_CHAT_MESSAGES ?? 300);
const MESSAGE_SESSIONS = Number(process.env.BENCH_CHAT_MESSAGE_SESSIONS ?? 30);
const MESSAGE_CLIENTS = Number(process.env.BENCH_CHAT_MESSAGE_CLIENTS ?? 4);
const CONVERSATIONS = Number(process.env.BENCH_CHAT_CONVERSATIONS ?? 100);
const STORE = process.env.BENCH_CHAT_STORE === 'pglite' ? 'pglite' : 'postgres';
/**
 * The steps a chat turn of two model steps runs one after another, as the floor's no-op steps (A: a
 * task-queue activity, L: a local activity): model step 1 (which stores the message and searches the
 * knowledge base first), cmdb_lookup (a read-only store tool: local), model step 2 (which records
 * the turn's end).
 */
const TURN_SHAPE = 'ALA';
const TURN_SHAPE_TEXT = 'activity, local activity, activity';
const HOST = 'bench-web-01';
const FLOOR_QUEUE = `bench-chat-floor-${randomUUID().slice(0, 8)}`;
const ANSWER = `is an Ubuntu 22.04 virtual machine in production, owned by the platform team, serving the public web tier behind the load balancer; nothing in the CMDB says it is being changed today.`;

const TARGETS = { acceptedP99: 150, stepOverheadP50: 40, stepOverheadP99: 250, firstTokenP99: 150 };

interface Latency {
  median: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

function latency(values: number[]): Latency {
  if (values.length === 0) return { median: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, n: 0 };
  return {
    median: round(percentile(values, 50), 1),
    p90: round(percentile(values, 90), 1),
    p99: round(percentile(values, 99), 1),
    max: round(Math.max(...values), 1),
    n: values.length,
  };
}

// ---------------------------------------------------------------------------------------------
// The model: asks for cmdb_lookup first, then answers with the message's marker in its first token.

/** A realistic model's pace (a word every 25 ms) for some turns, so the token batching (activities/chat/events.ts) shows in the first token. */
const PACE_MS = Number(process.env.BENCH_CHAT_PACE_MS ?? 25);
const pacedMarkers = new Set<string>();
let nextMarker = 0;
const newMarker = () => `m${(nextMarker += 1)}`;

interface OpenAiMessage {
  role: string;
  content: unknown;
  tool_calls?: { function: { name: string } }[];
}

function lastUserIndex(messages: OpenAiMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i]!.role === 'user') return i;
  return -1;
}

/** The marker of the message a model request answers (`[m12]` in the user's text). */
function markerOf(request: ReceivedModelRequest): string | null {
  const messages = (request.body.messages as OpenAiMessage[] | undefined) ?? [];
  const user = messages[lastUserIndex(messages)];
  const text = typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content ?? '');
  return /\[(m\d+)\]/.exec(text)?.[1] ?? null;
}

function benchReply(request: ReceivedModelRequest): ScriptedAnswer {
  const messages = (request.body.messages as OpenAiMessage[] | undefined) ?? [];
  const sinceUser = messages.slice(lastUserIndex(messages) + 1);
  const looked = sinceUser.some((m) => m.tool_calls?.some((call) => call.function.name === 'cmdb_lookup'));
  if (!looked) return { toolCalls: [{ name: 'cmdb_lookup', arguments: { query: HOST } }], usage: { input: 400, output: 20 } };
  const marker = markerOf(request) ?? 'm0';
  return {
    text: `[${marker}] ${HOST} ${ANSWER}`,
    usage: { input: 600, output: 40 },
    ...(pacedMarkers.has(marker) ? { chunkDelayMs: PACE_MS } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The API and a session's live stream.

const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

async function post(api: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, body: parsed, ms: performance.now() - started };
}

interface StreamEvent {
  type: string;
  data: Record<string, unknown>;
  at: string;
  receivedAt: number;
}

/** One SSE client on a session's events, keeping every event with its receipt time. */
class SessionStream {
  readonly events: StreamEvent[] = [];
  /** Receipt of the first token event that carries a message's marker. */
  readonly firstTokenAt = new Map<string, number>();
  private readonly waiters = new Map<string, (event: StreamEvent) => void>();
  private readonly ended = new Map<string, StreamEvent>();
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    readonly sessionId: string,
    private readonly api: string,
  ) {}

  /** Resolves once the stream is open (its `ready` event arrived). */
  async open(): Promise<void> {
    const res = await fetch(`${this.api}/api/v1/chat/${this.sessionId}/events`, {
      headers: { authorization: `Bearer ${API_KEY}`, 'last-event-id': '0' },
      signal: this.abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`the event stream answered ${res.status}`);
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    this.done = this.read(res.body.getReader(), ready).catch(() => undefined);
    await isReady;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>, ready: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const receivedAt = wallClockMs();
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const type = field('event');
        if (type === 'ready') ready();
        if (field('id') === undefined || !type) continue;
        const wire = JSON.parse(field('data') ?? '{}') as { data?: Record<string, unknown>; at?: string };
        this.handle({ type, data: wire.data ?? {}, at: wire.at ?? '', receivedAt });
      }
    }
  }

  private handle(event: StreamEvent): void {
    this.events.push(event);
    if (event.type === 'token') {
      const marker = /^\[(m\d+)\]/.exec(String(event.data.text ?? ''))?.[1];
      if (marker && !this.firstTokenAt.has(marker)) this.firstTokenAt.set(marker, event.receivedAt);
    }
    if (event.type === 'turn.ended') {
      const messageId = String(event.data.messageId);
      this.ended.set(messageId, event);
      this.waiters.get(messageId)?.(event);
      this.waiters.delete(messageId);
    }
  }

  /** The turn.ended event of a message (its id is the message's marker). */
  turnEnded(messageId: string, timeoutMs = 120_000): Promise<StreamEvent> {
    const seen = this.ended.get(messageId);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`turn of ${messageId} did not end within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(messageId, (event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  }

  /** Sum of the turn's tool calls' own spans (tool.started → tool.ended, as stored). */
  toolMs(turn: number): { ms: number; calls: number } {
    const started = new Map<string, number>();
    let ms = 0;
    let calls = 0;
    for (const event of this.events) {
      if (event.data.turn !== turn) continue;
      const callId = String(event.data.callId);
      if (event.type === 'tool.started') started.set(callId, Date.parse(event.at));
      if (event.type === 'tool.ended' && started.has(callId)) {
        ms += Date.parse(event.at) - started.get(callId)!;
        calls += 1;
      }
    }
    return { ms, calls };
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface TurnSample {
  marker: string;
  turnMs: number;
  modelMs: number;
  toolMs: number;
  toolCalls: number;
  modelSteps: number;
  perStepOverheadMs: number;
  firstTokenMs: number | null;
}

/** What a model request of this marker cost at the model server, and its first text chunk's send time. */
function modelSide(requests: ReceivedModelRequest[], marker: string): { ms: number; steps: number; firstTextAt: number | null } {
  let ms = 0;
  let steps = 0;
  let firstTextAt: number | null = null;
  for (const request of requests) {
    if (markerOf(request) !== marker) continue;
    steps += 1;
    ms += (request.endedAt ?? request.receivedAt) - request.receivedAt;
    if (request.textAt.length && firstTextAt === null) firstTextAt = request.textAt[0]!;
  }
  return { ms, steps, firstTextAt };
}

function turnSample(requests: ReceivedModelRequest[], stream: SessionStream, marker: string, turn: number, turnMs: number): TurnSample {
  const model = modelSide(requests, marker);
  const tools = stream.toolMs(turn);
  const firstToken = stream.firstTokenAt.get(marker);
  return {
    marker,
    turnMs: round(turnMs, 1),
    modelMs: round(model.ms, 2),
    toolMs: tools.ms,
    toolCalls: tools.calls,
    modelSteps: model.steps,
    perStepOverheadMs: round((turnMs - model.ms - tools.ms) / Math.max(1, model.steps), 1),
    firstTokenMs: firstToken !== undefined && model.firstTextAt !== null ? round(firstToken - model.firstTextAt, 1) : null,
  };
}

interface Floor {
  client: Client;
  /** One long-lived no-op run per key (a conversation's analogue). */
  workflowId(key: string): string;
}

/** Temporal's own floor: an update on a running no-op run, answering after `activities` no-op activities. */
async function floorUpdate(floor: Floor, key: string, activities: number | string): Promise<number> {
  const started = performance.now();
  await floor.client.workflow.executeUpdateWithStart(benchTurnUpdate, {
    args: [activities],
    startWorkflowOperation: new WithStartWorkflowOperation('benchUpdatable', {
      workflowId: floor.workflowId(key),
      taskQueue: FLOOR_QUEUE,
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
  return performance.now() - started;
}

/** The accept floor: the API's call (update-with-start, USE_EXISTING, wait for ACCEPTED) on a no-op run. */
async function floorAccept(floor: Floor, key: string): Promise<number> {
  const started = performance.now();
  await floor.client.workflow.startUpdateWithStart(benchTurnUpdate, {
    args: [0],
    waitForStage: 'ACCEPTED',
    startWorkflowOperation: new WithStartWorkflowOperation('benchUpdatable', {
      workflowId: floor.workflowId(key),
      taskQueue: FLOOR_QUEUE,
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
  return performance.now() - started;
}

/** Sends a message and waits for its answer (POST /api/v1/chat); returns the session and the wall time. */
async function chatTurn(api: string, sessionId: string | null, marker: string): Promise<{ sessionId: string; ms: number; turn: number }> {
  const res = await post(api, '/api/v1/chat', {
    ...(sessionId ? { sessionId } : {}),
    messageId: marker,
    message: `[${marker}] What is ${HOST} and who owns it?`,
  });
  if (res.status !== 200 || res.body.status !== 'answered')
    throw new Error(`POST /api/v1/chat answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { sessionId: String(res.body.sessionId), ms: res.ms, turn: Number(res.body.turn) };
}

// 2 + 3: turns one at a time, each followed by the floor's update of the same shape.
interface TurnsResult {
  samples: (TurnSample & { paced: boolean })[];
  turnMs: Latency;
  /** The turns whose model answered at once: their wall time compares with the baseline's turn. */
  turnZeroLatencyMs: Latency;
  perStepOverheadMs: Latency;
  /** Zero-latency model (the whole answer at once) and paced model (a word every PACE_MS), together. */
  firstTokenMs: Latency;
  firstTokenZeroLatencyMs: Latency;
  firstTokenPacedMs: Latency;
  modelMs: Latency;
  toolMs: Latency;
  floorTurnMs: Latency;
  floorUpdateMs: Latency;
  profile: { chat: HistoryProfile; floor: HistoryProfile };
}

/** Medians of what Temporal's histories say: per activity type and for workflow tasks. */
interface HistoryProfile {
  activities: Record<string, { n: number; scheduleToStartMs: number; runMs: number; scheduledToCompletedMs: number }>;
  workflowTasks: { n: number; scheduleToStartMs: number; runMs: number };
}

const timestampMs = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number => {
  const seconds = ts?.seconds as { toNumber?: () => number } | number | null | undefined;
  const whole = typeof seconds === 'number' ? seconds : (seconds?.toNumber?.() ?? 0);
  return whole * 1000 + (ts?.nanos ?? 0) / 1e6;
};

/**
 * Where the time goes inside Temporal, from the runs' histories: each activity's schedule-to-start
 * (queueing until a worker slot polls it) and its run (started → completed: the activity's own code),
 * and each workflow task's schedule-to-start and run (the workflow code and the worker's round-trip).
 */
async function historyProfile(client: Client, workflowIds: string[]): Promise<HistoryProfile> {
  const activities = new Map<string, { toStart: number[]; run: number[]; total: number[] }>();
  const taskToStart: number[] = [];
  const taskRun: number[] = [];
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, { name: string; at: number }>();
    const started = new Map<string, number>();
    let taskScheduledAt = 0;
    let taskStartedAt = 0;
    for (const event of history.events ?? []) {
      const at = timestampMs(event.eventTime);
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) {
        scheduled.set(id, { name: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
      } else if (event.activityTaskStartedEventAttributes) {
        started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at);
      } else if (event.activityTaskCompletedEventAttributes) {
        const key = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const sched = scheduled.get(key);
        const start = started.get(key);
        if (!sched || start === undefined) continue;
        const entry = activities.get(sched.name) ?? { toStart: [], run: [], total: [] };
        entry.toStart.push(start - sched.at);
        entry.run.push(at - start);
        entry.total.push(at - sched.at);
        activities.set(sched.name, entry);
      } else if (event.workflowTaskScheduledEventAttributes) {
        taskScheduledAt = at;
      } else if (event.workflowTaskStartedEventAttributes) {
        taskStartedAt = at;
        taskToStart.push(at - taskScheduledAt);
      } else if (event.workflowTaskCompletedEventAttributes) {
        taskRun.push(at - taskStartedAt);
      }
    }
  }
  const med = (values: number[]) => round(percentile(values, 50), 1);
  return {
    activities: Object.fromEntries(
      [...activities].map(([name, e]) => [
        name,
        { n: e.run.length, scheduleToStartMs: med(e.toStart), runMs: med(e.run), scheduledToCompletedMs: med(e.total) },
      ]),
    ),
    workflowTasks: { n: taskRun.length, scheduleToStartMs: med(taskToStart), runMs: med(taskRun) },
  };
}

async function benchTurns(api: string, requests: ReceivedModelRequest[], floor: Floor): Promise<TurnsResult> {
  const streams: SessionStream[] = [];
  try {
    // Each session opened by a turn not counted, then followed live.
    for (let i = 0; i < TURN_SESSIONS; i += 1) {
      const opened = await chatTurn(api, null, newMarker());
      const stream = new SessionStream(opened.sessionId, api);
      await stream.open();
      streams.push(stream);
      await floorUpdate(floor, `turns-${i}`, TURN_SHAPE);
    }
    const samples: (TurnSample & { paced: boolean })[] = [];
    const floorTurn: number[] = [];
    const floorUpdate0: number[] = [];
    for (let i = 0; i < TURNS; i += 1) {
      const stream = streams[i % streams.length]!;
      const marker = newMarker();
      // Every other turn the model streams at a realistic pace, so the token batching shows.
      const paced = i % 2 === 1;
      if (paced) pacedMarkers.add(marker);
      const turn = await chatTurn(api, stream.sessionId, marker);
      await stream.turnEnded(marker);
      samples.push({ ...turnSample(requests, stream, marker, turn.turn, turn.ms), paced });
      floorTurn.push(await floorUpdate(floor, `turns-${i % streams.length}`, TURN_SHAPE));
      floorUpdate0.push(await floorUpdate(floor, `turns-${i % streams.length}`, 0));
    }
    const firstTokens = (of: typeof samples) => of.map((s) => s.firstTokenMs).filter((v): v is number => v !== null);
    const [chatProfile, floorProfile] = await Promise.all([
      historyProfile(
        floor.client,
        streams.map((s) => `chat-${s.sessionId}`),
      ),
      historyProfile(
        floor.client,
        streams.map((_, i) => floor.workflowId(`turns-${i}`)),
      ),
    ]);
    return {
      samples,
      turnMs: latency(samples.map((s) => s.turnMs)),
      turnZeroLatencyMs: latency(samples.filter((s) => !s.paced).map((s) => s.turnMs)),
      perStepOverheadMs: latency(samples.map((s) => s.perStepOverheadMs)),
      firstTokenMs: latency(firstTokens(samples)),
      firstTokenZeroLatencyMs: latency(firstTokens(samples.filter((s) => !s.paced))),
      firstTokenPacedMs: latency(firstTokens(samples.filter((s) => s.paced))),
      modelMs: latency(samples.map((s) => s.modelMs)),
      toolMs: latency(samples.map((s) => s.toolMs)),
      floorTurnMs: latency(floorTurn),
      floorUpdateMs: latency(floorUpdate0),
      profile: { chat: chatProfile, floor: floorProfile },
    };
  } finally {
    await Promise.all(streams.map((s) => s.close()));
  }
}

// 1: messages as jobs, several clients at once, each waiting for its turn's end before its next.
interface AcceptResult {
  accepted: Latency;
  acceptedFirst: Latency;
  acceptedOpen: Latency;
  floorAccept: Latency;
  turnMs: Latency;
  firstTokenMs: Latency;
  perStepOverheadMs: Latency;
  statuses: Record<string, number>;
}

async function benchAccept(api: string, requests: ReceivedModelRequest[], floor: Floor): Promise<AcceptResult> {
  const perSession = Math.ceil(MESSAGES / MESSAGE_SESSIONS);
  const statuses: Record<string, number> = {};
  const first: number[] = [];
  const open: number[] = [];
  const floorMs: number[] = [];
  const samples: TurnSample[] = [];
  const streams: SessionStream[] = [];
  try {
    await mapLimit([...Array(MESSAGE_SESSIONS).keys()], MESSAGE_CLIENTS, async (s) => {
      let stream: SessionStream | null = null;
      for (let j = 0; j < perSession && s * perSession + j < MESSAGES; j += 1) {
        floorMs.push(await floorAccept(floor, `accept-${s}`));
        const marker = newMarker();
        const started = performance.now();
        const res = await post(api, '/api/v1/chat/async', {
          ...(stream ? { sessionId: stream.sessionId } : {}),
          messageId: marker,
          message: `[${marker}] What is ${HOST} and who owns it?`,
        });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status !== 202) throw new Error(`POST /api/v1/chat/async answered ${res.status}: ${JSON.stringify(res.body)}`);
        (stream ? open : first).push(res.ms);
        const following = stream !== null;
        if (!stream) {
          stream = new SessionStream(String(res.body.sessionId), api);
          streams.push(stream);
          await stream.open();
        }
        const ended = await stream.turnEnded(marker);
        // A turn followed from before it started: its time and first token count.
        if (following)
          samples.push(
            turnSample(requests, stream, marker, Number(ended.data.turn), ended.receivedAt - (performance.timeOrigin + started)),
          );
      }
    });
  } finally {
    await Promise.all(streams.map((s) => s.close()));
  }
  return {
    accepted: latency([...first, ...open]),
    acceptedFirst: latency(first),
    acceptedOpen: latency(open),
    floorAccept: latency(floorMs),
    turnMs: latency(samples.map((s) => s.turnMs)),
    firstTokenMs: latency(samples.map((s) => s.firstTokenMs).filter((v): v is number => v !== null)),
    perStepOverheadMs: latency(samples.map((s) => s.perStepOverheadMs)),
    statuses,
  };
}

// 4: many conversations at once, two turns each.
interface ConcurrentRound {
  wallSeconds: number;
  turnsPerSecond: number;
  turnMs: Latency;
  failures: number;
}

interface ConcurrentResult {
  conversations: number;
  rounds: ConcurrentRound[];
  total: { turns: number; wallSeconds: number; turnsPerSecond: number; failures: number; turnMs: Latency };
  floor: ConcurrentRound[];
  failureSamples: string[];
}

async function concurrentRound(
  items: number,
  run: (i: number) => Promise<number>,
  failureSamples: string[],
): Promise<ConcurrentRound & { ms: number[] }> {
  const started = performance.now();
  let failures = 0;
  const ms: number[] = [];
  await Promise.all(
    Array.from({ length: items }, async (_, i) => {
      try {
        ms.push(await run(i));
      } catch (err) {
        failures += 1;
        if (failureSamples.length < 5) failureSamples.push((err as Error).message.slice(0, 300));
      }
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  return { wallSeconds: round(wallSeconds, 2), turnsPerSecond: round(items / wallSeconds, 1), turnMs: latency(ms), failures, ms };
}

async function benchConcurrent(api: string, floor: Floor): Promise<ConcurrentResult> {
  const sessions: (string | null)[] = Array.from({ length: CONVERSATIONS }, () => null);
  const failureSamples: string[] = [];
  const rounds: (ConcurrentRound & { ms: number[] })[] = [];
  const floorRounds: ConcurrentRound[] = [];
  for (let r = 0; r < 2; r += 1) {
    rounds.push(
      await concurrentRound(
        CONVERSATIONS,
        async (i) => {
          const turn = await chatTurn(api, sessions[i] ?? null, newMarker());
          sessions[i] = turn.sessionId;
          return turn.ms;
        },
        failureSamples,
      ),
    );
    // The same load on Temporal alone: as many updates at once, each running a turn's activities.
    const { ms: _ms, ...floorRound } = await concurrentRound(
      CONVERSATIONS,
      (i) => floorUpdate(floor, `concurrent-${i}`, TURN_SHAPE),
      failureSamples,
    );
    floorRounds.push(floorRound);
  }
  const wallSeconds = rounds.reduce((sum, r) => sum + r.wallSeconds, 0);
  const failures = rounds.reduce((sum, r) => sum + r.failures, 0);
  return {
    conversations: CONVERSATIONS,
    rounds: rounds.map(({ ms: _ms, ...rest }) => rest),
    total: {
      turns: CONVERSATIONS * 2,
      wallSeconds: round(wallSeconds, 2),
      turnsPerSecond: round((CONVERSATIONS * 2) / wallSeconds, 1),
      failures,
      turnMs: latency(rounds.flatMap((r) => r.ms)),
    },
    floor: floorRounds,
    failureSamples,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const measuredAt = new Date().toISOString();
  const benchStarted = performance.now();
  const loadSamples: { phase: string; load: number[] }[] = [];
  const sampleLoad = (phase: string) => loadSamples.push({ phase, load: loadavg().map((l) => round(l, 2)) });
  sampleLoad('start');
  const machine = { description: machineDescription(), cores: cpus().length };

  const model = await startScriptedModel();
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-chat-'));
  const database = STORE === 'postgres' ? await createBenchDatabase('chat') : null;
  let stack: NodeProcess | null = null;
  let connection: Connection | null = null;
  let workerConnection: NativeConnection | null = null;
  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  const cleanup = async () => {
    worker?.shutdown();
    await workerRun?.catch(() => undefined);
    await workerConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stack?.stop();
    await model.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const stopOnInterrupt = onInterrupt(cleanup);
  // The script never runs dry: every request is answered by what it asks (tool call, then answer).
  const keepScripted = setInterval(() => {
    if (model.pending() < 500) model.script(...Array.from({ length: 1000 }, () => benchReply));
  }, 50);
  model.script(...Array.from({ length: 1000 }, () => benchReply));
  let turns: TurnsResult;
  let accept: AcceptResult;
  let concurrent: ConcurrentResult;
  const floorRuns = new Set<string>();
  try {
    const apiPort = await freePort();
    stack = await startStack({
      PORT: String(apiPort),
      INFRAAI_DATA_DIR: dataDir,
      // Empty means unset: the PGlite run must not pick up a DATABASE_URL from the environment.
      DATABASE_URL: database?.url ?? '',
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      INFRAAI_API_KEY: API_KEY,
      INFRAAI_LLM_PROVIDER: 'openai-compatible',
      INFRAAI_LLM_BASE_URL: model.openAiBaseUrl,
      INFRAAI_LLM_API_KEY: 'sk-bench-000000000000000000000000',
      INFRAAI_LLM_MODEL: 'scripted-gpt',
      INFRAAI_CHAT_RATE_PER_MINUTE: '0',
      INFRAAI_CHAT_TENANT_RATE_PER_MINUTE: '0',
    });
    const api = `http://127.0.0.1:${apiPort}`;
    const banner = /Temporal\s+(\S+)\s+namespace ([^,\s]+)/.exec(stack.output());
    if (!banner) throw new Error(`no Temporal address in the banner:\n${stack.output()}`);
    connection = await Connection.connect({ address: banner[1]! });
    const client = new Client({ connection, namespace: banner[2]! });
    workerConnection = await NativeConnection.connect({ address: banner[1]! });
    worker = await Worker.create({
      connection: workerConnection,
      namespace: banner[2]!,
      taskQueue: FLOOR_QUEUE,
      workflowsPath: fileURLToPath(new URL('./noop-workflows.ts', import.meta.url)),
      activities: { benchNoopActivity: async () => undefined },
    });
    workerRun = worker.run();
    const floor: Floor = {
      client,
      workflowId: (key) => {
        const id = `bench-chat-floor-${key}`;
        floorRuns.add(id);
        return id;
      },
    };
    const cmdb = await post(api, '/api/v1/cmdb', {
      tagId: HOST,
      hostname: `${HOST}.bench.internal`,
      address: '10.0.0.11',
      environment: 'production',
    });
    if (cmdb.status !== 201) throw new Error(`CMDB item not stored: ${cmdb.status} ${JSON.stringify(cmdb.body)}`);

    // Warm-up, not counted: the first turns (JIT, connections, the first workflow tasks) and the floor.
    await mapLimit([...Array(8).keys()], 2, async () => {
      let session: string | null = null;
      for (let i = 0; i < 3; i += 1) session = (await chatTurn(api, session, newMarker())).sessionId;
    });
    for (let i = 0; i < 10; i += 1) await floorUpdate(floor, 'warm-up', TURN_SHAPE);

    sampleLoad('turns');
    console.log(`2+3. ${TURNS} turns one at a time (overhead per model step, first token) …`);
    turns = await benchTurns(api, model.requests, floor);
    console.log(JSON.stringify({ ...turns, samples: undefined }));
    sampleLoad('messages');
    console.log(`1. ${MESSAGES} messages as jobs, ${MESSAGE_CLIENTS} clients …`);
    accept = await benchAccept(api, model.requests, floor);
    console.log(JSON.stringify(accept));
    sampleLoad('concurrent');
    console.log(`4. ${CONVERSATIONS} conversations at once, two turns each …`);
    concurrent = await benchConcurrent(api, floor);
    console.log(JSON.stringify(concurrent));
    sampleLoad('end');
    await Promise.all(
      [...floorRuns].map((id) =>
        client.workflow
          .getHandle(id)
          .signal(benchStopSignal)
          .catch(() => undefined),
      ),
    );
  } finally {
    clearInterval(keepScripted);
    stopOnInterrupt();
    await cleanup();
  }

  const benchSeconds = round((performance.now() - benchStarted) / 1000, 0);
  const ms = (v: number) => (Number.isNaN(v) ? '—' : `${round(v, 1)} ms`);
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : Number.NaN);
  const met = (ok: boolean) => (ok ? 'yes' : '**no**');
  const floorPerStep = turns.floorTurnMs.median / 2;
  const allFirstTokens = [...turns.samples.map((s) => s.firstTokenMs)].filter((v): v is number => v !== null);
  const latencyRow = (name: string, l: Latency, note: string) => [name, ms(l.median), ms(l.p90), ms(l.p99), ms(l.max), l.n, note];
  const loadNote = loadSamples.map((s) => `${s.phase} ${s.load.join(' ')}`).join('; ');
  const results = {
    targets: [
      {
        target: `message accepted (POST /chat/async → 202) p99 ≤ ${TARGETS.acceptedP99} ms`,
        measured: accept.accepted.p99,
        met: accept.accepted.p99 <= TARGETS.acceptedP99,
      },
      {
        target: `overhead per model step p50 ≤ ${TARGETS.stepOverheadP50} ms`,
        measured: turns.perStepOverheadMs.median,
        met: turns.perStepOverheadMs.median <= TARGETS.stepOverheadP50,
      },
      {
        target: `overhead per model step p99 ≤ ${TARGETS.stepOverheadP99} ms`,
        measured: turns.perStepOverheadMs.p99,
        met: turns.perStepOverheadMs.p99 <= TARGETS.stepOverheadP99,
      },
      {
        target: `first token model → SSE client p99 ≤ ${TARGETS.firstTokenP99} ms`,
        measured: turns.firstTokenMs.p99,
        met: turns.firstTokenMs.p99 <= TARGETS.firstTokenP99,
      },
      {
        target: `${CONVERSATIONS} conversations at once, two turns each: all complete`,
        measured: concurrent.total.failures,
        met: concurrent.total.failures === 0,
      },
    ],
  };
  await writeReport(
    'chat',
    {
      machine: { ...machine, loadAverage: loadSamples },
      measuredAt,
      benchSeconds,
      store: STORE,
      settings: {
        turns: TURNS,
        turnSessions: TURN_SESSIONS,
        messages: MESSAGES,
        messageSessions: MESSAGE_SESSIONS,
        messageClients: MESSAGE_CLIENTS,
        conversations: CONVERSATIONS,
        turnShape: TURN_SHAPE,
      },
      ...results,
      turns: { ...turns, samples: turns.samples },
      accept,
      concurrent,
      ratios: {
        acceptedMedianToFloor: ratio(accept.accepted.median, accept.floorAccept.median),
        acceptedP99ToFloor: ratio(accept.accepted.p99, accept.floorAccept.p99),
        turnMedianToFloorTurn: ratio(turns.turnZeroLatencyMs.median, turns.floorTurnMs.median),
        stepOverheadMedianToFloorStep: ratio(turns.perStepOverheadMs.median, floorPerStep),
        concurrentTurnsPerSecondToFloor: ratio(
          concurrent.total.turnsPerSecond,
          concurrent.floor.reduce((s, r) => s + r.turnsPerSecond, 0) / concurrent.floor.length,
        ),
      },
    },
    [
      {
        title: 'Targets (issue 12)',
        columns: ['target', 'measured', 'met?', 'Temporal alone, same run (baseline)'],
        rows: [
          [
            results.targets[0]!.target,
            ms(accept.accepted.p99),
            met(results.targets[0]!.met),
            `${ms(accept.floorAccept.p99)} (update-with-start, ACCEPTED)`,
          ],
          [
            results.targets[1]!.target,
            ms(turns.perStepOverheadMs.median),
            met(results.targets[1]!.met),
            `${ms(floorPerStep)} per step (half a no-op turn's median)`,
          ],
          [
            results.targets[2]!.target,
            ms(turns.perStepOverheadMs.p99),
            met(results.targets[2]!.met),
            `${ms(turns.floorTurnMs.p99 / 2)} per step (half a no-op turn's p99)`,
          ],
          [results.targets[3]!.target, ms(turns.firstTokenMs.p99), met(results.targets[3]!.met), '—'],
          [
            `… the same, ${MESSAGE_CLIENTS} turns at once (zero-latency model)`,
            ms(accept.firstTokenMs.p99),
            met(accept.firstTokenMs.p99 <= TARGETS.firstTokenP99),
            '—',
          ],
          [
            results.targets[4]!.target,
            `${concurrent.total.failures} failures of ${concurrent.total.turns}; ${concurrent.total.turnsPerSecond} turns/s`,
            met(results.targets[4]!.met),
            `${round(concurrent.floor.reduce((sum, r) => sum + r.turnsPerSecond, 0) / concurrent.floor.length, 1)} no-op turns/s`,
          ],
        ],
      },
      {
        title: `Message accepted: ${MESSAGES} messages over ${MESSAGE_SESSIONS} sessions, ${MESSAGE_CLIENTS} clients (each waits for its turn's end before its next)`,
        columns: ['path', 'median', 'p90', 'p99', 'max', 'n', 'note'],
        rows: [
          latencyRow(
            'POST /api/v1/chat/async → 202, all',
            accept.accepted,
            `${ratio(accept.accepted.median, accept.floorAccept.median)}× the floor's median`,
          ),
          latencyRow('… first message (session created, run started)', accept.acceptedFirst, ''),
          latencyRow('… to an open conversation', accept.acceptedOpen, ''),
          latencyRow(
            'baseline: update-with-start to a running no-op run, wait for ACCEPTED',
            accept.floorAccept,
            'the same call the API makes, Temporal alone',
          ),
          latencyRow(
            'turn: POST → turn.ended on the SSE client',
            accept.turnMs,
            `per-step overhead median ${ms(accept.perStepOverheadMs.median)}, p99 ${ms(accept.perStepOverheadMs.p99)}`,
          ),
          latencyRow('first token: model wrote it → SSE client read it', accept.firstTokenMs, `${MESSAGE_CLIENTS} turns at once`),
        ],
      },
      {
        title: `Turns one at a time: ${TURNS} turns of two model steps (knowledge search, model → cmdb_lookup, model → answer) over ${TURN_SESSIONS} sessions`,
        columns: ['measure', 'median', 'p90', 'p99', 'max', 'n', 'note'],
        rows: [
          latencyRow(
            'turn wall time (POST /api/v1/chat → 200), all',
            turns.turnMs,
            `half the turns with a model streaming for ~${round((ANSWER.split(' ').length + 2) * PACE_MS, -2)} ms`,
          ),
          latencyRow(
            '… the turns whose model answered at once',
            turns.turnZeroLatencyMs,
            `${ratio(turns.turnZeroLatencyMs.median, turns.floorTurnMs.median)}× the floor's turn`,
          ),
          latencyRow("model's own time (at the model server, both steps)", turns.modelMs, 'at once, or a word every 25 ms'),
          latencyRow("tools' own time (tool.started → tool.ended, stored)", turns.toolMs, 'knowledge_search + cmdb_lookup'),
          latencyRow(
            '**overhead per model step** (turn − model − tools) / 2',
            turns.perStepOverheadMs,
            `${ratio(turns.perStepOverheadMs.median, floorPerStep)}× the floor's per step (${ms(floorPerStep)})`,
          ),
          latencyRow('**first token**: model wrote it → SSE client read it, all', turns.firstTokenMs, `${allFirstTokens.length} turns`),
          latencyRow('… zero-latency model (the whole answer at once)', turns.firstTokenZeroLatencyMs, 'the answer arrives in one piece'),
          latencyRow(
            `… model streaming a word every ${PACE_MS} ms`,
            turns.firstTokenPacedMs,
            'the first delta written at once, later ones in ~40 ms batches',
          ),
          latencyRow(
            `baseline: update on a running no-op run with no-op steps in sequence (${TURN_SHAPE_TEXT})`,
            turns.floorTurnMs,
            "a turn's shape on Temporal alone",
          ),
          latencyRow('baseline: update on a running no-op run, no activity', turns.floorUpdateMs, "Temporal's update round-trip"),
        ],
      },
      {
        title: 'Where a turn’s time goes inside Temporal (medians over the histories of the sessions above)',
        columns: ['run', 'step', 'n', 'scheduled → started', 'started → completed', 'scheduled → completed'],
        rows: [
          ...Object.entries(turns.profile.chat.activities).map(([name, a]) => [
            'chat',
            `activity ${name}`,
            a.n,
            ms(a.scheduleToStartMs),
            ms(a.runMs),
            ms(a.scheduledToCompletedMs),
          ]),
          [
            'chat',
            'workflow task',
            turns.profile.chat.workflowTasks.n,
            ms(turns.profile.chat.workflowTasks.scheduleToStartMs),
            ms(turns.profile.chat.workflowTasks.runMs),
            '',
          ],
          ...Object.entries(turns.profile.floor.activities).map(([name, a]) => [
            'baseline',
            `activity ${name}`,
            a.n,
            ms(a.scheduleToStartMs),
            ms(a.runMs),
            ms(a.scheduledToCompletedMs),
          ]),
          [
            'baseline',
            'workflow task',
            turns.profile.floor.workflowTasks.n,
            ms(turns.profile.floor.workflowTasks.scheduleToStartMs),
            ms(turns.profile.floor.workflowTasks.runMs),
            '',
          ],
        ],
      },
      {
        title: `${CONVERSATIONS} conversations at once (POST /api/v1/chat, each waits for its answer), two turns each`,
        columns: [
          'round',
          'wall',
          'turns/s',
          'turn p50',
          'turn p99',
          'failures',
          `baseline: ${CONVERSATIONS} no-op updates of the turn's shape at once`,
        ],
        rows: [
          ...concurrent.rounds.map((r, i) => [
            i === 0 ? 'first turns (sessions created, runs started)' : 'second turns',
            `${r.wallSeconds} s`,
            r.turnsPerSecond,
            ms(r.turnMs.median),
            ms(r.turnMs.p99),
            r.failures,
            `${concurrent.floor[i]!.wallSeconds} s, ${concurrent.floor[i]!.turnsPerSecond}/s, p50 ${ms(concurrent.floor[i]!.turnMs.median)}`,
          ]),
          [
            '**both**',
            `${concurrent.total.wallSeconds} s`,
            concurrent.total.turnsPerSecond,
            ms(concurrent.total.turnMs.median),
            ms(concurrent.total.turnMs.p99),
            concurrent.total.failures,
            '',
          ],
        ],
      },
    ],
    [
      `Cores ${machine.cores}; load average (1/5/15 min) at each phase: ${loadNote}; the benchmark took ${benchSeconds} s.`,
      `The stack is \`npm start\` (Temporal dev server, the API and the worker in one process) on ${STORE === 'postgres' ? 'PostgreSQL (a fresh database; run events over LISTEN/NOTIFY)' : 'PGlite (run events in memory)'}, its LLM adapter (OpenAI protocol, streaming) pointed at test/support/scripted-model.ts in the benchmark's process: no delay, a tool call then a ${ANSWER.split(' ').length + 2}-word answer streamed a word a chunk.`,
      'Overhead per model step = (turn wall time − the model server’s time from request read to response end − the stored tool.started → tool.ended spans) / model steps; the tool spans include storing each result, so they are counted as the tools’ and not as overhead.',
      'First token: the model server’s wall clock when it wrote the answer’s first chunk against the SSE client’s when its first `token` event arrived (both in this process, one clock). Tokens are written to the store, the first delta at once and later ones in ~40 ms batches (activities/chat/events.ts), and announced on the bus; the SSE route reads the store after the notice.',
      `Baselines: a worker in this process runs bench/noop-workflows.ts (\`benchUpdatable\`): the same update-with-start the API makes (USE_EXISTING), answering at once or after no-op steps in the shape of a chat turn (${TURN_SHAPE_TEXT}: model step 1 with the turn's opening, cmdb_lookup as a local activity, model step 2 with the turn's end); measured interleaved with the chat requests. The floor per model step is half the floor's turn.`,
      'Where the time goes: from the Temporal histories of the sessions of the one-at-a-time turns and of their baseline runs. The dev server dates an activity’s started event with its schedule time here (0 ms), so read scheduled → completed (queueing, the activity’s code and the completion round-trip); a workflow task’s run is the worker’s round-trip with the workflow code.',
      ...provenance('npm run bench:chat', measuredAt),
    ],
    { readmeSection: 'chat' },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
