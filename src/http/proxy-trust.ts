import { BlockList, isIP } from 'node:net';

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

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

/** An IP address in canonical-enough form, or undefined when the text is not one. */
export function validIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ip = normalizeIp(text.trim());
  // The longest textual IPv6 address is 45 characters; anything longer is not an address.
  return ip.length <= 45 && isIP(ip) !== 0 ? ip : undefined;
}

function isTrustedProxy(trust: Extract<ProxyTrust, { kind: 'addresses' }>, ip: string): boolean {
  return trust.list.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client address: walk from the socket leftwards through the header's entries, past the
 * trusted hops. Any entry on the way that is not an IP makes the whole header untrustworthy:
 * the answer is then the socket address (the nearest proxy), never the raw text.
 */
export function resolveClientIp(trust: ProxyTrust, socketAddress: string, headerValue: string | undefined): string {
  const socket = normalizeIp(socketAddress);
  if (trust.kind === 'none' || headerValue === undefined || headerValue.trim() === '') return socket;
  if (trust.kind === 'addresses' && (validIp(socket) === undefined || !isTrustedProxy(trust, socket))) return socket;
  // Only the right-most entries are ever needed: never split a forged 16 KiB header whole.
  const needed = trust.kind === 'hops' ? trust.hops : MAX_TRUSTED_HOPS + 1;
  const entries = rightMostEntries(headerValue, needed);
  let client = socket;
  for (let i = 0; i < entries.length; i += 1) {
    const ip = validIp(entries[i]);
    if (ip === undefined) return socket;
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
