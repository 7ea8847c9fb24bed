// The scenarios of `npm run bench`. Each returns table rows: a figure, the baseline it is compared
// with (measured in the same run), their ratio and the target. Add a scenario by appending to
// `scenarios` (e.g. the store comparison of scripts/bench-stores.ts).
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { defaultHashConcurrency } from '../../src/hashing/index.ts';
import { benchStores } from '../bench-stores.ts';
import { redisMissing } from '../../test/scale/services.ts';
import { credentials, interleaved, load, measure, median, roundRatios, rssMb, runChild, SERVER_NODE_FLAGS, startReference, startServer, USER, type Measured, type ServerProcess } from './lib.ts';

export interface Row {
  id: string;
  scenario: string;
  /** The figure measured, in `unit`. */
  measured: number | null;
  baseline: number | null;
  unit: string;
  baselineLabel: string;
  /** measured / baseline (or the inverse where lower is better, said in `target`). */
  ratio: number | null;
  target: string;
  ok: boolean | null;
  detail: string;
  skipped?: string;
  /** Interleaved rows: the lowest and highest per-round ratio (`ratio` is their median). */
  ratioMin?: number;
  ratioMax?: number;
  rounds?: number;
}

export interface BenchContext {
  duration: number;
  connections: number;
  tmp: string;
  /** Interleaved comparisons: rounds, and seconds per measurement in a round. */
  rounds: number;
  roundSeconds: number;
  pgUrl: string | undefined;
  /** Bare Koa serving the same JSON: one process for the whole run, started on first use. */
  bare(): Promise<ServerProcess>;
  /** Peak RSS (MB) of every reference server process under load, by label. */
  peakRss: Record<string, number>;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
/** µs of server CPU per answered request over a series' rounds (total CPU ÷ total answers). */
const cpuPerRequest = (runs: Measured[]): number => {
  const requests = runs.reduce((a, m) => a + m.requests, 0);
  return requests > 0 ? runs.reduce((a, m) => a + (m.cpuUsPerRequest ?? 0) * m.requests, 0) / requests : 0;
};
const fmt = (m: Measured): string => `${m.rps.toFixed(0)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms`;

interface Subject { id: string; scenario: string; server: ServerProcess; headers: Record<string, string> }

/**
 * Each subject against bare Koa, in interleaved rounds (bare, subject 1, subject 2, … and
 * again): the row's ratio is the median of the per-round ratios, with their range.
 */
async function againstBare(ctx: BenchContext, subjects: Subject[]): Promise<Row[]> {
  const bare = await ctx.bare();
  const series = [
    { name: 'bare', pid: bare.child.pid, opts: { url: `${bare.base}/users/me`, connections: ctx.connections, duration: ctx.roundSeconds } },
    ...subjects.map((s) => ({ name: s.id, pid: s.server.child.pid, opts: { url: `${s.server.base}/users/me`, connections: ctx.connections, duration: ctx.roundSeconds, headers: s.headers } })),
  ];
  const runs = await interleaved(series, ctx.rounds, ctx.roundSeconds);
  const bareRuns = runs.get('bare')!;
  const bareRps = median(bareRuns.map((m) => m.rps));
  const bareCpu = cpuPerRequest(bareRuns);
  return subjects.flatMap((s) => {
    const mine = runs.get(s.id)!;
    const r = roundRatios(mine, bareRuns);
    const cpu = cpuPerRequest(mine);
    // CPU time per answered request of each server process, over all rounds: unlike req/s it
    // does not depend on how much of the shared machine the process was given.
    const cpuRow: Row = {
      id: `${s.id}-cpu`, scenario: `${s.scenario}: CPU per request`, measured: cpu, baseline: bareCpu, unit: 'µs CPU/req',
      baselineLabel: 'bare Koa, same JSON', ratio: ratio(bareCpu, cpu), target: '≥ 0.5× (bare µs ÷ server µs)', ok: ratio(bareCpu, cpu) >= 0.5,
      detail: `user + system CPU of each server process (/proc/<pid>/stat) over its ${ctx.rounds} rounds ÷ answers: server ${cpu.toFixed(0)} µs, bare Koa ${bareCpu.toFixed(0)} µs per request; per round ${mine.map((m, i) => `${m.cpuUsPerRequest?.toFixed(0)} vs ${bareRuns[i]!.cpuUsPerRequest?.toFixed(0)}`).join(', ')} µs`,
    };
    return [{
      id: s.id, scenario: s.scenario, measured: median(mine.map((m) => m.rps)), baseline: bareRps, unit: 'req/s',
      baselineLabel: 'bare Koa, same JSON', ratio: r.median, ratioMin: r.min, ratioMax: r.max, rounds: ctx.rounds, target: '≥ 0.5×', ok: r.median >= 0.5,
      detail: `per round (${ctx.rounds} × ${ctx.roundSeconds} s, interleaved with bare Koa): ${mine.map((m, i) => `${m.rps.toFixed(0)} vs ${bareRuns[i]!.rps.toFixed(0)} req/s (${r.each[i]!.toFixed(2)}×, p99 ${m.p99} vs ${bareRuns[i]!.p99} ms)`).join('; ')}`,
    }, cpuRow];
  });
}

async function usersMeRows(ctx: BenchContext, label: string, databaseUrl: string, idPrefix: string): Promise<Row[]> {
  const ref = await startReference(label, { databaseUrl, outbox: path.join(ctx.tmp, `outbox-${idPrefix}`) });
  try {
    const { token, apiKey } = await credentials(ref.base);
    ref.resetPeak();
    const rows = await againstBare(ctx, [
      { id: `${idPrefix}-session`, scenario: `GET /users/me, session token (${label})`, server: ref, headers: { authorization: `Bearer ${token}` } },
      { id: `${idPrefix}-api-key`, scenario: `GET /users/me, API key (${label})`, server: ref, headers: { authorization: `Bearer ${apiKey}` } },
    ]);
    ctx.peakRss[label] = ref.peakRssMb();
    return rows;
  } finally {
    await ref.stop();
  }
}

const usersMe: Scenario = {
  id: 'users-me',
  title: '(1) authenticated GET /users/me vs bare Koa; (2) the same with an API key — SQLite file',
  run: (ctx) => usersMeRows(ctx, 'SQLite', `sqlite:${path.join(ctx.tmp, 'bench.sqlite')}`, 'sqlite'),
};

/** Login at the real cost (logN 15), and GET /users/me during a login storm, on one server. */
const loginAndStorm: Scenario = {
  id: 'login',
  title: '(3) login at scrypt logN 15 vs raw scrypt-kdf verify; (4) GET /users/me during a login storm vs idle',
  async run(ctx) {
    const hashConcurrency = defaultHashConcurrency();
    const ref = await startReference('SQLite, logN 15', { databaseUrl: `sqlite:${path.join(ctx.tmp, 'login.sqlite')}`, scryptLogN: 15, outbox: path.join(ctx.tmp, 'outbox-login') });
    try {
      const { token } = await credentials(ref.base);
      const loginOpts = {
        url: `${ref.base}/auth/login`, method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: USER.email, password: USER.password }),
        connections: hashConcurrency + 3, duration: ctx.duration,
      };
      // A login at logN 15 takes a large part of a second: measure it twice as long.
      const loginMeasured = { ...loginOpts, duration: ctx.duration * 2 };
      ref.resetPeak();
      const login = await measure('login', loginMeasured);
      const raw = await runChild<{ verified: number; seconds: number }>(['scripts/bench/scrypt-raw.mjs', String(hashConcurrency), String(ctx.duration * 2), '15']);
      const rawRps = raw.verified / raw.seconds;
      const cores = availableParallelism();
      const rawAll = cores === hashConcurrency ? raw : await runChild<{ verified: number; seconds: number }>(['scripts/bench/scrypt-raw.mjs', String(cores), String(ctx.duration * 2), '15']);
      const rawAllRps = rawAll.verified / rawAll.seconds;

      const meOpts = { url: `${ref.base}/users/me`, connections: ctx.connections, duration: ctx.duration, headers: { authorization: `Bearer ${token}` } };
      const idle = await measure('GET /users/me idle', meOpts);
      const [storm, stormLogins] = await Promise.all([load(meOpts), load({ ...loginOpts, duration: ctx.duration + 1 })]);
      if (storm.non2xx > 0 || storm.errors > 0) throw new Error(`GET /users/me during the storm: ${JSON.stringify(storm.statuses)}, ${storm.errors} errors`);
      ctx.peakRss['SQLite, logN 15, login storm'] = ref.peakRssMb();
      const stormRatio = ratio(storm.rps, idle.rps);
      return [
        {
          id: 'login-vs-scrypt', scenario: `POST /auth/login, scrypt logN 15 (${loginOpts.connections} connections)`, measured: login.rps, baseline: rawRps, unit: 'logins/s',
          baselineLabel: `raw scrypt-kdf verify, ${hashConcurrency} at once (= HASH_CONCURRENCY)`, ratio: ratio(login.rps, rawRps), target: '≥ 0.9×', ok: ratio(login.rps, rawRps) >= 0.9,
          detail: `login ${fmt(login)}; raw verify ${rawRps.toFixed(1)}/s with ${hashConcurrency} at once, ${rawAllRps.toFixed(1)}/s with all ${cores} cores (the cap keeps one core for the event loop)`,
        },
        {
          id: 'storm', scenario: `GET /users/me during a login storm (${loginOpts.connections} login connections)`, measured: storm.rps, baseline: idle.rps, unit: 'req/s',
          baselineLabel: 'GET /users/me idle, same server', ratio: stormRatio, target: '≥ 0.5×, bounded p99', ok: stormRatio >= 0.5,
          detail: `storm ${fmt(storm)} (logins meanwhile: ${stormLogins.rps.toFixed(1)}/s, statuses ${JSON.stringify(stormLogins.statuses)}); idle ${fmt(idle)}`,
        },
      ];
    } finally {
      await ref.stop();
    }
  },
};

