import { describe, expect, it } from 'vitest';
import { parseCli } from '../cli-args.ts';
import type { Exchange, RunResult } from '../framework/types.ts';
import { harLog } from './har.ts';

// --har: a valid HTTP Archive with every exchange, masked like the other reports; and the
// command-line flags of the second edition.

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz';
const PASSWORD = 'my-Secret-Passw0rd-ß';

const exchange: Exchange = {
  id: 1,
  operationId: 'login',
  checkId: 'LOGIN-01',
  client: 'self',
  request: {
    method: 'POST',
    url: 'http://localhost:3000/auth/login?x=1',
    headers: { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'a@example.com', password: PASSWORD }),
    bodyBytes: 60,
  },
  status: 200,
  headers: { 'content-type': 'application/json' },
  text: JSON.stringify({ access_token: JWT }),
  body: { access_token: JWT },
  durationMs: 4,
  violations: [],
};

const result = { runId: 'r1', baseUrl: 'http://localhost:3000', startedAt: new Date(0).toISOString(), exchanges: [exchange] } as unknown as RunResult;

describe('HAR export', () => {
  it('writes HAR 1.2 entries with request, response and timings, secrets masked', () => {
    const har = harLog(result) as { log: { version: string; entries: Array<Record<string, any>> } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries).toHaveLength(1);
    const [entry] = har.log.entries;
    expect(entry!.request).toMatchObject({ method: 'POST', queryString: [{ name: 'x', value: '1' }] });
    expect(entry!.response).toMatchObject({ status: 200 });
    expect(entry!.comment).toMatch(/LOGIN-01 login/u);
    const text = JSON.stringify(har);
    expect(text).not.toContain(JWT);
    expect(text).not.toContain(PASSWORD);
  });
});

describe('HAR timestamps (issue 20: 55 entries within 54 ms of a 45 s run)', () => {
  it('uses each exchange\'s real start time and timings', () => {
    const at = (iso: string, id: number): Exchange => ({ ...exchange, id, startedAt: iso, durationMs: 12, timings: { send: 0, wait: 9, receive: 3 } });
    const run = { ...result, exchanges: [at('2026-01-01T00:00:01.500Z', 1), at('2026-01-01T00:00:40.250Z', 2)] } as RunResult;
    const har = harLog(run) as { log: { entries: Array<Record<string, any>> } };
    expect(har.log.entries.map((e) => e.startedDateTime)).toEqual(['2026-01-01T00:00:01.500Z', '2026-01-01T00:00:40.250Z']);
    expect(har.log.entries[0]!.timings).toEqual({ blocked: -1, dns: -1, connect: -1, send: 0, wait: 9, receive: 3, ssl: -1 });
    expect(har.log.entries[0]!.time).toBe(12);
  });
});

describe('second-edition flags', () => {
  it('parses --header (repeatable), --jobs, --profile, --fail-fast, --strict, --har, --dry-run, --insecure, --version', () => {
    const parsed = parseCli(
      ['--base-url', 'https://x', '--header', 'X-Gateway-Key: abc', '--header', 'X-Other:1', '--jobs', '4', '--profile', 'core,totp', '--fail-fast', '--strict', '--har', 'out.har', '--dry-run', '--insecure'],
      {},
    );
    expect(parsed).toMatchObject({ headers: { 'x-gateway-key': 'abc', 'x-other': '1' }, jobs: 4, profiles: ['core', 'totp'], failFast: true, strict: true, harPath: 'out.har', dryRun: true, insecure: true });
    expect(parseCli(['--version'], {})).toBe('version');
    expect(() => parseCli(['--base-url', 'https://x', '--header', 'no colon'], {})).toThrow(/Name: value/u);
    expect(() => parseCli(['--base-url', 'https://x', '--ca', '/nonexistent.pem'], {})).toThrow(/--ca/u);
    expect(() => parseCli(['--base-url', 'https://x', '--jobs', '0'], {})).toThrow(/--jobs/u);
  });
});
