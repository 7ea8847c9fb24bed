import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import knex from 'knex';
import { createApp, type BuiltApp } from '../src/app.ts';
import { ShiftableClock } from '../src/clock.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { AppDeps } from '../src/deps.ts';
import { MemoryMailer } from '../src/mail/memory-mailer.ts';

/** Environment of every test app: fast scrypt, fixed secrets, silent logs, responses checked. */
export function testEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: 'sqlite::memory:',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef-0123456789abcdef',
    DATA_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    SCRYPT_LOG_N: '10',
    LOG_LEVEL: 'silent',
    VALIDATE_RESPONSES: 'true',
    // Tests that fire many hashes at once measure correctness, not overload: a deep queue
    // (tests of the 503 fill it on purpose, src/hashing/test-support.ts).
    HASH_QUEUE_MAX: '10000',
    PUBLIC_URL: 'http://localhost:3000',
    ...extra,
  };
}

export interface TestResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON (incl. problem+json), else the text ('' when empty). */
  body: any;
}

export interface RequestOptions {
  method?: string;
  /** Serialised as JSON with Content-Type: application/json unless `raw` is given. */
  json?: unknown;
  raw?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
}

export type Requester = (path: string, opts?: RequestOptions) => Promise<TestResponse>;

export interface TestApp {
  request: Requester;
  deps: AppDeps;
  clock: ShiftableClock;
  mailer: MemoryMailer;
  built: BuiltApp;
  baseUrl: string;
  /** Statuses answered so far, by "METHOD /path" (path without query string). */
  seen: Map<string, Set<number>>;
  close(): Promise<void>;
}

export interface BuildOptions {
  env?: Record<string, string | undefined>;
  /** Applied after loadConfig: for knobs that are not environment variables. */
  config?: Partial<Config>;
  /** Serve the dashboard from this directory (a test's own build) instead of dist/dashboard. */
  dashboardDir?: string;
}

/**
 * A fresh app on a fresh database (in-memory SQLite; a fresh PostgreSQL schema when
 * `usePostgres` and TEST_DATABASE_URL is set), listening on 127.0.0.1:0. Every answer is
 * checked against the contract by the app itself; a violation makes `request` throw.
 */
export async function buildTestApp(opts: BuildOptions & { usePostgres?: boolean } = {}): Promise<TestApp> {
  let dropSchema: (() => Promise<void>) | undefined;
  const env = testEnv(opts.env);
  if (opts.usePostgres === true) {
    const base = process.env.TEST_DATABASE_URL;
    if (base === undefined) throw new Error('usePostgres needs TEST_DATABASE_URL');
    const schema = `t_${randomUUID().replace(/-/g, '')}`;
    const admin = knex({ client: 'pg', connection: base });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    env.DATABASE_URL = url.toString();
    dropSchema = async () => {
      const a = knex({ client: 'pg', connection: base });
      await a.raw(`drop schema "${schema}" cascade`);
      await a.destroy();
    };
  }
  const config = { ...loadConfig(env), ...opts.config };
  const clock = new ShiftableClock();
  const mailer = new MemoryMailer();
  const built = await createApp({ config, clock, mailer, dashboardDir: opts.dashboardDir });
  const server: Server = createServer(built.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const seen = new Map<string, Set<number>>();
  const request: Requester = async (path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    let body: string | Buffer | undefined = o.raw;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] ??= 'application/json';
    }
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    const res = await fetch(baseUrl + path, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    const text = await res.text();
    const seenKey = `${(o.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()} ${path.split('?')[0]}`;
    if (!seen.has(seenKey)) seen.set(seenKey, new Set());
    seen.get(seenKey)?.add(res.status);
    if (res.headers.get('x-contract-violation') === 'true') {
      throw new Error(`contract violation on ${o.method ?? 'GET'} ${path}: ${text}`);
    }
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, headers: res.headers, body: /json/.test(type) && text !== '' ? JSON.parse(text) : text };
  };

  return {
    request,
    deps: built.deps,
    clock,
    mailer,
    built,
    baseUrl,
    seen,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await built.close();
      await dropSchema?.();
    },
  };
}

export interface RegisteredUser {
  id: string;
  email: string;
  password: string;
  full_name: string;
}

let counter = 0;

/** A unique address per call, so tests in one file never collide. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${counter}.${randomBytes(3).toString('hex')}@example.com`;
}

export const STRONG_PASSWORD = 'secure-password-123';

/** Registers through the API (201 expected). Mind the register budget: 5 per minute per IP. */
export async function registerUser(
  t: Pick<TestApp, 'request'>,
  over: Partial<{ email: string; password: string; full_name: string; company_name: string }> = {},
): Promise<RegisteredUser> {
  const body = { email: over.email ?? uniqueEmail(), password: over.password ?? STRONG_PASSWORD, full_name: over.full_name ?? 'Jane Developer', ...over };
  const res = await t.request('/auth/register', { json: body });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, email: body.email, password: body.password, full_name: body.full_name };
}

/** Logs in through the API (200 expected) and returns the access token. */
export async function loginUser(t: Pick<TestApp, 'request'>, user: { email: string; password: string }, totp_code?: string): Promise<string> {
  const res = await t.request('/auth/login', { json: { email: user.email, password: user.password, ...(totp_code ? { totp_code } : {}) } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** Registers and logs in; clears the client's ip budgets afterwards so tests can repeat it. */
export async function newSession(t: TestApp, over: Parameters<typeof registerUser>[1] = {}): Promise<{ user: RegisteredUser; token: string }> {
  const user = await registerUser(t, over);
  const token = await loginUser(t, user);
  await t.deps.limiter.reset('ip|');
  return { user, token };
}

/** The statuses the contract documents for an operation (sorted). */
export function documentedStatuses(t: Pick<TestApp, 'deps'>, operationId: string): number[] {
  const op = t.deps.contract.operation(operationId);
  return Object.keys((op.raw.responses ?? {}) as object).map(Number).sort((a, b) => a - b);
}

/** Documented statuses of `operationId` that no request in this file has produced yet. */
export function untestedStatuses(t: Pick<TestApp, 'deps' | 'seen'>, operationId: string, concretePath?: string): number[] {
  const op = t.deps.contract.operation(operationId);
  const seen = t.seen.get(`${op.method.toUpperCase()} ${concretePath ?? op.path}`) ?? new Set<number>();
  return documentedStatuses(t, operationId).filter((s) => !seen.has(s));
}

/** A body just over the contract's request body limit. */
export function oversizedJson(t: Pick<TestApp, 'deps'>): string {
  return JSON.stringify({ padding: 'x'.repeat(t.deps.contract.bodyLimitBytes) });
}
