import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { testEnv } from '../helpers.ts';

// Issue 17 defect 3 (SEC 29): 600 connections that ask for the docs page and never read the
// answer took a server from 93 MB to 1.3 GB (a fresh 2.7 MB buffer per request). The target:
// less than 100 MB of growth. A real server process on loopback; its RSS from /proc.

const CONNECTIONS = 600;
const PAGE_BYTES = 2_700_000;
const dir = mkdtempSync(path.join(tmpdir(), 'qz-static-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rssMb = (pid: number): number => Number(/VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it(`${CONNECTIONS} unread GET /docs/ connections grow the server's RSS by less than 100 MB`, { timeout: 60_000 }, async () => {
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>docs</title><pre>${'x'.repeat(PAGE_BYTES)}</pre>`);
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'static-memory', 'server.ts')], {
    env: {
      ...process.env,
      // Budgets ×1000: this measures what each answer costs, not that the per-IP budget refuses most of them.
      ...testEnv({ LOG_LEVEL: 'info', VALIDATE_RESPONSES: 'false', RATE_LIMIT_MULTIPLIER: '1000' }),
      STATIC_FIXTURE_DOCS_DIR: dir,
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  server.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const sockets: Socket[] = [];
  try {
    let port: number | undefined;
    for (let i = 0; i < 300 && port === undefined; i++) {
      await sleep(100);
      port = Number(/listening (\d+)/.exec(out)?.[1]) || undefined;
    }
    expect(port, out).toBeDefined();
    const answered = () => (out.match(/"msg":"request","method":"GET","path":"\/docs\/","status":200/g) ?? []).length;
    // One read request first, so that what a first request loads once is in the baseline.
    const warm = await fetch(`http://127.0.0.1:${port}/docs/`);
    expect(warm.status).toBe(200);
    expect((await warm.arrayBuffer()).byteLength).toBeGreaterThan(PAGE_BYTES);
    await sleep(500);
    const before = rssMb(server.pid!);
    for (let i = 0; i < CONNECTIONS; i++) {
      const s = connect(port!, '127.0.0.1');
      s.on('error', () => {});
      s.pause(); // never read: the answer stays queued in the server
      s.write('GET /docs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      sockets.push(s);
    }
    for (let i = 0; i < 300 && answered() < CONNECTIONS + 1; i++) await sleep(100);
    expect(answered(), 'every request reached the docs route').toBe(CONNECTIONS + 1);
    await sleep(1000);
    const after = rssMb(server.pid!);
    process.stdout.write(`static-memory: server RSS ${before.toFixed(0)} MB → ${after.toFixed(0)} MB with ${CONNECTIONS} unread GET /docs/ (${(PAGE_BYTES / 1e6).toFixed(1)} MB page)\n`);
    expect(after - before).toBeLessThan(100);
  } finally {
    for (const s of sockets) s.destroy();
    server.kill('SIGKILL');
  }
});
