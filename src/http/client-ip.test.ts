import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { buildTestApp } from '../../test/helpers.ts';
import { clientIpOf } from './client-ip.ts';

// Issue #10 defect 1: behind an appending proxy the left-most X-Forwarded-For entry is
// whatever the client sent. Only declared hops are trusted; the right-most untrusted entry is
// the client; an entry that is not an IP (or a 16 KiB forgery) never becomes a budget key.

const secrets = { JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'ab'.repeat(32), NODE_ENV: 'test' };
const configFor = (trust: string, header = 'x-forwarded-for') => loadConfig({ ...secrets, TRUST_PROXY: trust, CLIENT_IP_HEADER: header });
const xff = (v: string) => ({ 'x-forwarded-for': v });

describe('clientIpOf', () => {
  it('TRUST_PROXY=false ignores the header', () => {
    expect(clientIpOf(configFor('false'), '10.0.0.1', xff('203.0.113.9'))).toBe('10.0.0.1');
  });

  it('TRUST_PROXY=true: one proxy, the right-most entry is the client (a forged left-most one is ignored)', () => {
    const c = configFor('true');
    expect(clientIpOf(c, '10.0.0.1', xff('1.2.3.4, 203.0.113.9'))).toBe('203.0.113.9');
    expect(clientIpOf(c, '10.0.0.1', xff('203.0.113.9'))).toBe('203.0.113.9');
    expect(clientIpOf(c, '::ffff:10.0.0.1', xff('::ffff:198.51.100.3'))).toBe('198.51.100.3');
  });

  it('a number is that many hops', () => {
    const c = configFor('2');
    expect(clientIpOf(c, '10.0.0.1', xff('1.2.3.4, 203.0.113.9, 10.0.0.2'))).toBe('203.0.113.9');
    // Fewer entries than hops: the furthest one there is.
    expect(clientIpOf(c, '10.0.0.1', xff('203.0.113.9'))).toBe('203.0.113.9');
  });

  it('a list of proxy addresses/CIDRs: the right-most entry that is not a declared proxy', () => {
    const c = configFor('10.0.0.0/8, 192.168.1.5, fd00::/8');
    expect(clientIpOf(c, '10.0.0.1', xff('1.2.3.4, 203.0.113.9, 192.168.1.5, 10.1.2.3'))).toBe('203.0.113.9');
    expect(clientIpOf(c, 'fd00::1', xff('2001:db8::7'))).toBe('2001:db8::7');
    // A socket that is not a declared proxy: the header is not looked at.
    expect(clientIpOf(c, '203.0.113.50', xff('1.2.3.4'))).toBe('203.0.113.50');
    // Every entry is a proxy: the left-most one.
    expect(clientIpOf(c, '10.0.0.1', xff('10.0.0.9, 10.0.0.8'))).toBe('10.0.0.9');
  });

  it('an entry that is not an IP, or a huge header, falls back to the socket address', () => {
    const c = configFor('true');
    expect(clientIpOf(c, '10.0.0.1', xff('not-an-ip'))).toBe('10.0.0.1');
    expect(clientIpOf(c, '10.0.0.1', xff(`${'9'.repeat(16_000)}`))).toBe('10.0.0.1');
    expect(clientIpOf(c, '10.0.0.1', xff(`1.2.3.4, ${'a'.repeat(8000)}`))).toBe('10.0.0.1');
    expect(clientIpOf(c, '10.0.0.1', xff(''))).toBe('10.0.0.1');
    expect(clientIpOf(c, '10.0.0.1', {})).toBe('10.0.0.1');
  });

  it('refuses a TRUST_PROXY that is neither a boolean, a hop count nor a list of addresses', () => {
    for (const bad of ['maybe', '10.0.0.0/99', '1.2.3.4, nope', '-1', '1000']) {
      expect(() => configFor(bad), bad).toThrow(/TRUST_PROXY/);
    }
  });
});

describe('behind one appending proxy (TRUST_PROXY=true)', () => {
  it('a new forged left-most X-Forwarded-For per request does not escape the per-IP login budget', async () => {
    const t = await buildTestApp({ env: { TRUST_PROXY: 'true' } });
    try {
      const limit = t.deps.contract.operation('login').rateLimit.limit;
      const statuses: number[] = [];
      for (let i = 0; i <= limit; i++) {
        const res = await t.request('/auth/login', {
          json: { email: 'nobody@example.com', password: 'wrong-password' },
          headers: { 'x-forwarded-for': `100.64.0.${i}, 203.0.113.77` },
        });
        statuses.push(res.status);
      }
      expect(statuses.at(-1)).toBe(429);
      // An 8 KiB forged header is no budget key: 401 (or 429), never 500.
      const huge = await t.request('/auth/login', {
        json: { email: 'nobody@example.com', password: 'wrong-password' },
        headers: { 'x-forwarded-for': 'f'.repeat(8000) },
      });
      expect([401, 429]).toContain(huge.status);
    } finally {
      await t.close();
    }
  });
});
