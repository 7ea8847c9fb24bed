import { createRequire } from 'node:module';
import type { Config } from '../config.ts';
import { loadNodemailer } from '../mail/outbox-mailer.ts';

/**
 * Issue 20 ("start fails fast and says why"): before the server listens, every dependency it
 * was configured with is reached: the database (PostgreSQL; SQLite is a local file, opened by
 * createApp), Redis (RATE_LIMIT_STORE=redis) and the SMTP relay (SMTP_URL). A dependency
 * that is not there yet (connection refused, timeout, DNS) is tried again until
 * STARTUP_TIMEOUT_SECONDS have passed, so a server started together with its database waits
 * for it; a refusal that waiting cannot fix (wrong password, unknown database) fails at once.
 * Either way the server exits with ONE line: the cause, the variable to fix, its URL with
 * the password masked.
 */
export class StartupError extends Error {
  /** `unreachable`: the dependency never answered (as opposed to answering with a refusal). */
  constructor(message: string, readonly unreachable = false) {
    super(message);
    this.name = 'StartupError';
  }
}

/** The URL with its password replaced by `***` (never print a configured URL unmasked). */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

const RETRY_PAUSE_MS = 250;

type Deps = Pick<Config, 'database' | 'rateLimitStore' | 'redisUrl' | 'smtpUrl' | 'smtpRequireTls' | 'smtpRequiredAtStart' | 'startupTimeoutSeconds'>;

/**
 * Reaches each configured dependency; throws a StartupError saying what to fix. Returns the
 * warnings to print: an unreachable SMTP relay when SMTP_REQUIRED_AT_START is false (tried
 * once, not waited for; a relay that answers and refuses the login still stops the start).
 */
export async function checkDependencies(config: Deps): Promise<string[]> {
  const waitMs = config.startupTimeoutSeconds * 1000;
  const warnings: string[] = [];
  const checks: Promise<void>[] = [];
  if (config.database.client === 'pg') checks.push(checkPostgres(config.database.connectionString, waitMs));
  if (config.rateLimitStore === 'redis' && config.redisUrl !== undefined) checks.push(checkRedis(config.redisUrl, waitMs));
  if (config.smtpUrl !== undefined) {
    const smtp = checkSmtp(config.smtpUrl, config.smtpRequireTls, config.smtpRequiredAtStart ? waitMs : 0);
    checks.push(
      config.smtpRequiredAtStart
        ? smtp
        : smtp.catch((err: unknown) => {
            if (!(err instanceof StartupError) || !err.unreachable) throw err;
            warnings.push(`${err.message}; starting anyway (SMTP_REQUIRED_AT_START=false): reset mail fails until the relay answers`);
          }),
    );
  }
  // In parallel (the wait is bounded once, not once per dependency); the first failure in
  // configuration order is the one reported.
  const results = await Promise.allSettled(checks);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return warnings;
}

/** A refusal that will not go away by waiting: the message says what to fix. */
class Refused extends Error {}

/**
 * Runs `attempt` (given the milliseconds left) until it succeeds, a Refused error, or the
 * wait is spent; then throws a StartupError built by `unreachable` from the last error.
 */
async function reach(waitMs: number, attempt: (leftMs: number) => Promise<void>, unreachable: (cause: string) => string, secret: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      // Each attempt may take a second even when the wait is shorter (or 0: one attempt).
      await attempt(Math.max(1000, deadline - Date.now()));
      return;
    } catch (err) {
      if (err instanceof Refused) throw new StartupError(scrub(err.message, secret));
      if (Date.now() + RETRY_PAUSE_MS >= deadline) throw new StartupError(scrub(unreachable(causeOf(err)), secret), true);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
}

/** One line for an error: its message, else its code, else its first inner error's. */
export function causeOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown } | null;
  if (e === null || typeof e !== 'object') return String(err);
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? causeOf(e.errors[0]) : '';
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.trim() : '';
  const text = message !== '' ? message : inner !== '' ? inner : typeof e.code === 'string' ? e.code : String(err);
  return text.replace(/\.$/, '');
}

/** A library message never holds the password; this makes sure of it. */
function scrub(line: string, secret: string): string {
  return secret.length >= 3 ? line.split(secret).join('***') : line;
}

function passwordOf(raw: string): string {
  try {
    return decodeURIComponent(new URL(raw).password);
  } catch {
    return '';
  }
}

