import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../test/helpers.ts';

const server = path.resolve(import.meta.dirname, 'server.ts');

function start(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', server], { env: { ...process.env, ...env } as NodeJS.ProcessEnv });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('server.ts', () => {
  it('listens, serves, and on SIGTERM stops cleanly with exit code 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'server-'));
    const s = start(testEnv({ PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: `sqlite:${path.join(dir, 'db', 'q.sqlite')}`, VALIDATE_RESPONSES: 'false' }));
    let url: string | undefined;
    for (let i = 0; i < 300 && url === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      url = /"msg":"listening","url":"([^"]+)"/.exec(s.out())?.[1];
    }
    expect(url, s.err()).toBeDefined();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain('"msg":"stopped"');
    expect(s.out()).not.toMatch(/test-jwt-secret/);
  });

  it('refuses to start with a bad configuration and says what to fix', async () => {
    const s = start({ NODE_ENV: 'production', JWT_SECRET: '', DATA_ENCRYPTION_KEY: '', DATABASE_URL: 'sqlite::memory:' });
    expect(await s.exited).toBe(1);
    expect(s.err()).toContain('JWT_SECRET is required when NODE_ENV=production');
  });
});
