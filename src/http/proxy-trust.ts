import { BlockList, SocketAddress, isIP } from 'node:net';

/**
 * Which hops in front of the server are trusted proxies (TRUST_PROXY, issue #10):
 * - `none`: the socket address is the client; the client-ip header is ignored;
 * - `hops`: that many proxies in front (`true` = 1): the client is the `hops`-th header entry
 *   counted from the right (each proxy appends the address it saw);
 * - `addresses`: the proxies are exactly these addresses/CIDRs; the client is the first
 *   address, walking from the socket leftwards through the header, that is not one of them.
 */
export type ProxyTrust =
  | { kind: 'none' }
  | { kind: 'hops'; hops: number }
  | { kind: 'addresses'; list: BlockList; entries: string[] };

export const MAX_TRUSTED_HOPS = 32;

/** Parses TRUST_PROXY; pushes a message naming the variable when it is none of the forms. */
export function parseProxyTrust(raw: string | undefined, problems: string[]): ProxyTrust {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || ['false', 'no', '0'].includes(value)) return { kind: 'none' };
  if (['true', 'yes'].includes(value)) return { kind: 'hops', hops: 1 };
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops <= MAX_TRUSTED_HOPS) return { kind: 'hops', hops };
  } else {
    const list = new BlockList();
    const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = entries.filter((entry) => !addToList(list, entry));
    if (bad.length === 0 && entries.length > 0) return { kind: 'addresses', list, entries };
  }
  problems.push(
    `TRUST_PROXY must be false, true (one proxy in front), a number of proxy hops (1..${MAX_TRUSTED_HOPS}), ` +
      `or a comma-separated list of proxy addresses or CIDRs such as 10.0.0.0/8,fd00::/8 (got "${raw}")`,
  );
  return { kind: 'none' };
}

function addToList(list: BlockList, entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) {
    list.addAddress(address!, type);
    return true;
  }
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address!, Number(prefix), type);
  return true;
}

/**
 * The canonical text of an IP address (issue 17): parsed by node:net (`isIP`, then
 * `SocketAddress`, i.e. inet_pton/inet_ntop: lower case, zeros compressed, zone index dropped),
 * an IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, `::FFFF:c000:207`, `0:0:0:0:0:ffff:…`),
 * or one of the NAT64 well-known prefix (`64:ff9b::192.0.2.7`), folded into its IPv4 address. Undefined when the text is not an address.
 */
export function canonicalIp(text: string): string | undefined {
  // The longest textual IPv6 address is 45 characters, plus a zone index.
  if (text.length > 64) return undefined;
  const family = isIP(text);
  if (family === 0) return undefined;
  let address: string;
  try {
    address = new SocketAddress({ address: text, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
  } catch {
    return undefined;
  }
  if (family === 4) return address;
  const h = hextets(address);
  const mapped = h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff;
  // 64:ff9b::/96 (RFC 6052): an IPv4 client seen through a NAT64/SIIT translator in front of
  // this server; as a /64 every IPv4 client behind that translator would share one budget.
  const translated = h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0);
  return mapped || translated ? `${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}` : address;
}

/** Kept for callers of the old name: the canonical address, or the text itself when it is none. */
export function normalizeIp(ip: string): string {
  return canonicalIp(ip) ?? ip;
}

/**
 * One entry of the client-ip header: an address, or an address with a port as some proxies
 * write it (`203.0.113.9:51234`, `[2001:db8::1]:443`, `[2001:db8::1]`): the port is dropped,
 * it says nothing about who the client is. A bare IPv6 address never has a port (its last
 * group is part of the address). Anything else is not an address: undefined.
 */
export function validIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const entry = text.trim();
  if (entry.length > 72) return undefined;
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(entry);
  if (bracketed !== null) return isIP(bracketed[1]!) === 6 && validPort(bracketed[2]) ? canonicalIp(bracketed[1]!) : undefined;
  const direct = canonicalIp(entry);
  if (direct !== undefined) return direct;
  const withPort = /^([0-9.]+):([0-9]{1,5})$/.exec(entry);
  return withPort !== null && isIP(withPort[1]!) === 4 && validPort(withPort[2]) ? canonicalIp(withPort[1]!) : undefined;
}

function validPort(port: string | undefined): boolean {
  return port === undefined || Number(port) <= 65535;
}

/**
 * The budget identity of a canonical address (issue 17, SEC 28): an IPv4 address as is; an
 * IPv6 address as its network of `prefix` bits (`2001:db8:1:2::/64`): one subscriber holds at
 * least a /64 and picks addresses in it freely (SLAAC, privacy addresses), so per /128 it would
 * hold 2^64 budgets. Text that is not an address (e.g. `unknown`) is returned as it is.
 */
export function budgetIdentity(address: string, prefix: number): string {
  if (isIP(address) !== 6) return address;
  const h = hextets(address);
  const masked = h.map((x, i) => {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    return bits === 0 ? 0 : x & (0xffff << (16 - bits)) & 0xffff;
  });
  const network = new SocketAddress({ address: masked.map((x) => x.toString(16)).join(':'), family: 'ipv6' }).address;
  return `${network}/${prefix}`;
}

/**
 * The eight 16-bit groups of an IPv6 address already validated by isIP and canonicalized by
 * SocketAddress (one `::` at most, no zone; an embedded dotted IPv4 tail possible).
 */
function hextets(address: string): number[] {
  const groupsOf = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = address.split('::');
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function isTrustedProxy(trust: Extract<ProxyTrust, { kind: 'addresses' }>, ip: string): boolean {
  return trust.list.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client address (canonical): walk from the socket leftwards through the header's entries,
 * past the trusted hops. Any entry on the way that is not an IP (nor IP:port) makes the whole
 * header untrustworthy: the answer is then the socket address (the nearest proxy), never the
 * raw text, and `onFallback` is told (the server logs it, rate-limited).
 */
export function resolveClientIp(
  trust: ProxyTrust,
  socketAddress: string,
  headerValue: string | undefined,
  onFallback?: (reason: string) => void,
): string {
  const socket = normalizeIp(socketAddress);
  if (trust.kind === 'none' || headerValue === undefined || headerValue.trim() === '') return socket;
  if (trust.kind === 'addresses' && (validIp(socket) === undefined || !isTrustedProxy(trust, socket))) return socket;
  // Only the right-most entries are ever needed: never split a forged 16 KiB header whole.
  const needed = trust.kind === 'hops' ? trust.hops : MAX_TRUSTED_HOPS + 1;
  const entries = rightMostEntries(headerValue, needed);
  let client = socket;
  for (let i = 0; i < entries.length; i += 1) {
    const ip = validIp(entries[i]);
    if (ip === undefined) {
      // Never silent (issue 17): every client behind this proxy now shares its budget.
      onFallback?.('an entry of the client-ip header is neither an address nor address:port');
      return socket;
    }
    client = ip;
    if (trust.kind === 'hops' ? i + 1 >= trust.hops : !isTrustedProxy(trust, ip)) return client;
  }
  return client; // every entry was a trusted hop: the furthest one there is
}

/** Up to `n` comma-separated entries from the right, right-most first. */
function rightMostEntries(value: string, n: number): string[] {
  const out: string[] = [];
  let end = value.length;
  while (out.length < n && end > 0) {
    const comma = value.lastIndexOf(',', end - 1);
    out.push(value.slice(comma + 1, end));
    if (comma < 0) break;
    end = comma;
  }
  return out;
}