const waitHint = (s: number) => `within ${s} s`;

/** PostgreSQL SQLSTATEs that waiting may cure (starting up, too many connections, shutting down). */
const PG_TRANSIENT = new Set(['57P01', '57P02', '57P03', '53300']);

export async function checkPostgres(connectionString: string, waitMs: number): Promise<void> {
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  const masked = maskUrl(connectionString);
  await reach(
    waitMs,
    async (leftMs) => {
      const client = new pg.Client({ connectionString, connectionTimeoutMillis: leftMs, query_timeout: leftMs });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('select 1');
      } catch (err) {
        const e = err as { code?: string; severity?: string; message?: string };
        if (e.code === '28P01' || e.code === '28000') {
          throw new Refused(`the database refused the login: ${causeOf(err)} — fix the user name or password in DATABASE_URL (${masked})`);
        }
        if (e.code === '3D000') {
          throw new Refused(`${causeOf(err)} — create it (createdb) or fix the database name in DATABASE_URL (${masked})`);
        }
        if (typeof e.severity === 'string' && e.code !== undefined && !PG_TRANSIENT.has(e.code)) {
          throw new Refused(`the database refused the connection: ${causeOf(err)} (SQLSTATE ${e.code}) — check DATABASE_URL (${masked})`);
        }
        throw err;
      } finally {
        await client.end().catch(() => {});
      }
    },
    (cause) => `cannot reach the database at ${masked} (DATABASE_URL) ${waitHint(waitMs / 1000)}: ${cause} — start PostgreSQL or fix the host and port; STARTUP_TIMEOUT_SECONDS sets the wait`,
    passwordOf(connectionString),
  );
}

export async function checkRedis(url: string, waitMs: number): Promise<void> {
  const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const masked = maskUrl(url);
  await reach(
    waitMs,
    async (leftMs) => {
      const redis = new Redis(url, {
        lazyConnect: true,
        connectTimeout: leftMs,
        commandTimeout: leftMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null, // this function retries, not ioredis
      });
      let lastError: unknown;
      redis.on('error', (err) => (lastError = err));
      try {
        await redis.connect();
        await redis.ping();
      } catch (err) {
        const cause = lastError ?? err;
        if (/WRONGPASS|NOAUTH|invalid (username|password)|NOPERM/i.test(causeOf(cause))) {
          throw new Refused(`Redis refused the login: ${causeOf(cause)} — fix the user name or password in REDIS_URL (${masked})`);
        }
        throw cause;
      } finally {
        redis.disconnect();
      }
    },
    (cause) => `cannot reach Redis at ${masked} (REDIS_URL) ${waitHint(waitMs / 1000)}: ${cause} — start Redis or fix REDIS_URL; STARTUP_TIMEOUT_SECONDS sets the wait`,
    passwordOf(url),
  );
}

export async function checkSmtp(url: string, requireTls: boolean, waitMs: number): Promise<void> {
  const masked = maskUrl(url);
  await reach(
    waitMs,
    async (leftMs) => {
      const transport = loadNodemailer().createTransport({ url, requireTLS: requireTls, connectionTimeout: leftMs, greetingTimeout: leftMs, socketTimeout: leftMs });
      try {
        await transport.verify();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EAUTH' || code === 'ENOAUTH') {
          throw new Refused(`the mail relay refused the login: ${causeOf(err)} — fix the user name or password in SMTP_URL (${masked})`);
        }
        if (code === 'ETLS' || /STARTTLS/i.test(causeOf(err))) {
          throw new Refused(
            `the mail relay at ${masked} (SMTP_URL) cannot secure the connection: ${causeOf(err)} — use smtps:// or a relay with STARTTLS (SMTP_ALLOW_PLAINTEXT=true accepts plain text)`,
          );
        }
        throw err;
      } finally {
        transport.close();
      }
    },
    (cause) =>
      waitMs === 0
        ? `cannot reach the mail relay at ${masked} (SMTP_URL): ${cause}`
        : `cannot reach the mail relay at ${masked} (SMTP_URL) ${waitHint(waitMs / 1000)}: ${cause} — start the relay or fix SMTP_URL; STARTUP_TIMEOUT_SECONDS sets the wait (SMTP_REQUIRED_AT_START=false starts without it)`,
    passwordOf(url),
  );
}
