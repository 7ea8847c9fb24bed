import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linksInMail, startMailSink, type SmtpSink } from '../../conformance/lib/smtp-sink.ts';
import { runConformance } from '../../conformance/run.ts';
import { loadContract } from '../../src/contract.ts';
import { freePort, freshSchema, sharedSecrets, startServer, type ServerProcess } from './services.ts';

// Two real reference-server processes (separate PIDs, ports, pools and clocks) on one
// PostgreSQL schema, with the database rate-limit store: whatever one instance revokes,
// spends or counts, the other sees at once. Then the conformance suite runs against each
// instance while the other serves background traffic.

const pgUrl = process.env.TEST_DATABASE_URL;
const contract = loadContract();
const PASSWORD = 'two-instances-password-123';
/**
 * The areas whose state crosses instances (accounts, sessions, TOTP, reset tokens, keys,
 * access). A full run of every area against each instance takes about a minute each on a
 * loaded 2-core machine, too long for `npm test`: QUAZZAR_SCALE_FULL_CONFORMANCE=1 runs it.
 * The rate limits across instances are proven by the budget tests above.
 */
const FULL = process.env.QUAZZAR_SCALE_FULL_CONFORMANCE === '1';
const AREAS = { A: ['accounts', 'login', 'sessions', 'users', 'totp', 'password-reset', 'api-keys', 'access'], B: ['login', 'sessions', 'totp', 'password-reset'] };

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

