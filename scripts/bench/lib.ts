// Shared pieces of `npm run bench`: child-process servers, the load generator, RSS sampling.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../conformance/selftest/free-port.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Stats { average: number; mean: number; p50: number; p99: number; max: number }
export interface AutocannonResult { duration: number; requests: Stats & { total: number }; latency: Stats; non2xx: number; errors: number; timeouts: number; statusCodeStats?: Record<string, { count: number }> }
type AutocannonOpts = { url: string; connections: number; duration: number; method?: string; headers?: Record<string, string>; body?: string };
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: AutocannonOpts) => Promise<AutocannonResult>;

export interface Measured { rps: number; p50: number; p99: number; requests: number; non2xx: number; errors: number; statuses: Record<string, number>; /** CPU time (user + system) the server process spent per answered request, µs; set where the series names its server's pid. */ cpuUsPerRequest?: number }

/** One autocannon run (the load generator lives in this process, each server in its own). */
export async function load(opts: AutocannonOpts): Promise<Measured> {
  const r = await autocannon(opts);
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count;
  // Answers completed over the run's real duration (not the mean of 1-second buckets, which
  // misleads when each answer takes a large part of a second, as a login at logN 15 does).
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, requests: Object.values(statuses).reduce((a, b) => a + b, 0), non2xx: r.non2xx, errors: r.errors, statuses };
}

/** Two warm-up seconds (JIT, lazily compiled validators), then the measured run; refuses meaningless numbers. */
export async function measure(label: string, opts: AutocannonOpts): Promise<Measured> {
  await load({ ...opts, duration: 2 }); // on a busy 2-core machine one second did not settle the JIT
  const m = await load(opts);
  if (m.non2xx > 0 || m.errors > 0) throw new Error(`${label}: ${m.non2xx} non-2xx answers (${JSON.stringify(m.statuses)}), ${m.errors} errors — the figures would be meaningless`);
  return m;
}

export { freePort };

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  base: string;
  /** Peak resident set size (MB) sampled since the last resetPeak(). */
  peakRssMb(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

/** CPU time (user + system, all threads) a process has used so far, in µs (/proc/<pid>/stat, clock ticks). */
export function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux build this runs on (sysconf(_SC_CLK_TCK)); a 5 s run at 1,000 req/s spans hundreds of ticks. */
const CLOCK_TICKS = 100;

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts `node <args>` with env, waits until `ready(base)` answers, samples RSS every 100 ms. */
export async function startServer(name: string, args: string[], env: Record<string, string>, ready: (base: string) => Promise<boolean>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if (i > 1200) throw new Error(`${name} did not start within 120 s: ${stderr}`);
    if (await ready(base).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(child.pid!)); }, 100);
  return {
    name, child, base,
    peakRssMb: () => Math.max(peak, rssMb(child.pid!)),
    resetPeak: () => { peak = 0; },
    async stop() {
      clearInterval(timer);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const USER = { email: 'jane@example.com', password: 'secure-password-123', full_name: 'Jane Developer', company_name: 'Acme Corp' };

export function startBare(): Promise<ServerProcess> {
  return startServer('bare Koa', ['scripts/bench/bare-koa.mjs'], {}, async (base) => (await fetch(base)).ok);
}

export interface ReferenceOptions { databaseUrl: string; scryptLogN?: number; outbox: string; extraEnv?: Record<string, string>; /** Node flags before the entry (e.g. --cpu-prof). */ nodeArgs?: string[] }

/**
 * The V8 flags of `npm start` (package.json "start"; keep both the same): young-generation
 * semi-spaces of 4 MB instead of V8's 16 MB cut peak RSS under load by ~35 MB with the same
 * throughput (docs/PERFORMANCE.md, row 5).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
/**
 * The environment `npm start` sets (package.json "start"; keep both the same): glibc's malloc
 * serves every block over 128 KiB with mmap and unmaps it when freed, instead of raising that
 * threshold on the first free and keeping scrypt's 32 MiB blocks (logN 15) resident in the
 * arena of each thread-pool thread that ever hashed (docs/PERFORMANCE.md, row 5).
 */
export const SERVER_ENV = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' };

/** The compiled reference server (dist/server, as `npm start` runs it), limits multiplied for load. */
export function startReference(name: string, o: ReferenceOptions): Promise<ServerProcess> {
  return startServer(name, [...SERVER_NODE_FLAGS, ...(o.nodeArgs ?? []), 'dist/server/src/server.js'], {
    ...SERVER_ENV, NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: o.databaseUrl, SCRYPT_LOG_N: String(o.scryptLogN ?? 10),
    JWT_SECRET: 'bench-only-secret-0123456789abcdef0123456789', DATA_ENCRYPTION_KEY: 'ab'.repeat(32), MAIL_OUTBOX_DIR: o.outbox,
    RATE_LIMIT_MULTIPLIER: '1000000', ...o.extraEnv,
  }, async (base) => (await fetch(`${base}/health`)).ok);
}

/** Registers the bench user, logs in, creates an API key: the credentials the scenarios send. */
export async function credentials(base: string): Promise<{ token: string; apiKey: string }> {
  const post = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok && !(p === '/auth/register' && res.status === 409)) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await post('/auth/register', USER);
  const token = String((await post('/auth/login', { email: USER.email, password: USER.password })).access_token);
  const apiKey = String((await post('/users/me/api-keys', { name: 'bench' }, token)).key);
  return { token, apiKey };
}

/** Runs a plain-JS child to completion and parses the JSON line it prints. */
export async function runChild<T>(args: string[]): Promise<T> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** One load series of an interleaved comparison: a name and what autocannon sends. */
export interface Series { name: string; opts: AutocannonOpts; /** The server's pid: its CPU time per request is measured too. */ pid?: number }

/**
 * Interleaved rounds (A B C… A B C…): every series gets its warm-up once, then `rounds`
 * measurements of `duration` seconds each, in turn, so that a change in the machine's load
 * (it is shared) hits the baseline and the subjects alike. Returns each series' measurements
 * in round order.
 */
export async function interleaved(series: Series[], rounds: number, duration: number): Promise<Map<string, Measured[]>> {
  const out = new Map<string, Measured[]>(series.map((s) => [s.name, []]));
  for (const s of series) await load({ ...s.opts, duration: 2 });
  for (let r = 0; r < rounds; r++) {
    for (const s of series) {
      const cpuBefore = s.pid === undefined ? 0 : cpuUs(s.pid);
      const m = await load({ ...s.opts, duration });
      if (s.pid !== undefined && m.requests > 0) m.cpuUsPerRequest = (cpuUs(s.pid) - cpuBefore) / m.requests;
      if (m.non2xx > 0 || m.errors > 0) throw new Error(`${s.name}: ${m.non2xx} non-2xx answers (${JSON.stringify(m.statuses)}), ${m.errors} errors — the figures would be meaningless`);
      out.get(s.name)!.push(m);
    }
  }
  return out;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Per-round ratios subject/baseline: their median, min and max. */
export function roundRatios(subject: Measured[], baseline: Measured[]): { median: number; min: number; max: number; each: number[] } {
  const each = subject.map((m, i) => (baseline[i]!.rps > 0 ? m.rps / baseline[i]!.rps : 0));
  return { median: median(each), min: Math.min(...each), max: Math.max(...each), each };
}
