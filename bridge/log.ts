// The bridge's log: one JSON object per line (time, level, message, and the fields that identify what
// it is about: message id, event id and type, workflow id, reason). Never a message body, never a
// credential: an event is named by its id and type only.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type BridgeLog = (level: LogLevel, msg: string, fields?: LogFields) => void;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Lines at `minLevel` and above: info and debug to stdout, warn and error to stderr. */
export function jsonLog(
  minLevel: LogLevel,
  write: (level: LogLevel, line: string) => void = (level, line) => (RANK[level] >= RANK.warn ? console.error(line) : console.log(line)),
): BridgeLog {
  return (level, msg, fields = {}) => {
    if (RANK[level] < RANK[minLevel]) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, component: 'bridge', msg };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) entry[key] = value;
    write(level, JSON.stringify(entry));
  };
}

/** An error as one bounded line (its cause appended), for a log field. */
export function errorText(err: unknown, max = 500): string {
  const message = err instanceof Error ? (err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message) : String(err);
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