describe.skipIf(pgUrl === undefined)(`two server processes on one PostgreSQL${pgUrl === undefined ? ' (skipped: set TEST_DATABASE_URL=postgres://… to run it)' : ''}`, () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let sink: SmtpSink | undefined;
  let smtpPort: number;
  let dropSchema: () => Promise<void>;
  let schemaUrl: string;
  const harnessToken = randomBytes(24).toString('base64url');
  let ipCounter = 1;
  /** A fresh client address per call (TRUST_PROXY=true): per-IP budgets never bind by accident. */
  const ip = () => `198.51.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`;

  const call = async (server: ServerProcess, method: string, path: string, opts: { json?: unknown; token?: string; ip?: string } = {}): Promise<Res> => {
    const headers: Record<string, string> = { 'x-forwarded-for': opts.ip ?? ip() };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(server.url + path, { method, headers, body: opts.json === undefined ? undefined : JSON.stringify(opts.json) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const register = async (server: ServerProcess, tag: string): Promise<string> => {
    const email = `two-${tag}-${randomBytes(4).toString('hex')}@example.com`;
    expect((await call(server, 'POST', '/auth/register', { json: { email, password: PASSWORD, full_name: 'Two Instances' } })).status).toBe(201);
    return email;
  };
  const login = async (server: ServerProcess, email: string, extra: Record<string, string> = {}, password = PASSWORD) =>
    call(server, 'POST', '/auth/login', { json: { email, password, ...extra } });
  const token = async (server: ServerProcess, email: string): Promise<string> => {
    const res = await login(server, email);
    expect(res.status).toBe(200);
    return res.body.access_token;
  };

  beforeAll(async () => {
    const schema = await freshSchema(pgUrl!, 'two');
    dropSchema = schema.drop;
    schemaUrl = schema.url;
    smtpPort = await freePort();
    sink = await startMailSink({ host: '127.0.0.1', port: smtpPort });
    const env = {
      DATABASE_URL: schema.url,
      RATE_LIMIT_STORE: 'database',
      TRUST_PROXY: 'true',
      CLIENT_IP_HEADER: 'x-forwarded-for',
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PUBLIC_URL: 'https://public.quazzar.test',
      HARNESS_TOKEN: harnessToken,
      ...sharedSecrets(),
    };
    // Both start at once, as in a rolling deployment: both run the migrations.
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
    console.log(`instance A: pid ${a.pid}, ${a.url}; instance B: pid ${b.pid}, ${b.url}; one PostgreSQL schema, RATE_LIMIT_STORE=database`);
  }, 60_000);

  afterAll(async () => {
    await sink?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await dropSchema?.();
  });

  it('runs as two processes with their own PIDs and ports', () => {
    expect(a.pid).not.toBe(b.pid);
    expect(a.port).not.toBe(b.port);
  });

  it('a logout on A is refused on B at once', async () => {
    const email = await register(a, 'logout');
    const t = await token(a, email);
    expect((await call(b, 'GET', '/users/me', { token: t })).status).toBe(200);
    expect((await call(a, 'POST', '/auth/logout', { token: t })).status).toBe(200);
    const after = await call(b, 'GET', '/users/me', { token: t });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('invalid_token');
  });

  it('a password reset confirmed on A revokes a session made on B; the reset token spent on A is spent on B', async () => {
    const email = await register(b, 'reset');
    const onB = await token(b, email);
    const mail = sink!.waitForMail(email, 10_000);
    expect((await call(a, 'POST', '/auth/password-reset/request', { json: { email } })).status).toBe(200);
    const link = linksInMail(await mail).find((l) => l.includes('token='))!;
    const resetToken = new URL(link).searchParams.get('token')!;
    const confirmed = await call(a, 'POST', '/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'a-brand-new-password-456' } });
    expect(confirmed.status).toBe(200);
    expect((await call(b, 'GET', '/users/me', { token: onB })).status).toBe(401);
    const again = await call(b, 'POST', '/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'yet-another-password-789' } });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalid_reset_token');
    expect((await login(b, email, {}, 'a-brand-new-password-456')).status).toBe(200);
  });

  it('the failed-login budget spent half on A and half on B gives 429 with the right Retry-After on both', async () => {
    const failures = contract.operation('login').failureRateLimit!;
    const email = await register(a, 'budget');
    const started = Date.now();
    const half = failures.limit / 2;
    for (let batch = 0; batch < failures.limit; batch += 10) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => login(batch + i < half ? a : b, email, {}, 'wrong-password-000')));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(401));
    }
    const elapsed = Math.ceil((Date.now() - started) / 1000);
    for (const server of [a, b]) {
      const refused = await login(server, email); // even with the right password
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeLessThanOrEqual(failures.window_seconds);
      expect(retryAfter).toBeGreaterThanOrEqual(failures.window_seconds - elapsed - 1);
    }
    console.log(`failed-login budget: ${half} failures on A + ${failures.limit - half} on B in ${elapsed} s → 429 on A and B, Retry-After ≈ ${failures.window_seconds - elapsed} s`);
  });

  it('backup codes: one spent on A is spent on B; 20 concurrent spends of one code across A and B have exactly one winner', async () => {
    const email = await register(a, 'totp');
    const t = await token(a, email);
    const prov = await call(a, 'POST', '/auth/totp/provision', { token: t });
    expect(prov.status).toBe(200);
    const verified = await call(b, 'POST', '/auth/totp/verify', { token: t, json: { code: await generate({ secret: prov.body.secret }) } });
    expect(verified.status).toBe(200);
    const codes: string[] = verified.body.backup_codes;

    expect((await login(a, email, { totp_code: codes[0]! })).status).toBe(200);
    const reused = await login(b, email, { totp_code: codes[0]! });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('invalid_totp_code');

    const race = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 === 0 ? a : b, email, { totp_code: codes[1]! })));
    const byStatus = new Map<string, number>();
    for (const r of race) byStatus.set(`${r.status} ${r.body.code ?? 'ok'}`, (byStatus.get(`${r.status} ${r.body.code ?? 'ok'}`) ?? 0) + 1);
    console.log(`20 concurrent spends of one backup code (10 on A, 10 on B): ${[...byStatus].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
    expect(race.filter((r) => r.status === 200)).toHaveLength(1);
    // The losers: the code is spent (401), or — after 5 wrong codes in a row — TOTP is locked (429).
    expect(race.every((r) => r.status === 200 || (r.status === 401 && r.body.code === 'invalid_totp_code') || (r.status === 429 && r.body.code === 'totp_locked'))).toBe(true);
  });

  /** Background traffic on one instance while the suite runs against the other. */
  function backgroundTraffic(server: ServerProcess, tokens: string[]): { stop(): Promise<Map<number, number>> } {
    let running = true;
    const counts = new Map<number, number>();
    const loop = async (w: number) => {
      for (let n = 0; running; n++) {
        const sessionToken = tokens[(n * 2 + w) % tokens.length]!;
        const res = await [() => call(server, 'GET', '/health'), () => call(server, 'GET', '/users/me', { token: sessionToken }), () => call(server, 'GET', '/projects', { token: sessionToken })][(n + w) % 3]!();
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const loops = [loop(0), loop(1)];
    return {
      async stop() {
        running = false;
        await Promise.all(loops);
        return counts;
      },
    };
  }

  for (const [target, other] of [['A', 'B'], ['B', 'A']] as const) {
    it(`the conformance suite passes against ${target} while ${other} serves traffic`, async () => {
      const [subject, busy] = target === 'A' ? [a, b] : [b, a];
      // The suite brings its own SMTP sink on the port the instances send to.
      await sink?.close();
      sink = undefined;
      // Each session's budget (120/min per token) is shared by both instances: spread the
      // background traffic over 12 sessions so that it stays under it (about 60/min each).
      const bgTokens = await Promise.all(Array.from({ length: 12 }, async (_, i) => token(busy, await register(busy, `bg-${target}-${i}`))));
      // The suite's simulated client addresses are the same in every run: start from full budgets.
      const db = knex({ client: 'pg', connection: schemaUrl });
      await db('rate_limits').delete().finally(() => db.destroy());
      const traffic = backgroundTraffic(busy, bgTokens);
      const lines: string[] = [];
      const result = await runConformance({
        baseUrl: subject.url,
        smtpPort,
        clientIpHeader: 'x-forwarded-for',
        harnessUrl: `${subject.url}/__harness`,
        harnessToken,
        reportDir: null,
        ...(FULL ? {} : { only: AREAS[target] }),
        log: (line) => lines.push(line),
      });
      const counts = await traffic.stop();
      for (const e of result.exchanges.filter((x) => x.status === 0)) console.log(`  no answer: ${e.request.method} ${e.request.url}: ${e.error}`);
      const failed = [...result.checks, ...result.requirements].filter((c) => c.outcome === 'fail').map((c) => `${c.id}: ${c.reason ?? ''}`);
      console.log(
        `conformance (${FULL ? 'every area' : `areas ${AREAS[target].join(', ')}`}) against ${target} (pid ${subject.pid}) while ${other} (pid ${busy.pid}) served ${[...counts.values()].reduce((x, y) => x + y, 0)} requests ` +
          `(${[...counts].map(([s, n]) => `${s}×${n}`).join(' ')}): ${(result.durationMs / 1000).toFixed(1)} s, pass ${result.summary.pass}, fail ${result.summary.fail}, ` +
          `warn ${result.summary.warn}, skip ${result.summary.skip}, unplanned 429: ${result.unplanned429}${failed.length ? `\n  ${failed.join('\n  ')}` : ''}` +
          result.checks.filter((c) => c.outcome === 'skip').map((c) => `\n  skipped ${c.id}: ${c.reason ?? 'no reason given'}`).join('') +
          `\n  slowest checks: ${[...result.checks].sort((x, y) => y.durationMs - x.durationMs).slice(0, 6).map((c) => `${c.id} ${(c.durationMs / 1000).toFixed(1)} s`).join(', ')}`,
      );
      expect(failed).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(result.unplanned429).toBe(0);
      expect([...counts.keys()].filter((s) => s >= 500)).toEqual([]);
      expect([...counts.keys()].every((s) => s === 200)).toBe(true);
    }, 150_000);
  }
});
