import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knex from 'knex';

// Real services on loopback for the scale, fault and benchmark runs: a private redis-server,
// a fresh PostgreSQL schema, and reference-server processes (`npm start` without the docs step).

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REDIS_SERVER = '/usr/bin/redis-server';

import { freePort } from '../../conformance/selftest/free-port.ts';

export { freePort };

/** Thrown inside a waitFor probe to stop waiting at once. */
export class GaveUp extends Error {}

export async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ok()) return;
    } catch (err) {
      if (err instanceof GaveUp) throw err; // not worth waiting for any more
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Why Redis tests cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} is not installed (apt-get install redis-server; .ci/run does)`;
}

/** A private redis-server on a free loopback port, no persistence; `port` reuses one (restart). */
export async function startRedis(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const child = spawn(REDIS_SERVER, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { Redis } = await import('ioredis');
  await waitFor(`redis-server on ${p}`, async () => {
    const probe = new Redis({ port: p, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  });
  return {
    url: `redis://127.0.0.1:${p}/0`,
    port: p,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A fresh schema on TEST_DATABASE_URL's server; its URL selects it through search_path. */
export async function freshSchema(baseUrl: string, prefix = 'scale'): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomUUID().replace(/-/g, '')}`;
  const admin = knex({ client: 'pg', connection: baseUrl });
  await admin.raw(`create schema "${schema}"`);
  await admin.destroy();
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const a = knex({ client: 'pg', connection: baseUrl });
      try {
        await a.raw(`drop schema if exists "${schema}" cascade`);
      } finally {
        await a.destroy();
      }
    },
  };
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote (stdout and stderr), for assertions on logs. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Secrets every instance of one deployment shares (tokens made by A must verify on B). */
export function sharedSecrets(): Record<string, string> {
  return { JWT_SECRET: randomBytes(48).toString('base64'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
}

/**
 * `node --import tsx src/server.ts` with `env` (PORT chosen here), resolved once GET /health
 * answers. The process is a real, separate server: its own PID, port, pool and clock.
 */
export async function startServer(env: Record<string, string>, opts: { waitHealthy?: boolean } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'qz-scale-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      SCRYPT_LOG_N: '10',
      MAIL_OUTBOX_DIR: path.join(dataDir, 'outbox'),
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    pid: child.pid!,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
  if (opts.waitHealthy !== false) {
    try {
      await waitFor(`server on ${port}`, async () => {
        if (child.exitCode !== null) throw new GaveUp(`server exited with ${child.exitCode}: ${out}`);
        return (await fetch(`${url}/health`)).status === 200;
      }, 30_000);
    } catch (err) {
      await server.stop('SIGKILL');
      throw new Error(`${(err as Error).message}\n${out}`);
    }
  } else {
    await waitFor(`server listening on ${port}`, async () => {
      if (child.exitCode !== null) throw new GaveUp(`server exited with ${child.exitCode}: ${out}`);
      await fetch(`${url}/openapi.json`, { method: 'HEAD' });
      return true;
    }, 30_000);
  }
  return server;
}
