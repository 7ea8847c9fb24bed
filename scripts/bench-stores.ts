// Rate-limit stores at scale: two reference-server processes on one PostgreSQL, measured with
// the memory, database and Redis stores in the same run (compare the ratios, not the absolute
// numbers: they depend on the machine and its load). Every authenticated request writes one
// budget counter; with the database store that write lands on PostgreSQL.
//
//   node --import tsx scripts/bench-stores.ts [--duration 5] [--connections 8] [--sessions 20]
//
// Needs TEST_DATABASE_URL (a PostgreSQL database it may create schemas in) and
// /usr/bin/redis-server (a private one is started on a free loopback port).
// `benchStores()` returns the rows for scripts/bench.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Store = 'memory' | 'database' | 'redis';

export interface StoreBenchRow {
  store: Store;
  instances: number;
  /** Requests per second, summed over the instances. */
  rps: number;
  p50: number;
  p99: number;
  /** rps divided by the memory store's rps of the same run. */
  ratioToMemory: number;
}

export interface StoreBenchOptions {
  databaseUrl?: string;
  durationSeconds?: number;
  /** Connections per instance. */
  connections?: number;
  /** Distinct sessions the load rotates over (distinct budget counters). */
  sessions?: number;
  log?: (line: string) => void;
}

interface AutocannonResult { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const SELF = fileURLToPath(import.meta.url);

/** Child process: one reference server with `store`, budgets raised so they never bind (the limiter still runs). */
async function serve(store: Store, databaseUrl: string, redisUrl: string, secrets: string): Promise<void> {
  const { loadConfig } = await import('../src/config.ts');
  const { createApp } = await import('../src/app.ts');
  const [jwt, key] = secrets.split(',') as [string, string];
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, SCRYPT_LOG_N: '10', RATE_LIMIT_STORE: store,
    ...(store === 'redis' ? { REDIS_URL: redisUrl } : {}), JWT_SECRET: jwt, DATA_ENCRYPTION_KEY: key, MAIL_OUTBOX_DIR: '/tmp/quazzar-bench-outbox',
  });
  const built = await createApp({ config: { ...config, rateLimitMultiplier: 1_000_000 } });
  const server = built.app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => void built.close().finally(() => process.exit(0)));
  });
}

function startInstance(store: Store, databaseUrl: string, redisUrl: string, secrets: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(SELF, ['--serve', store, '--db', databaseUrl, '--redis', redisUrl, '--secrets', secrets], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, url: `http://127.0.0.1:${m.port}` }));
    child.once('exit', (code) => reject(new Error(`${store} server exited with ${code}`)));
  });
}

async function sessionsOn(url: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const post = (p: string, body: unknown) => fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const creds = { email: `bench-${randomBytes(6).toString('hex')}@example.com`, password: 'bench-password-1234' };
    const reg = await post('/auth/register', { ...creds, full_name: 'Bench' });
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}`);
    tokens.push(((await (await post('/auth/login', creds)).json()) as { access_token: string }).access_token);
  }
  return tokens;
}

/** Both instances under load at once, each with its own autocannon, sessions rotated per request. */
async function load(urls: string[], tokens: string[], duration: number, connections: number) {
  const run = (url: string, offset: number) => {
    let i = offset;
    return autocannon({
      url: `${url}/users/me`, connections, duration,
      requests: [{ method: 'GET', setupRequest: (req: { headers?: Record<string, string> }) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` } }) }],
    });
  };
  await Promise.all(urls.map((u, k) => autocannon({ url: `${u}/users/me`, connections, duration: 1, headers: { authorization: `Bearer ${tokens[k]}` } }))); // warm-up
  const results = await Promise.all(urls.map((u, k) => run(u, k * 7)));
  for (const r of results) if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} errors — the numbers would be meaningless`);
  return {
    rps: results.reduce((s, r) => s + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
  };
}

export async function benchStores(opts: StoreBenchOptions = {}): Promise<StoreBenchRow[]> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = opts.databaseUrl ?? process.env.TEST_DATABASE_URL;
  if (base === undefined) throw new Error('bench-stores needs TEST_DATABASE_URL=postgres://… (the instances share one PostgreSQL)');
  const { freshSchema, redisMissing, startRedis } = await import('../test/scale/services.ts');
  const noRedis = redisMissing();
  if (noRedis !== undefined) throw new Error(`bench-stores needs Redis: ${noRedis}`);
  const duration = opts.durationSeconds ?? 5;
  const connections = opts.connections ?? 8;
  const sessions = opts.sessions ?? 20;
  const secrets = `${randomBytes(48).toString('base64')},${randomBytes(32).toString('hex')}`;
  const redis = await startRedis();
  // Each store twice, in the order memory, database, redis, redis, database, memory, and the
  // better run kept: a store measured first or last is not favoured by warm-up or drift.
  const order: Store[] = ['memory', 'database', 'redis', 'redis', 'database', 'memory'];
  const runs = new Map<Store, { rps: number; p50: number; p99: number }[]>();
  try {
    for (const store of order) {
      const schema = await freshSchema(base, 'bench');
      const instances: { child: ChildProcess; url: string }[] = [];
      try {
        instances.push(await startInstance(store, schema.url, redis.url, secrets)); // migrates first
        instances.push(await startInstance(store, schema.url, redis.url, secrets));
        const tokens = await sessionsOn(instances[0]!.url, sessions);
        const r = await load(instances.map((i) => i.url), tokens, duration, connections);
        runs.set(store, [...(runs.get(store) ?? []), r]);
        log(`  ${store}: ${r.rps.toFixed(0)} req/s over ${instances.length} instances`);
      } finally {
        for (const i of instances) i.child.disconnect();
        await new Promise((r) => setTimeout(r, 300));
        await schema.drop();
      }
    }
  } finally {
    await redis.stop();
  }
  const rows = (['memory', 'database', 'redis'] as const).map((store) => {
    const best = runs.get(store)!.reduce((x, y) => (y.rps > x.rps ? y : x));
    return { store, instances: 2, ...best };
  });
  const memory = rows.find((r) => r.store === 'memory')!.rps;
  return rows.map((r) => ({ ...r, ratioToMemory: r.rps / memory }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' }, db: { type: 'string' }, redis: { type: 'string' }, secrets: { type: 'string' },
      duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '8' }, sessions: { type: 'string', default: '20' },
    },
  });
  if (values.serve !== undefined) return serve(values.serve as Store, values.db!, values.redis!, values.secrets!);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rows = await benchStores({ durationSeconds: duration, connections, sessions: Number(values.sessions) });
  console.log(`\nGET /users/me on 2 instances × ${connections} connections, ${duration} s per run, each store run twice (better run shown), PostgreSQL, Node ${process.version}\n`);
  console.log('| RATE_LIMIT_STORE | instances | req/s (sum) | p50 ms | p99 ms | vs memory |\n|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.store} | ${r.instances} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.ratioToMemory.toFixed(2)} |`);
  const db = rows.find((r) => r.store === 'database')!;
  const redis = rows.find((r) => r.store === 'redis')!;
  console.log(`\nredis / database throughput: ${(redis.rps / db.rps).toFixed(2)}; memory does not share budgets between instances (baseline only).`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
