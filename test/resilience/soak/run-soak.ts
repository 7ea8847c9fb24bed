import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { freePort, startServer } from '../crash/server-process.ts';

export interface SoakResult {
  requests: number;
  addresses: number;
  fiveXx: number;
  statuses: Record<number, number>;
  /** RSS of the server process (MB) after each tenth of the run. */
  rssMb: number[];
  limiterKeys: number | undefined;
  /** Issue 17: new keys counted in a shared overflow budget because the store was full (no open budget is evicted). */
  limiterOverflowed: number | undefined;
  seconds: number;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** IPv4 address number n (distinct for n < 2^24), in 10.0.0.0/8. */
function address(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * A real server process (memory limiter, TRUST_PROXY=true) gets `requests` requests from
 * `addresses` distinct client addresses — one address in X-Forwarded-For per request, cycling,
 * so every address is seen in the first pass and later passes add no new budgets. RSS of the
 * server is sampled every tenth of the run; the limiter's size comes from its purge log line.
 */
export async function runSoak(requests: number, addresses: number, concurrency = 32): Promise<SoakResult> {
  const server = await startServer({
    NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', JWT_SECRET: 'soak-test-jwt-secret-0123456789abcdef-0123456789',
    DATA_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'info',
    TRUST_PROXY: 'true', PURGE_INTERVAL_SECONDS: '1', RATE_LIMIT_STORE: 'memory',
  }, await freePort());
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses: Record<number, number> = {};
  const samples: number[] = [];
  const paths = ['/health', '/users/me', '/health', '/no-such-path'];
  let next = 0;
  let fiveXx = 0;
  const started = Date.now();
  const one = (i: number) => new Promise<void>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: paths[i % paths.length], agent, headers: { 'x-forwarded-for': address(i % addresses) } }, (res) => {
      res.resume();
      res.on('end', () => {
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        if ((res.statusCode ?? 0) >= 500) fiveXx += 1;
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        await one(i);
        if ((i + 1) % Math.ceil(requests / 10) === 0) samples.push(rssMb(server.proc.pid!));
      }
    }));
    const seconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1500)); // one more purge tick logs the limiter's size
    const purgeLines = server.output().split('\n').filter((l) => l.includes('"msg":"purge"'));
    const last = purgeLines.at(-1);
    const { limiterKeys, limiterOverflowed } = last === undefined ? {} : (JSON.parse(last) as { limiterKeys?: number; limiterOverflowed?: number });
    return { requests, addresses, fiveXx, statuses, rssMb: samples, limiterKeys, limiterOverflowed, seconds };
  } finally {
    agent.destroy();
    server.proc.kill('SIGTERM');
    await server.exited;
  }
}

export function describeSoak(r: SoakResult): string {
  return `soak: ${r.requests} requests from ${r.addresses} addresses in ${r.seconds.toFixed(1)} s, 5xx ${r.fiveXx}, statuses ${JSON.stringify(r.statuses)}\n` +
    `soak: server RSS (MB) every tenth: ${r.rssMb.join(' ')}; start ${r.rssMb[0]} → end ${r.rssMb.at(-1)}; limiter entries ${r.limiterKeys ?? 'unknown'}, overflowed ${r.limiterOverflowed ?? 'unknown'}`;
}
