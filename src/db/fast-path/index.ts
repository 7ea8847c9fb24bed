import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import type { DatabaseConfig } from '../../config.ts';
import { selectRows } from '../raw-rows.ts';

/**
 * The per-request lookups of authentication, each ONE query, without knex in the way:
 * - SQLite (better-sqlite3 is synchronous): prepared statements run directly, no pool hop.
 *   A file database gets its own read-only connection (WAL: it sees exactly what is
 *   committed, as every other process on the file does); `:memory:` exists only inside
 *   knex's single connection, so the statements are prepared on that one.
 * - PostgreSQL: one named (server-side prepared) statement per pooled connection.
 * Nothing is cached between requests: every request reads the session, key and user rows
 * as they are now, so a revocation committed by any instance holds on the next request.
 */
export interface FastPath {
  /** The profile columns (PROFILE_COLUMNS) of the active user of a live session (exists, this user's, not revoked, not expired). */
  sessionUser(sessionId: string, userId: string, now: number): Promise<Record<string, unknown> | undefined>;
  /** An unrevoked key of an active user, by its SHA-256: the key's columns (`ak_*`) and the user's profile columns. */
  apiKeyUser(keyHash: string): Promise<ApiKeyUserRow | undefined>;
  close(): void;
}

export type ApiKeyUserRow = Record<string, unknown> & {
  ak_id: string;
  ak_key_hash: string;
  ak_last_used_at: unknown;
  /** Comma-separated project ids in the key's scope ('' or null: none). */
  ak_project_ids: string | null;
};

/**
 * The owner's public profile (what GET /users/me answers), not `users.*`: half the work per
 * lookup, and no password hash or TOTP secret is read into memory on every request.
 */
export const PROFILE_COLUMNS = ['id', 'email', 'full_name', 'company_name', 'phone', 'is_active', 'totp_enabled', 'created_at'] as const;
const PROFILE = PROFILE_COLUMNS.map((c) => `users.${c}`).join(', ');

const SESSION_USER = `SELECT ${PROFILE} FROM sessions JOIN users ON users.id = sessions.user_id
  WHERE sessions.id = ? AND sessions.user_id = ? AND sessions.revoked_at IS NULL AND sessions.expires_at > ?
  AND users.is_active = ?`;

const apiKeyUserSql = (aggregate: string) => `SELECT api_keys.id AS ak_id, api_keys.key_hash AS ak_key_hash,
  api_keys.last_used_at AS ak_last_used_at,
  (SELECT ${aggregate} FROM api_key_projects WHERE api_key_projects.api_key_id = api_keys.id) AS ak_project_ids, ${PROFILE}
  FROM api_keys JOIN users ON users.id = api_keys.user_id
  WHERE api_keys.key_hash = ? AND api_keys.revoked_at IS NULL AND users.is_active = ?`;
const API_KEY_USER_SQLITE = apiKeyUserSql('group_concat(project_id)');
const API_KEY_USER_PG = apiKeyUserSql("string_agg(project_id, ',')");

/** `?` → `$1, $2…` (the statements above contain no other question marks). */
const numbered = (sql: string): string => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

type Statement = { get(...params: unknown[]): unknown };
type SqliteConnection = { prepare(sql: string): Statement; open: boolean };

/** knex's one better-sqlite3 connection, registered by connectDatabase (src/db/connect.ts). */
const knexSqliteConnections = new WeakMap<Knex, () => SqliteConnection | undefined>();
export function registerSqliteConnection(db: Knex, current: () => SqliteConnection | undefined): void {
  knexSqliteConnections.set(db, current);
}

const fastPaths = new WeakMap<Knex, FastPath>();

/** One per knex instance, built on first use (after migrations) and closed with it. */
export function fastPathOf(db: Knex, database: DatabaseConfig): FastPath {
  let fp = fastPaths.get(db);
  if (fp === undefined) {
    fp = database.client === 'pg' ? pgFastPath(db) : sqliteFastPath(db, database.filename);
    fastPaths.set(db, fp);
  }
  return fp;
}

export function closeFastPath(db: Knex): void {
  fastPaths.get(db)?.close();
  fastPaths.delete(db);
}

function sqliteFastPath(db: Knex, filename: string): FastPath {
  let own: Database.Database | undefined;
  if (filename !== ':memory:') {
    own = new Database(filename, { readonly: true, fileMustExist: true });
    own.pragma('busy_timeout = 5000');
  }
  // Statements belong to a connection: prepare again if knex ever replaced its connection.
  let preparedOn: SqliteConnection | undefined;
  let sessionUser: Statement | undefined;
  let apiKeyUser: Statement | undefined;
  const statements = (): { sessionUser: Statement; apiKeyUser: Statement } | undefined => {
    const conn = (own as unknown as SqliteConnection | undefined) ?? knexSqliteConnections.get(db)?.();
    if (conn === undefined || !conn.open) return undefined;
    if (conn !== preparedOn || sessionUser === undefined || apiKeyUser === undefined) {
      sessionUser = conn.prepare(SESSION_USER);
      apiKeyUser = conn.prepare(API_KEY_USER_SQLITE);
      preparedOn = conn;
    }
    return { sessionUser, apiKeyUser };
  };
  return {
    async sessionUser(sessionId, userId, now) {
      const s = statements();
      if (s === undefined) return (await selectRows<Record<string, unknown>>(db, SESSION_USER, [sessionId, userId, now, 1]))[0];
      return s.sessionUser.get(sessionId, userId, now, 1) as Record<string, unknown> | undefined;
    },
    async apiKeyUser(keyHash) {
      const s = statements();
      if (s === undefined) return (await selectRows<ApiKeyUserRow>(db, API_KEY_USER_SQLITE, [keyHash, 1]))[0];
      return s.apiKeyUser.get(keyHash, 1) as ApiKeyUserRow | undefined;
    },
    close() {
      own?.close();
    },
  };
}

interface PgClient {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}
interface KnexClientInternals {
  acquireConnection(): Promise<PgClient>;
  releaseConnection(conn: PgClient): Promise<unknown>;
}

/**
 * The first row of a named (server-side prepared) statement on one of knex's pooled PostgreSQL
 * connections: one round trip, no query builder, no parse/plan on the server after the first
 * use per connection. `text` uses `?` placeholders (no other question marks).
 */
export async function pgNamedRow<T>(db: Knex, name: string, text: string, values: unknown[]): Promise<T | undefined> {
  const client = db.client as unknown as KnexClientInternals;
  const conn = await client.acquireConnection();
  try {
    return (await conn.query({ name, text: numberedOnce(text), values })).rows[0] as T | undefined;
  } finally {
    await client.releaseConnection(conn);
  }
}

const numberedTexts = new Map<string, string>();
function numberedOnce(sql: string): string {
  let text = numberedTexts.get(sql);
  if (text === undefined) numberedTexts.set(sql, (text = numbered(sql)));
  return text;
}

function pgFastPath(db: Knex): FastPath {
  const one = <T>(name: string, text: string, values: unknown[]): Promise<T | undefined> => pgNamedRow<T>(db, name, text, values);
  const sessionUserText = SESSION_USER;
  const apiKeyUserText = API_KEY_USER_PG;
  return {
    sessionUser: (sessionId, userId, now) => one('qz_session_user', sessionUserText, [sessionId, userId, now, true]),
    apiKeyUser: (keyHash) => one('qz_api_key_user', apiKeyUserText, [keyHash, true]),
    close() {},
  };
}
