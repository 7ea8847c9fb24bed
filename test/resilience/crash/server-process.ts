import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

import { freePort } from '../../../conformance/selftest/free-port.ts';

export { freePort };

export interface ServerProcess {
  port: number;
  proc: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** `node --import tsx src/server.ts` with this environment, once `/health` answers 200. */
export async function startServer(env: Record<string, string>, port: number): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => { log += c.toString(); });
  proc.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited at start (${proc.exitCode}):\n${log}`);
    const res = await call(port, 'GET', '/health').catch(() => undefined);
    if (res?.status === 200) return { port, proc, output: () => log, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`server did not answer /health within 30 s:\n${log}`);
}

export interface CallResult {
  status: number;
  body: any;
}

/** One request on its own connection (no keep-alive, so a refused connect is never "in flight"). */
export function call(port: number, method: string, path: string, opts: { json?: unknown; token?: string; ip?: string } = {}): Promise<CallResult> {
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  const headers: Record<string, string> = {};
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.ip !== undefined) headers['x-forwarded-for'] = opts.ip;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text !== '' && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
