import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../test/helpers.ts';

// Issue 20 item 18: `npm run walkthrough` says what to do when no server answers, and its
// whole output reaches a file it is redirected to (`> log 2>&1`).

const root = path.resolve(import.meta.dirname, '..');
const script = path.join(root, 'scripts', 'walkthrough.sh');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs the walkthrough with stdout and stderr both redirected to one file, as `> log 2>&1` does. */
function walkthrough(env: Record<string, string>): Promise<{ code: number | null; log: string }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'walkthrough-log-')), 'log.txt');
  const fd = openSync(file, 'w');
  const child = spawn('bash', [script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      closeSync(fd);
      resolve({ code, log: readFileSync(file, 'utf8') });
    }),
  );
}

describe('npm run walkthrough', () => {
  it('with no server at B: exit 1 and one line saying what to do', async () => {
    const port = await freePort();
    const r = await walkthrough({ B: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.log.trim()).toBe(`no server at http://127.0.0.1:${port} — start it with npm start, or set B=http://host:port`);
  });

  describe('against a running server, output redirected to a file', () => {
    let server: ReturnType<typeof spawn>;
    let url: string;
    let outbox: string;
    beforeAll(async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'walkthrough-'));
      outbox = path.join(dir, 'outbox');
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: root,
        env: { ...process.env, ...testEnv({ PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, LOG_LEVEL: 'info', VALIDATE_RESPONSES: 'false', DATABASE_URL: `sqlite:${path.join(dir, 'q.sqlite')}`, MAIL_OUTBOX_DIR: outbox }) } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      server.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      server.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      for (let i = 0; i < 300 && !out.includes('"msg":"listening"'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('"msg":"listening"');
    });
    afterAll(() => {
      server?.kill('SIGTERM');
    });

    // Two fresh TOTP steps are waited for (up to 31 s each), as a person with an authenticator would.
    it('the log holds every step, from the first line to the last', async () => {
      const r = await walkthrough({ B: url, OUTBOX: outbox });
      expect(r.log).not.toContain('\0');
      expect(r.code, r.log).toBe(0);
      expect(r.log.startsWith('# register + login\n')).toBe(true);
      expect(r.log).toMatch(/"backup_codes":\[/);
      expect(r.log).toContain('# password reset: request');
      expect(r.log).toContain('key after revoke: 401');
    }, 120_000);
  });
});