const rss: Scenario = {
  id: 'rss',
  title: '(5) resident memory per server process under load',
  async run(ctx) {
    const bare = await ctx.bare();
    const entries = Object.entries(ctx.peakRss);
    if (entries.length === 0) return [{ id: 'rss', scenario: 'peak RSS under load', measured: null, baseline: null, unit: 'MB', baselineLabel: '', ratio: null, target: '≤ 150 MB', ok: null, detail: '', skipped: 'no reference server ran' }];
    const [worstLabel, worst] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
    const bareMb = bare.peakRssMb();
    return [{
      id: 'rss', scenario: 'peak RSS of a reference server process under load', measured: worst, baseline: bareMb, unit: 'MB',
      baselineLabel: 'bare Koa process, same load', ratio: ratio(worst, bareMb), target: '≤ 150 MB', ok: worst <= 150,
      detail: `${entries.map(([l, mb]) => `${l}: ${mb.toFixed(0)} MB`).join('; ')} (worst: ${worstLabel}); bare Koa ${bareMb.toFixed(0)} MB`,
    }];
  },
};

/**
 * Row 1/2 on PostgreSQL, with the default store there (RATE_LIMIT_STORE=database: one counter
 * upsert per request) and, for the limiter's cost, the same server with RATE_LIMIT_STORE=memory.
 */
