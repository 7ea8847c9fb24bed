// The header parsing and the retry policy on their own (no server): structured fields as the
// server sends them (src/rate-limit/enforce.ts) and as the IETF draft allows them.
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, parseSfList, readRateLimit } from './rate-limit.ts';
import { retryingFetch } from './retry.ts';

describe('RateLimit / RateLimit-Policy / Retry-After', () => {
  it('reads what the reference server sends', () => {
    const info = readRateLimit(new Headers({ 'RateLimit-Policy': '"login";q=10;w=60', RateLimit: '"login";r=3;t=42', 'Retry-After': '42' }));
    expect(info).toEqual({
      policies: [{ name: 'login', quota: 10, windowSeconds: 60 }],
      limits: [{ name: 'login', remaining: 3, resetSeconds: 42 }],
      remaining: 3,
      resetSeconds: 42,
      retryAfterSeconds: 42,
    });
  });

  it('takes several policies, tokens, spaces and unknown parameters; the smallest remaining wins', () => {
    const info = readRateLimit(
      new Headers({ 'RateLimit-Policy': 'burst;q=100;w=60;pk=:abc=:, "day";q=1000;w=86400', RateLimit: '"day";r=900;t=3600,  burst;r=7;t=12;x' }),
    );
    expect(info.policies.map((p) => [p.name, p.quota, p.windowSeconds])).toEqual([['burst', 100, 60], ['day', 1000, 86400]]);
    expect(info.limits).toEqual([
      { name: 'day', remaining: 900, resetSeconds: 3600 },
      { name: 'burst', remaining: 7, resetSeconds: 12 },
    ]);
    expect(info.remaining).toBe(7);
    expect(info.resetSeconds).toBe(12);
  });

  it('ignores a field that is not a structured field list, as a whole', () => {
    expect(parseSfList('"login";r=3;t=42,')).toEqual([]);
    expect(parseSfList('"unterminated;r=3')).toEqual([]);
    expect(parseSfList('"a" "b"')).toEqual([]);
    expect(parseSfList('')).toEqual([]);
    const info = readRateLimit(new Headers({ RateLimit: 'r=3, t=' }));
    expect(info.limits).toEqual([]);
    expect(info.remaining).toBeUndefined();
  });

  it('parses strings with escapes, booleans and decimals', () => {
    const [item] = parseSfList('"a \\"b\\"";flag;on=?1;off=?0;d=1.5');
    expect(item?.value).toBe('a "b"');
    expect(Object.fromEntries(item!.params)).toEqual({ flag: true, on: true, off: false, d: 1.5 });
  });

  it('Retry-After: delay-seconds or an HTTP-date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });
});

describe('retry after Retry-After (opt-in, idempotent only)', () => {
  /** A fetch that answers the given statuses in turn and records each request's method. */
  function scripted(...answers: Array<{ status: number; retryAfter?: string }>) {
    const seen: string[] = [];
    const fetch = async (request: Request) => {
      seen.push(request.method);
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      return new Response(a.status === 200 ? '{}' : '{"code":"rate_limited","status":429}', {
        status: a.status,
        headers: a.retryAfter === undefined ? {} : { 'Retry-After': a.retryAfter },
      });
    };
    return { fetch, seen };
  }

  it('waits Retry-After seconds and tries again, at most `attempts` tries in all', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const s = scripted({ status: 429, retryAfter: '2' }, { status: 503, retryAfter: '1' }, { status: 200 });
    const ok = await retryingFetch(s.fetch, { attempts: 3, sleep })(new Request('http://x/health'));
    expect(ok.status).toBe(200);
    expect(slept).toEqual([2000, 1000]);

    const never = scripted({ status: 429, retryAfter: '1' });
    const refused = await retryingFetch(never.fetch, { attempts: 3, sleep })(new Request('http://x/health'));
    expect(refused.status).toBe(429);
    expect(never.seen).toHaveLength(3);
  });

  it('does not wait longer than maxWaitSeconds, nor without Retry-After, nor for other statuses', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const long = scripted({ status: 429, retryAfter: '900' }, { status: 200 });
    expect((await retryingFetch(long.fetch, { maxWaitSeconds: 60, sleep })(new Request('http://x/a'))).status).toBe(429);
    const bare = scripted({ status: 429 }, { status: 200 });
    expect((await retryingFetch(bare.fetch, { sleep })(new Request('http://x/a'))).status).toBe(429);
    const server = scripted({ status: 500, retryAfter: '1' }, { status: 200 });
    expect((await retryingFetch(server.fetch, { sleep })(new Request('http://x/a'))).status).toBe(500);
    expect(slept).toEqual([]);
  });

  it('never sends a POST or PATCH again; PUT and DELETE are idempotent', async () => {
    const sleep = async () => undefined;
    for (const method of ['POST', 'PATCH']) {
      const s = scripted({ status: 429, retryAfter: '1' }, { status: 200 });
      expect((await retryingFetch(s.fetch, { sleep })(new Request('http://x/a', { method, body: '{}' }))).status).toBe(429);
      expect(s.seen).toEqual([method]);
    }
    for (const method of ['PUT', 'DELETE']) {
      const s = scripted({ status: 429, retryAfter: '1' }, { status: 200 });
      expect((await retryingFetch(s.fetch, { sleep })(new Request('http://x/a', { method, body: '{"code":"1"}' }))).status).toBe(200);
      expect(s.seen).toEqual([method, method]);
    }
  });
});
