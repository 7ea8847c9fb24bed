import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { buildTestApp } from '../../test/helpers.ts';
import { clientIpFallbackWarner, clientIpOf } from './client-ip.ts';

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
    expect(clientIpOf(c, 'fd00::1', xff('2001:db8::7'))).toBe('2001:db8::/64'); // an IPv6 client is its /64 (issue 17)
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

// Issue 17 defect 2 (SEC 28, a client is its /64): one IPv6 subscriber holds at least a /64,
// so per-/128 budgets gave it 2^64 of them; and spellings of one address were not one key.
describe('client identity for budgets', () => {
  const c = (extra: Record<string, string> = {}) => loadConfig({ ...secrets, TRUST_PROXY: 'true', ...extra });

  it('an IPv6 client is its /64 (whatever the spelling); RATE_LIMIT_IPV6_PREFIX changes the prefix', () => {
    const ids = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:7', '2001:db8:1:2::a:b'].map((ip) => clientIpOf(c(), '10.0.0.1', xff(ip)));
    expect(new Set(ids)).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientIpOf(c(), '10.0.0.1', xff('2001:db8:1:3::1'))).toBe('2001:db8:1:3::/64');
    expect(clientIpOf(c({ RATE_LIMIT_IPV6_PREFIX: '48' }), '10.0.0.1', xff('2001:db8:1:3::1'))).toBe('2001:db8:1::/48');
    expect(clientIpOf(c({ RATE_LIMIT_IPV6_PREFIX: '128' }), '10.0.0.1', xff('2001:db8:1:3::1'))).toBe('2001:db8:1:3::1/128');
    expect(clientIpOf(c({ RATE_LIMIT_IPV6_PREFIX: '60' }), '10.0.0.1', xff('2001:db8:1:3f::1'))).toBe('2001:db8:1:30::/60');
    // The socket address too (no proxy), with a zone index dropped.
    expect(clientIpOf(c({ TRUST_PROXY: 'false' }), '2001:db8:5:6::99', {})).toBe('2001:db8:5:6::/64');
    expect(clientIpOf(c({ TRUST_PROXY: 'false' }), 'fe80::1%eth0', {})).toBe('fe80::/64');
  });

  it('IPv4-mapped IPv6 (and NAT64 64:ff9b::/96) in any spelling is the IPv4 address', () => {
    for (const spelling of ['192.0.2.7', '::ffff:192.0.2.7', '64:ff9b::192.0.2.7', '64:FF9B::c000:207', '::FFFF:192.0.2.7', '::ffff:c000:207', '::FFFF:C000:0207', '0:0:0:0:0:ffff:c000:207', '0000:0000:0000:0000:0000:FFFF:192.0.2.7']) {
      expect(clientIpOf(c(), '10.0.0.1', xff(spelling)), spelling).toBe('192.0.2.7');
      expect(clientIpOf(c({ TRUST_PROXY: 'false' }), spelling, {}), `socket ${spelling}`).toBe('192.0.2.7');
    }
  });

  it('a proxy entry with a port (ip:port, [v6]:port) is that address; any other non-address falls back to the socket, and says so', () => {
    expect(clientIpOf(c(), '10.0.0.1', xff('203.0.113.9:51234'))).toBe('203.0.113.9');
    expect(clientIpOf(c(), '10.0.0.1', xff('[2001:db8:1:2::1]:443'))).toBe('2001:db8:1:2::/64');
    expect(clientIpOf(c(), '10.0.0.1', xff('[::ffff:192.0.2.7]:80'))).toBe('192.0.2.7');
    expect(clientIpOf(c(), '10.0.0.1', xff('[2001:db8:1:2::1]'))).toBe('2001:db8:1:2::/64');
    // Two proxies: the port is stripped from every entry on the way.
    expect(clientIpOf(c({ TRUST_PROXY: '2' }), '10.0.0.1', xff('203.0.113.9:1, 10.0.0.2:8080'))).toBe('203.0.113.9');
    // Not an address with a port: a port out of range, a bare IPv6 with a port-like tail is an address.
    const fellBack: string[] = [];
    const onFallback = (reason: string) => fellBack.push(reason);
    expect(clientIpOf(c(), '10.0.0.1', xff('203.0.113.9:99999'), onFallback)).toBe('10.0.0.1');
    expect(clientIpOf(c(), '10.0.0.1', xff('203.0.113.9:'), onFallback)).toBe('10.0.0.1');
    expect(clientIpOf(c(), '10.0.0.1', xff('[203.0.113.9]:80'), onFallback)).toBe('10.0.0.1');
    expect(fellBack).toHaveLength(3);
    expect(clientIpOf(c({ RATE_LIMIT_IPV6_PREFIX: '128' }), '10.0.0.1', xff('2001:db8::1:80'))).toBe('2001:db8::1:80/128');
  });

  it('an unusable header is logged at most once a minute, with a count and without its text', () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    let now = 0;
    const warn = clientIpFallbackWarner({ warn: (msg, fields) => lines.push([msg, fields]) }, () => now);
    for (let i = 0; i < 5; i++) clientIpOf(c(), '10.0.0.1', xff('secret-looking-text'), warn);
    now = 60_000;
    clientIpOf(c(), '10.0.0.1', xff('secret-looking-text'), warn);
    expect(lines).toHaveLength(2);
    expect(lines[1]![1]).toMatchObject({ requests: 5 });
    expect(JSON.stringify(lines)).not.toContain('secret-looking-text');
  });

  it('refuses a RATE_LIMIT_IPV6_PREFIX that is not a prefix length from 32 to 128', () => {
    for (const bad of ['0', '16', '129', 'sixty-four', '64.5']) {
      expect(() => c({ RATE_LIMIT_IPV6_PREFIX: bad }), bad).toThrow(/RATE_LIMIT_IPV6_PREFIX must be a prefix length from 32 to 128/);
    }
    expect(c({ RATE_LIMIT_IPV6_PREFIX: '/56' }).rateLimitIpv6Prefix).toBe(56);
  });
});

describe('one budget per client, not per spelling or per /128 (issue 17)', () => {
  it('logins from distinct addresses of one /64 meet 429 on the per-IP limit + 1; IPv4-mapped spellings share the IPv4 budget', async () => {
    const t = await buildTestApp({ env: { TRUST_PROXY: 'true' } });
    try {
      const limit = t.deps.contract.operation('login').rateLimit.limit;
      const login = (ip: string) => t.request('/auth/login', { json: {}, headers: { 'x-forwarded-for': ip } });
      const statuses: number[] = [];
      for (let i = 1; i <= limit + 2; i++) statuses.push((await login(`2001:db8:77:1:${i.toString(16)}:${((i * 7919) & 0xffff).toString(16)}::${i}`)).status);
      expect(statuses.slice(0, limit)).toEqual(Array(limit).fill(422)); // an empty body: counted, refused before hashing
      expect(statuses.slice(limit)).toEqual([429, 429]);
      // Another /64 has its own budget.
      expect((await login('2001:db8:77:2::1')).status).toBe(422);

      const spellings = ['198.51.100.20', '::ffff:198.51.100.20', '::FFFF:c633:6414', '0:0:0:0:0:ffff:c633:6414', '[::ffff:198.51.100.20]:4711', '198.51.100.20:8080'];
      const mapped: number[] = [];
      for (let i = 0; i <= limit; i++) mapped.push((await login(spellings[i % spellings.length]!)).status);
      expect(mapped.slice(0, limit)).toEqual(Array(limit).fill(422));
      expect(mapped[limit]).toBe(429);
    } finally {
      await t.close();
    }
  });
});
