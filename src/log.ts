import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * One JSON object per line on stdout (stderr for warn/error). Callers pass only fields
 * meant to be logged: this logger never receives bodies, Authorization headers or tokens.
 */
export function createLogger(level: LogLevel, write: (line: string, isError: boolean) => void = defaultWrite): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    write(JSON.stringify({ time: isoNow(), level: lvl, msg, ...fields }), RANK[lvl] >= RANK.warn);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** The current time as an ISO string, formatted once per millisecond (a loaded server logs many lines per ms). */
let lastMs = -1;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(line + '\n');
}

export const silentLogger: Logger = createLogger('silent');

/**
 * Error fields safe to log: name, a code, the message and the stack frames, nothing else
 * attached to the error object (pg's `detail` quotes row values: "Key (email)=(…)").
 * Database errors never carry bound values (knex runs with compileSqlOnError: false); the
 * messages PostgreSQL writes about a bad value (data exceptions, SQLSTATE class 22) quote
 * it, so the quoted part is cut. The stack is logged without its first line, which repeats
 * the message as it was when the stack was first read. The cause chain is followed.
 */
export function errorFields(err: unknown): LogFields {
  return { err: safeError(err, 0) };
}

function safeError(err: unknown, depth: number): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? err : typeof err;
  const code = (err as { code?: unknown }).code;
  const out: Record<string, unknown> = { name: err.name, message: safeMessage(err.message, code) };
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) out.code = code;
  const frames = err.stack?.split('\n').filter((line) => /^\s+at /.test(line));
  if (frames !== undefined && frames.length > 0) out.stack = frames.join('\n');
  if (err.cause !== undefined && depth < 3) out.cause = safeError(err.cause, depth + 1);
  return out;
}

function safeMessage(message: string, code: unknown): string {
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return message.replace(/(: |\bvalue ).*$/s, '$1[value withheld]');
  return message;
}
