// `npm run bench`: authenticated GET /users/me on the reference server against bare Koa
// answering the same JSON, measured side by side in one run (compare the ratio, not the
// absolute numbers: they depend on the machine and its load).
//
// Each server runs in its own child process (this script with `--serve`), so the load
// generator (autocannon, here) does not share an event loop with what it measures.
// Options: --duration <seconds> (default 10), --connections <n> (default 10).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Koa from 'koa';

interface Stats { average: number; p50: number; p99: number }
interface AutocannonResult { requests: Stats; latency: Stats; non2xx: number; errors: number; timeouts: number }
type Autocannon = (opts: { url: string; connections: number; duration: number; headers?: Record<string, string> }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const USER_JSON = {
  id: '550e8400-e29b-41d4-a716-446655440000', email: 'jane@example.com', full_name: 'Jane Developer',
  company_name: 'Acme Corp', phone: '+1-555-0100', is_active: true, totp_enabled: false, created_at: '2026-01-15T08:30:00.000Z',
};

/** Child process: start one server on 127.0.0.1:0 and report `{port, token?}` to the parent. */
async function serve(kind: string): Promise<void> {
  if (kind === 'bare') {
    const app = new Koa();
    app.use((ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = USER_JSON;
    });
    const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
    return;
  }
  const { loadConfig } = await import('../src/config.ts');
  const { createApp } = await import('../src/app.ts');
  const dir = mkdtempSync(path.join(tmpdir(), 'quazzar-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`, SCRYPT_LOG_N: '10',
    JWT_SECRET: 'bench-only-secret-0123456789abcdef0123456789', DATA_ENCRYPTION_KEY: 'ab'.repeat(32), MAIL_OUTBOX_DIR: path.join(dir, 'outbox'),
  });
  // Bench only: the limiter still runs on every request, but the budget never runs out.
  const built = await createApp({ config: { ...config, rateLimitMultiplier: 1_000_000 } });
  const server = built.app.listen(0, '127.0.0.1', async () => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const post = (p: string, body: unknown) => fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const creds = { email: USER_JSON.email, password: 'secure-password-123' };
    await post('/auth/register', { ...creds, full_name: USER_JSON.full_name, company_name: USER_JSON.company_name });
    const { access_token } = (await (await post('/auth/login', creds)).json()) as { access_token: string };
    process.send?.({ port: (server.address() as { port: number }).port, token: access_token });
  });
  process.on('disconnect', () => {
    server.close();
    void built.close().finally(() => rmSync(dir, { recursive: true, force: true }));
  });
}

function start(kind: string): Promise<{ child: ChildProcess; port: number; token?: string }> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', kind], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number; token?: string }) => resolve({ child, ...m }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

async function measure(label: string, url: string, headers: Record<string, string>, duration: number, connections: number) {
  await autocannon({ url, connections, duration: 1, headers }); // warm-up: lazy validators, JIT
  const r = await autocannon({ url, connections, duration, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${label}: ${r.non2xx} non-2xx answers, ${r.errors} errors — the numbers would be meaningless`);
  return { label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { serve: { type: 'string' }, duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } } });
  if (values.serve !== undefined) return serve(values.serve);
  const duration = Number(values.duration);
  const connections = Number(values.connections);

  const bare = await start('bare');
  const reference = await start('reference');
  try {
    const rows = [
      await measure('bare Koa, same JSON', `http://127.0.0.1:${bare.port}/users/me`, {}, duration, connections),
      await measure('reference GET /users/me', `http://127.0.0.1:${reference.port}/users/me`, { authorization: `Bearer ${reference.token}` }, duration, connections),
    ];
    console.log(`\nGET /users/me, ${connections} connections, ${duration} s each, Node ${process.version}\n`);
    console.log('| server | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} |`);
    const [b, s] = rows as [typeof rows[0], typeof rows[0]];
    console.log(`\nreference / bare throughput: ${(s.rps / b.rps).toFixed(3)} (${(b.rps / s.rps).toFixed(1)}× slower)`);
    console.log('The reference path: routing, JWT verify (jose HS256), session + user lookup (one SQL join),');
    console.log('rate-limit count, contract validation of the request, JSON answer.');
  } finally {
    bare.child.disconnect();
    reference.child.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
