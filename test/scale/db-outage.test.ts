import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterMissing, createCluster, type Cluster } from './pg-cluster.ts';
import { sharedSecrets, startServer, type ServerProcess } from './services.ts';

// PostgreSQL really stopped under traffic: a throwaway cluster of this test's own (initdb,
// pg_ctl), one reference-server process on it, six clients looping over three operations.
// The cluster is stopped mid-traffic and started again. Printed: a per-second timeline of
// statuses, the 5xx counts and the time to recover. Asserted: no 500, no hang, every answer
// during the outage is 503 service_unavailable problem+json with Retry-After, the process
// stays up, GET /health says 503 while the database is away, and service resumes on its own.

const missing = clusterMissing();
const HEALTHY_MS = 3000;
const OUTAGE_MS = 5000;
const AFTER_MS = 4000;

interface Sample {
  op: 'health' | 'me' | 'login';
  start: number;
  end: number;
  status: number; // 0: no answer (network error or our 15 s abort, i.e. a hang)
  code?: string;
  type?: string;
  retryAfter?: string | null;
}

describe.skipIf(missing !== undefined)(`PostgreSQL stopped and restarted under traffic${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let cluster: Cluster;
  let server: ServerProcess;
  beforeAll(async () => {
    cluster = await createCluster();
    server = await startServer({
      DATABASE_URL: cluster.url,
      RATE_LIMIT_STORE: 'database',
      TRUST_PROXY: 'true',
      CLIENT_IP_HEADER: 'x-forwarded-for',
      ...sharedSecrets(),
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it('answers 503 with Retry-After while the database is away, never 500 or a hang, and recovers by itself', async () => {
    let ipCounter = 0;
    const ip = () => `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`;
    const tokens: string[] = [];
    for (let i = 0; i < 6; i++) {
      const email = `outage-${i}-${Date.now()}@example.com`;
      const headers = { 'content-type': 'application/json', 'x-forwarded-for': ip() };
      const reg = await fetch(`${server.url}/auth/register`, { method: 'POST', headers, body: JSON.stringify({ email, password: 'outage-password-123', full_name: 'Outage' }) });
      expect(reg.status).toBe(201);
      const login = await fetch(`${server.url}/auth/login`, { method: 'POST', headers, body: JSON.stringify({ email, password: 'outage-password-123' }) });
      tokens.push(((await login.json()) as { access_token: string }).access_token);
    }

    const t0 = performance.now();
    const samples: Sample[] = [];
    let running = true;
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; running; n++) {
        const op = (['health', 'me', 'login'] as const)[(n + w) % 3]!;
        const headers: Record<string, string> = { 'x-forwarded-for': ip() };
        let init: RequestInit = { headers, signal: AbortSignal.timeout(15_000) };
        let path = '/health';
        if (op === 'me') {
          path = '/users/me';
          headers.authorization = `Bearer ${tokens[w]}`;
        } else if (op === 'login') {
          path = '/auth/login';
          headers['content-type'] = 'application/json';
          init = { ...init, method: 'POST', body: JSON.stringify({ email: `nobody-${n}-${w}@example.com`, password: 'wrong-password-123' }) };
        }
        const s: Sample = { op, start: performance.now() - t0, end: 0, status: 0 };
        try {
          const res = await fetch(server.url + path, init);
          const text = await res.text();
          s.status = res.status;
          s.type = res.headers.get('content-type') ?? '';
          s.retryAfter = res.headers.get('retry-after');
          if (res.status >= 400) s.code = (JSON.parse(text) as { code?: string }).code;
        } catch {
          s.status = 0;
        }
        s.end = performance.now() - t0;
        samples.push(s);
        await new Promise((r) => setTimeout(r, 40));
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));

    await new Promise((r) => setTimeout(r, HEALTHY_MS));
    const stopBegin = performance.now() - t0;
    await cluster.stop();
    const stopDone = performance.now() - t0;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const startBegin = performance.now() - t0;
    await cluster.start();
    const startDone = performance.now() - t0;
    await new Promise((r) => setTimeout(r, AFTER_MS));
    running = false;
    await Promise.all(workers);

    const expected = { health: 200, me: 200, login: 401 } as const;
    const ok = (s: Sample) => s.status === expected[s.op];
    const failures = samples.filter((s) => !ok(s));
    const lastFailureEnd = Math.max(startDone, ...failures.map((s) => s.end));
    // Timeline, one line per second of answers.
    const lines: string[] = [];
    for (let sec = 0; sec * 1000 < samples.reduce((m, s) => Math.max(m, s.end), 0); sec++) {
      const inSec = samples.filter((s) => s.end >= sec * 1000 && s.end < (sec + 1) * 1000);
      const counts = new Map<number, number>();
      for (const s of inSec) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
      const phase = (sec + 1) * 1000 <= stopBegin ? 'up' : sec * 1000 >= startDone ? 'restarted' : sec * 1000 >= stopDone && (sec + 1) * 1000 <= startBegin ? 'DOWN' : 'switching';
      lines.push(`  t=${String(sec).padStart(2)}s ${phase.padEnd(9)} ${[...counts].sort().map(([st, c]) => `${st}×${c}`).join(' ')}`);
    }
    const n5xx = (pred: (s: Sample) => boolean) => samples.filter((s) => pred(s) && s.status >= 500).length;
    const outside = (s: Sample) => s.end < stopBegin || s.start > lastFailureEnd;
    console.log(
      `database outage, 1 instance, 6 clients: ${samples.length} requests; PostgreSQL stopped at ${(stopBegin / 1000).toFixed(2)} s ` +
        `(down at ${(stopDone / 1000).toFixed(2)} s), started at ${(startBegin / 1000).toFixed(2)} s (up at ${(startDone / 1000).toFixed(2)} s)\n` +
        lines.join('\n') +
        `\n  5xx during the outage: ${n5xx((s) => !outside(s))} (all 503), 5xx outside it: ${n5xx(outside)}, 500s: ${samples.filter((s) => s.status === 500).length}, ` +
        `no answer: ${samples.filter((s) => s.status === 0).length}, longest answer: ${Math.max(...samples.map((s) => s.end - s.start)).toFixed(0)} ms\n` +
        `  recovery: last 503 answered at ${(Math.max(0, ...failures.map((s) => s.end)) / 1000).toFixed(2)} s, first 200 after the restart began at ` +
        `${((Math.min(...samples.filter((s) => s.start > startBegin && ok(s)).map((s) => s.end)) - startBegin) / 1000).toFixed(2)} s after it ` +
        `(pg_ctl start took ${((startDone - startBegin) / 1000).toFixed(2)} s)`,
    );

    expect(samples.filter((s) => s.status === 0)).toEqual([]); // no hang, no dropped connection
    expect(samples.filter((s) => s.status === 500)).toEqual([]);
    // Every failure is a well-formed 503 with Retry-After, and only around the outage.
    for (const s of failures) {
      expect(s).toMatchObject({ status: 503, code: 'service_unavailable', type: 'application/problem+json' });
      expect(Number(s.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(s.end).toBeGreaterThanOrEqual(stopBegin);
    }
    // While it was fully down, every operation (health included) answered 503.
    const down = samples.filter((s) => s.start > stopDone && s.end < startBegin);
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((s) => s.status === 503)).toBe(true);
    expect(down.some((s) => s.op === 'health')).toBe(true);
    // It came back by itself, and the process never went away.
    const after = samples.filter((s) => s.start > lastFailureEnd);
    expect(after.filter((s) => s.op === 'me' && s.status === 200).length).toBeGreaterThan(0);
    expect(lastFailureEnd).toBeLessThan(startDone + AFTER_MS);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/health`, { headers: { 'x-forwarded-for': ip() } })).status).toBe(200);
  }, 60_000);
});
