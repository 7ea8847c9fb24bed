import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../framework/contract.ts';
import type { Exchange } from '../framework/types.ts';
import { DEFAULT_CONTRACT, runConformance } from '../run.ts';
import { startBrokenProxy } from '../selftest/broken-proxy.ts';
import { variants } from '../selftest/broken-variants.ts';
import { CLIENT_IP_HEADER, freePort, startReference, type RunningReference } from '../selftest/reference-server.ts';
import { checkHarMain } from './cli.ts';
import { startValidatingProxy } from './server.ts';
import { Traffic } from './traffic.ts';

// The validating proxy with real traffic: in front of the reference server it finds nothing;
// in front of a broken variant it names the rule and the exchange; check-har over the HAR of
// the same traffic finds the same; no secret reaches a line, a file or a report.

const contract = loadContract(DEFAULT_CONTRACT);
const PASSWORD = 'proxy-test correct horse battery 7';

interface Proxied {
  url: string;
  traffic: Traffic;
  lines: string[];
  exchanges: Exchange[];
  out: string;
  /** Waits until `n` exchanges have been judged. */
  judged(n: number): Promise<void>;
  close(): Promise<void>;
}

async function proxyInFront(target: string, clientIpHeader?: string): Promise<Proxied> {
  const out = mkdtempSync(join(tmpdir(), 'qz-proxy-'));
  const lines: string[] = [];
  const exchanges: Exchange[] = [];
  const traffic = new Traffic({ contract, outDir: out, keepAll: true, log: (l) => lines.push(l), baseUrl: target, source: 'proxy' });
  const waiters: Array<() => void> = [];
  const proxy = await startValidatingProxy({
    target,
    port: 0,
    traffic,
    ...(clientIpHeader ? { clientIpHeader } : {}),
    onExchange: (ex) => {
      exchanges.push(ex);
      for (const w of waiters.splice(0)) w();
    },
  });
  return {
    url: proxy.url,
    traffic,
    lines,
    exchanges,
    out,
    async judged(n) {
      while (exchanges.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: proxy.close,
  };
}

/** register, login, /users/me, a 422, a 401, a 404, a 405, logout: the flows of a client. */
let flowClient = 0;
async function flows(base: string): Promise<{ token: string; count: number }> {
  // Each flow from its own address (the reference trusts the header): budgets never meet.
  const json = { 'content-type': 'application/json', [CLIENT_IP_HEADER]: `198.51.100.${++flowClient}` };
  const email = `proxy-${Date.now()}@example.com`;
  const register = await fetch(`${base}/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD, full_name: 'Proxy Test' }) });
  await register.arrayBuffer();
  const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };
  for (const [path, init] of [
    ['/users/me', { headers: auth }],
    ['/auth/register', { method: 'POST', headers: json, body: JSON.stringify({ email: 'not an address', password: PASSWORD, full_name: 'x' }) }],
    ['/users/me', {}],
    ['/no/such/path', {}],
    ['/auth/login', { method: 'GET' }],
    ['/health', {}],
    ['/auth/logout', { method: 'POST', headers: auth }],
  ] as Array<[string, RequestInit]>) {
    await (await fetch(`${base}${path}`, init)).arrayBuffer();
  }
  return { token, count: 9 };
}

function filesText(dir: string): string {
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
}

const findings = (exchanges: Array<Pick<Exchange, 'id' | 'violations'>>): string[] =>
  exchanges.flatMap((ex) => ex.violations.map((v) => `#${ex.id} ${v.requirement}`)).sort();

describe('validating proxy', () => {
  let ref: RunningReference;
  const dirs: string[] = [];
  beforeAll(async () => {
    ref = await startReference();
  });
  afterAll(async () => {
    await ref?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('in front of the reference server: real client flows, 0 violations, a matrix of what was seen, no secret in any file', async () => {
    const p = await proxyInFront(ref.url);
    dirs.push(p.out);
    const { token, count } = await flows(p.url);
    await p.judged(count);
    await p.close();
    const { result, files } = await p.traffic.finish('must');
    expect(p.lines).toEqual([]);
    expect(findings(p.exchanges)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.requirements.every((r) => r.outcome === 'pass')).toBe(true);
    const cell = (op: string, status: number) => result.coverage.find((c) => c.operationId === op && c.status === status)?.exercised;
    expect([cell('register', 201), cell('register', 422), cell('login', 200), cell('getCurrentUser', 200), cell('getCurrentUser', 401), cell('logout', 200)]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'traffic.har', 'violations.jsonl']);
    const text = filesText(p.out);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(token);
    expect(text).toContain('Bearer ***');
  });

  it('in front of broken variants: names the rule and the exchange, as it happens and in violations.jsonl; check-har on its HAR finds the same', async () => {
    const env = { harnessUrl: ref.harnessUrl, harnessToken: ref.harnessToken, tokenSigningKey: ref.tokenSigningKey };
    const status = variants.find((v) => v.name === 'register answers 200 instead of 201')!;
    const header = variants.find((v) => v.name === '401 without WWW-Authenticate')!;
    const broken = await startBrokenProxy(ref.url, {
      onResponse: async (req, res, ctx) => header.mutation(env).onResponse!(req, await status.mutation(env).onResponse!(req, res, ctx), ctx),
    });
    const p = await proxyInFront(broken.url);
    dirs.push(p.out);
    try {
      const { token, count } = await flows(p.url);
      await p.judged(count);
      await p.close();
      const { result, files } = await p.traffic.finish('must');
      const register = p.exchanges.find((ex) => ex.operationId === 'register' && ex.status === 200)!;
      const anonymous = p.exchanges.find((ex) => ex.operationId === 'getCurrentUser' && ex.status === 401)!;
      expect(register.violations.map((v) => v.requirement)).toContain('CONTRACT-STATUS');
      expect(anonymous.violations.map((v) => v.requirement)).toEqual(['CONTRACT-HEADERS', 'CONTRACT-HEADERS']);
      expect(anonymous.violations.map((v) => v.message).join(' ')).toMatch(/www-authenticate/iu);
      expect(p.lines.some((l) => l.startsWith(`✗ #${register.id} register POST /auth/register → 200 CONTRACT-STATUS`))).toBe(true);
      const jsonl = readFileSync(join(p.out, 'violations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { exchange: number; rule: string; operationId: string });
      expect(jsonl).toContainEqual(expect.objectContaining({ exchange: register.id, rule: 'CONTRACT-STATUS', operationId: 'register' }));
      expect(jsonl).toContainEqual(expect.objectContaining({ exchange: anonymous.id, rule: 'CONTRACT-HEADERS', operationId: 'getCurrentUser' }));
      expect(result.exitCode).toBe(1);
      expect(result.requirements.find((r) => r.id === 'CONTRACT-STATUS')).toMatchObject({ outcome: 'fail', exchangeIds: [register.id] });
      const text = filesText(p.out);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(token);

      // The same traffic from its (masked) HAR: the same findings on the same exchanges.
      const out = mkdtempSync(join(tmpdir(), 'qz-har-'));
      dirs.push(out);
      const lines: string[] = [];
      const code = await checkHarMain([files.find((f) => f.endsWith('.har'))!, '--out', out], (l) => lines.push(l));
      expect(code).toBe(1);
      const again = readFileSync(join(out, 'violations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { exchange: number; rule: string });
      expect(again.map((r) => `#${r.exchange} ${r.rule}`).sort()).toEqual(findings(p.exchanges));
      expect(findings(p.exchanges).length).toBeGreaterThanOrEqual(2);
    } finally {
      await broken.close();
    }
  });

  it('the whole suite through the proxy: no violation by the deployment; check-har on the suite\'s own --har agrees', async () => {
    const p = await proxyInFront(ref.url);
    dirs.push(p.out);
    const harPath = join(p.out, 'suite.har');
    const run = await runConformance({
      baseUrl: p.url,
      smtpPort: ref.smtpPort,
      clientIpHeader: ref.clientIpHeader!,
      harnessUrl: ref.harnessUrl,
      harnessToken: ref.harnessToken,
      tokenSigningKey: ref.tokenSigningKey,
      reportDir: null,
      harPath,
      log: () => {},
    });
    expect(run.exitCode).toBe(0);
    expect(run.summary.pass).toBeGreaterThan(80);
    await p.judged(run.exchanges.filter((ex) => ex.request.url.startsWith(p.url)).length);
    await p.close();
    const deployment = p.exchanges.flatMap((ex) => ex.violations.filter((v) => !v.requirement.startsWith('CLIENT-')).map((v) => `#${ex.id} ${ex.request.method} ${ex.request.url} → ${ex.status} ${v.requirement}: ${v.message}`));
    expect(deployment).toEqual([]);
    // SESSIONS-05 sends a session token in the query string on purpose (to see it refused):
    // the client's fault, reported as such (a SHOULD: the run still exits 0).
    const client = p.exchanges.filter((ex) => ex.violations.length).map((ex) => `${ex.request.method} ${new URL(ex.request.url).pathname}${new URL(ex.request.url).search.replace(/=.*$/u, '=…')} → ${ex.status}`);
    expect(client).toEqual(['GET /users/me?access_token=… → 401', 'GET /users/me?token=… → 401']);
    expect(p.traffic.exitCode('must')).toBe(0);
    expect(p.traffic.exitCode('should')).toBe(1);
    const lines: string[] = [];
    const code = await checkHarMain([harPath], (l) => lines.push(l));
    expect(lines.filter((l) => l.startsWith('✗') && !/ CLIENT-SECRET-IN-URL /u.test(l))).toEqual([]);
    // The same two exchanges; the HAR's masking left the parameter names, not the tokens' shape.
    expect(lines.filter((l) => l.startsWith('✗')).map((l) => / GET (\/users\/me\?\w+=)/u.exec(l)?.[1])).toEqual(['/users/me?access_token=', '/users/me?token=']);
    expect(code).toBe(0);
  }, 180_000);

  it('forwards unchanged: the same status, headers and bytes as the server sends; a body over the cap is judged by its headers only', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qz-proxy-cap-'));
    dirs.push(out);
    const traffic = new Traffic({ contract, outDir: out, log: () => {}, baseUrl: ref.url, source: 'proxy' });
    const judged: Exchange[] = [];
    const proxy = await startValidatingProxy({ target: ref.url, port: 0, traffic, bodyCap: 8, onExchange: (ex) => judged.push(ex) });
    try {
      const body = JSON.stringify({ email: 'not an address', password: PASSWORD, full_name: 'x'.repeat(5000) });
      const send = (base: string) => fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-custom': 'kept', [CLIENT_IP_HEADER]: '203.0.113.77' }, body });
      const direct = await send(ref.url);
      const proxied = await send(proxy.url);
      const headersOf = (r: Response) => [...r.headers].filter(([k]) => !['date', 'ratelimit', 'connection', 'keep-alive'].includes(k));
      expect(proxied.status).toBe(direct.status);
      expect(headersOf(proxied)).toEqual(headersOf(direct));
      expect(await proxied.text()).toBe(await direct.text());
      while (judged.length < 1) await new Promise((r) => setTimeout(r, 10));
      expect(judged[0]!.request.bodyBytes).toBe(Buffer.byteLength(body));
      expect(judged[0]!.violations).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a request the client abandons before any answer is not held against the deployment', async () => {
    const traffic = new Traffic({ contract, log: () => {}, baseUrl: ref.url, source: 'proxy' });
    const judged: Exchange[] = [];
    const proxy = await startValidatingProxy({ target: ref.url, port: 0, traffic, onExchange: (ex) => judged.push(ex) });
    try {
      // Half a body, then the client hangs up: the server is still waiting for the rest.
      const { port } = new URL(proxy.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      await (await fetch(`${proxy.url}/health`, { headers: { [CLIENT_IP_HEADER]: '203.0.113.78' } })).arrayBuffer();
      while (judged.length < 1) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      expect(judged.map((ex) => `${ex.request.method} ${new URL(ex.request.url).pathname} ${ex.status} ${ex.violations.length}`)).toEqual(['GET /health 200 0']);
    } finally {
      await proxy.close();
    }
  });

  it('the proxy command: stops after --max-exchanges, writes its reports, exits by --fail-on', async () => {
    const { proxyMain } = await import('./cli.ts');
    const run = async (failOn: string): Promise<{ code: number; out: string; lines: string[] }> => {
      const out = mkdtempSync(join(tmpdir(), 'qz-proxy-cli-'));
      dirs.push(out);
      const port = await freePort();
      const lines: string[] = [];
      let started!: () => void;
      const ready = new Promise<void>((resolve) => (started = resolve));
      const done = proxyMain(['--target', ref.url, '--listen', String(port), '--out', out, '--fail-on', failOn, '--max-exchanges', '2'], (l) => {
        lines.push(l);
        if (l.startsWith('quazzar-conformance proxy: http')) started();
      });
      await ready;
      // A client that puts a token in the URL: a SHOULD finding (CLIENT-SECRET-IN-URL).
      await (await fetch(`http://127.0.0.1:${port}/health?token=abc`, { headers: { [CLIENT_IP_HEADER]: '203.0.113.79' } })).arrayBuffer();
      await (await fetch(`http://127.0.0.1:${port}/health`, { headers: { [CLIENT_IP_HEADER]: '203.0.113.79' } })).arrayBuffer();
      return { code: await done, out, lines };
    };
    const lenient = await run('must');
    expect(lenient.code).toBe(0);
    expect(lenient.lines.some((l) => / CLIENT-SECRET-IN-URL \[SHOULD\]/u.test(l))).toBe(true);
    expect(readdirSync(lenient.out).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'violations.jsonl']);
    expect(readFileSync(join(lenient.out, 'junit.xml'), 'utf8')).toContain('CLIENT-SECRET-IN-URL');
    const strict = await run('should');
    expect(strict.code).toBe(1);
  });

  it('judges what the client sends too: a token in the query string, an incoherent RateLimit', () => {
    const traffic = new Traffic({ contract, log: () => {}, baseUrl: 'http://x', source: 'test' });
    const headers = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cache-control': 'no-store', 'content-type': 'application/json' };
    const base = { client: 'c', status: 200, text: '{"status":"ok"}', body: { status: 'ok' }, durationMs: 1 };
    const inUrl = traffic.add({ ...base, request: { method: 'GET', url: 'http://x/health?access_token=eyJhbGciOi.eyJzdWIiOi.c2ln', headers: {}, bodyBytes: 0 }, headers: { ...headers, 'ratelimit-policy': '"health";q=120;w=60', ratelimit: '"health";r=119;t=60' } });
    expect(inUrl.violations.map((v) => v.requirement)).toEqual(['CLIENT-SECRET-IN-URL', 'CLIENT-SECRET-IN-URL']);
    const accepted = traffic.add({ ...base, text: '{}', body: {}, request: { method: 'GET', url: 'http://x/projects?token=eyJhbGciOi.eyJzdWIiOi.c2ln', headers: {}, bodyBytes: 0 }, headers });
    expect(accepted.violations.map((v) => v.requirement)).toContain('TRAFFIC-URL-CREDENTIAL');
    const unavailable = traffic.add({ ...base, status: 503, text: '{}', body: { type: 'https://app.quazzar.space/problems/service_unavailable', title: 'Service unavailable', status: 503, detail: 'The database cannot be reached.', code: 'service_unavailable' }, request: { method: 'GET', url: 'http://x/projects', headers: {}, bodyBytes: 0 }, headers: { ...headers, 'content-type': 'application/problem+json' } });
    expect(unavailable.violations).toEqual([{ requirement: 'CONTRACT-HEADERS', message: '503 without an integer Retry-After (got null)' }]);
    const wrongWindow = traffic.add({ ...base, request: { method: 'GET', url: 'http://x/health', headers: {}, bodyBytes: 0 }, headers: { ...headers, 'ratelimit-policy': '"health";q=120;w=30', ratelimit: '"health";r=119;t=45' } });
    expect(wrongWindow.violations.map((v) => v.requirement)).toEqual(['TRAFFIC-RATELIMIT', 'TRAFFIC-RATELIMIT']);
  });
});

describe('proxy and check-har command lines', () => {
  it('a usage error exits 2 and says what to fix', async () => {
    const { proxyMain } = await import('./cli.ts');
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      expect(await proxyMain(['--listen', '8080'])).toBe(2);
      expect(await proxyMain(['--target', 'http://127.0.0.1:1', '--listen', '8080', '--fail-on', 'sometimes'])).toBe(2);
      expect(await checkHarMain([])).toBe(2);
      expect(await checkHarMain(['/nonexistent/file.har'])).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toMatch(/--target URL is required[\s\S]*--fail-on must be one of must, should, none[\s\S]*one HAR file is required[\s\S]*cannot read \/nonexistent\/file\.har/u);
  });
});

describe('check-har on a browser export', () => {
  it('judges the API origin only, reads HTTP/2 pseudo-headers and base64 bodies, and judges an unrecorded body by its headers', async () => {
    const h = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));
    const safe = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store', 'RateLimit-Policy': '"health";q=120;w=60', RateLimit: '"health";r=119;t=60' };
    const health = JSON.stringify({ status: 'ok' });
    const entry = (url: string, status: number, headers: Record<string, string>, content: Record<string, unknown>) => ({
      startedDateTime: '2026-12-07T00:00:00Z', time: 3,
      request: { method: 'GET', url, httpVersion: 'h2', headers: h({ ':authority': 'api.example', accept: '*/*' }), queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
      response: { status, statusText: '', httpVersion: 'h2', headers: h({ ':status': String(status), ...headers }), cookies: [], content, redirectURL: '', headersSize: -1, bodySize: -1 },
      cache: {}, timings: { send: 0, wait: 3, receive: 0 },
    });
    const har = {
      log: {
        version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, pages: [],
        entries: [
          entry('https://api.example/health', 200, { ...safe, 'Content-Type': 'application/json' }, { size: health.length, mimeType: 'application/json', text: Buffer.from(health).toString('base64'), encoding: 'base64' }),
          // Chrome leaves out some bodies: judged by status and headers (here the missing nosniff).
          entry('https://api.example/health', 200, { ...safe, 'X-Content-Type-Options': '', 'Content-Type': 'application/json' }, { size: 15, mimeType: 'application/json' }),
          entry('https://cdn.example/app.js', 200, { 'Content-Type': 'text/javascript' }, { size: 10, mimeType: 'text/javascript', text: 'var a = 1;' }),
        ],
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'qz-browser-har-'));
    try {
      const file = join(dir, 'browser.har');
      writeFileSync(file, JSON.stringify(har));
      const lines: string[] = [];
      expect(await checkHarMain([file], (l) => lines.push(l))).toBe(1);
      expect(lines[0]).toMatch(/2 exchanges of https:\/\/api\.example \(1 of other origins ignored\)/u);
      expect(lines.filter((l) => l.startsWith('✗'))).toEqual(['✗ #2 getHealth GET /health → 200 TRAFFIC-SECURITY-HEADERS [MUST]: X-Content-Type-Options is "", documented: nosniff']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