const postgres: Scenario = {
  id: 'postgres',
  title: '(6) authenticated GET /users/me on PostgreSQL vs bare Koa (RATE_LIMIT_STORE database, and memory)',
  async run(ctx) {
    if (ctx.pgUrl === undefined) {
      return [{ id: 'pg-session', scenario: 'GET /users/me, session token (PostgreSQL)', measured: null, baseline: null, unit: 'req/s', baselineLabel: 'bare Koa, same JSON', ratio: null, target: '≥ 0.5×', ok: null, detail: '', skipped: 'neither BENCH_DATABASE_URL nor TEST_DATABASE_URL is set' }];
    }
    const schema = `bench_${randomUUID().replace(/-/g, '')}`;
    const admin = new pg.Client({ connectionString: ctx.pgUrl });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    const servers: ServerProcess[] = [];
    try {
      const url = new URL(ctx.pgUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const start = async (store: string) => {
        const s = await startReference(`PostgreSQL, ${store} store`, { databaseUrl: url.toString(), outbox: path.join(ctx.tmp, `outbox-pg-${store}`), extraEnv: { RATE_LIMIT_STORE: store } });
        servers.push(s);
        return { server: s, ...(await credentials(s.base)) };
      };
      const db = await start('database'); // migrates the schema first
      const mem = await start('memory');
      for (const s of servers) s.resetPeak();
      const rows = await againstBare(ctx, [
        { id: 'pg-session', scenario: 'GET /users/me, session, PostgreSQL, database store', server: db.server, headers: { authorization: `Bearer ${db.token}` } },
        { id: 'pg-api-key', scenario: 'GET /users/me, API key, PostgreSQL, database store', server: db.server, headers: { authorization: `Bearer ${db.apiKey}` } },
        { id: 'pg-session-memory-store', scenario: 'GET /users/me, session, PostgreSQL, memory store', server: mem.server, headers: { authorization: `Bearer ${mem.token}` } },
      ]);
      for (const s of servers) ctx.peakRss[s.name] = s.peakRssMb();
      return rows;
    } finally {
      for (const s of servers) await s.stop();
      await admin.query(`drop schema "${schema}" cascade`);
      await admin.end();
    }
  },
};

/**
 * Optional: scripts/bench-stores.ts — two instances on one PostgreSQL with each rate-limit
 * store. Runs when a PostgreSQL URL is set and redis-server is installed; otherwise the row
 * says why it was skipped.
 */
const stores: Scenario = {
  id: 'stores',
  title: '(8) rate-limit stores at scale: two instances on PostgreSQL, memory vs database vs Redis',
  async run(ctx) {
    const skipped = (why: string): Row[] => [{ id: 'stores', scenario: 'GET /users/me on 2 instances, per RATE_LIMIT_STORE', measured: null, baseline: null, unit: 'req/s', baselineLabel: 'memory store, same run', ratio: null, target: 'informational', ok: null, detail: '', skipped: why }];
    if (ctx.pgUrl === undefined) return skipped('neither BENCH_DATABASE_URL nor TEST_DATABASE_URL is set');
    const noRedis = redisMissing();
    if (noRedis !== undefined) return skipped(`no Redis: ${noRedis}`);
    const results = await benchStores({ databaseUrl: ctx.pgUrl, durationSeconds: ctx.roundSeconds, connections: Math.max(1, Math.ceil(ctx.connections / 2)), sessions: 10, log: (line) => process.stderr.write(line + '\n') });
    const memory = results.find((r) => r.store === 'memory')!;
    return results.map((r) => ({
      id: `stores-${r.store}`, scenario: `2 instances on PostgreSQL, ${r.store} store`, measured: r.rps, baseline: memory.rps, unit: 'req/s',
      baselineLabel: 'memory store (budgets not shared), same run', ratio: r.ratioToMemory, target: 'informational', ok: null,
      detail: `${r.rps.toFixed(0)} req/s summed over ${r.instances} instances, p50 ${r.p50} ms, p99 ${r.p99} ms (each store run twice, ${ctx.roundSeconds} s, better run kept)`,
    }));
  },
};

/** Start-up to the first answered /health, and idle RSS: compiled (npm start) vs tsx. */
const startup: Scenario = {
  id: 'startup',
  title: '(7) start-up time and idle memory: compiled dist/server vs tsx',
  async run(ctx) {
    const once = async (label: string, args: string[]) => {
      const started = performance.now();
      const s = await startServer(label, args, {
        NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${path.join(ctx.tmp, `startup-${label}.sqlite`)}`,
        JWT_SECRET: 'bench-only-secret-0123456789abcdef0123456789', DATA_ENCRYPTION_KEY: 'ab'.repeat(32), MAIL_OUTBOX_DIR: path.join(ctx.tmp, 'outbox-startup'),
      }, async (base) => (await fetch(`${base}/health`)).ok);
      const ms = performance.now() - started;
      await new Promise((r) => setTimeout(r, 300));
      const mb = rssMb(s.child.pid!);
      await s.stop();
      return { ms, mb };
    };
    const compiled = await once('compiled', [...SERVER_NODE_FLAGS, 'dist/server/src/server.js']);
    const tsx = await once('tsx', ['--import', 'tsx', 'src/server.ts']);
    return [
      {
        id: 'startup-time', scenario: 'start-up to the first answered GET /health', measured: compiled.ms, baseline: tsx.ms, unit: 'ms',
        baselineLabel: 'the same server through tsx', ratio: ratio(compiled.ms, tsx.ms), target: '< 1× (lower is better)', ok: compiled.ms < tsx.ms,
        detail: `compiled ${compiled.ms.toFixed(0)} ms, tsx ${tsx.ms.toFixed(0)} ms (a fresh database, migrations included)`,
      },
      {
        id: 'startup-rss', scenario: 'idle RSS after start', measured: compiled.mb, baseline: tsx.mb, unit: 'MB',
        baselineLabel: 'the same server through tsx', ratio: ratio(compiled.mb, tsx.mb), target: '< 1× (lower is better)', ok: compiled.mb < tsx.mb,
        detail: `compiled ${compiled.mb.toFixed(0)} MB, tsx ${tsx.mb.toFixed(0)} MB`,
      },
    ];
  },
};

/** Run in this order; append further scenarios here (the RSS row reads what ran before it). */
export const scenarios: Scenario[] = [usersMe, loginAndStorm, postgres, rss, startup, stores];
