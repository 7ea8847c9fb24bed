import { Problem } from './problem.ts';

/** Seconds a client is told to wait when a dependency (database, Redis) is away. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * A dependency the server needs cannot be reached right now; answered as 503. The message
 * names the dependency ("the rate-limit store (Redis) cannot be reached") and becomes the
 * public `detail` (issue 20): no host, URL or driver text in it.
 */
export class ServiceUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ServiceUnavailableError';
  }
}

/** Node socket errors that mean "the peer is not there (now)". */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

/** PostgreSQL SQLSTATEs of a server that is going away, starting, overloaded or cancelling. */
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '40001', '40P01']);

/** pg / knex / tarn messages of a lost or impossible connection (they carry no code). */
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /Timeout acquiring a connection/i,
  /Query read timeout/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Connection ended unexpectedly/i,
  /database is locked/i, // SQLite: busy_timeout spent
];

/**
 * True when `err` (or its cause) means a dependency is unreachable or overloaded, so the
 * client should retry later (503), as opposed to a bug (500).
 */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (err instanceof ServiceUnavailableError || e.name === 'KnexTimeoutError') return true;
  if (typeof e.code === 'string') {
    if (SOCKET_CODES.has(e.code) || PG_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code) || e.code === 'SQLITE_BUSY') return true;
  }
  if (typeof e.message === 'string' && MESSAGES.some((re) => re.test(e.message as string))) return true;
  // AggregateError (e.g. a host with IPv4 and IPv6 addresses, both refused).
  if (Array.isArray(e.errors) && e.errors.some((x) => isUnavailable(x, depth + 1))) return true;
  return isUnavailable(e.cause, depth + 1);
}

/** The ServiceUnavailableError in `err`'s cause chain, if any. */
function namedUnavailable(err: unknown, depth = 0): ServiceUnavailableError | undefined {
  if (err instanceof ServiceUnavailableError) return err;
  if (err === null || typeof err !== 'object' || depth > 4) return undefined;
  return namedUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

/**
 * The 503 for an error isUnavailable() accepted, naming the dependency: the one a
 * ServiceUnavailableError names, else the database (driver errors come from it).
 */
export function unavailableProblemFor(err: unknown): Problem {
  const named = namedUnavailable(err);
  if (named === undefined) return unavailableProblem();
  const what = named.message.replace(/\.$/, '');
  return unavailableProblem(`${what.charAt(0).toUpperCase()}${what.slice(1)} right now; retry later.`);
}

export function unavailableProblem(detail = 'The database cannot be reached right now; retry later.'): Problem {
  return new Problem(503, 'service_unavailable', detail, { headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } });
}
