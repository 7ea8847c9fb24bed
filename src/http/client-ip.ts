import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { budgetIdentity, normalizeIp, resolveClientIp, validIp } from './proxy-trust.ts';

export { normalizeIp } from './proxy-trust.ts';

/**
 * The client identity for per-IP budgets: the socket's address, unless the operator declared
 * trusted proxies (TRUST_PROXY: true = one, a hop count, or their addresses); then the
 * right-most CLIENT_IP_HEADER entry that is not a trusted hop, validated as an IP, a port
 * dropped (issue #10, issue 17). Without that setting a forged X-Forwarded-For is ignored
 * (SECURITY.md 24). Canonical (node:net), IPv4-mapped IPv6 folded into IPv4, and an IPv6
 * client keyed by its RATE_LIMIT_IPV6_PREFIX network (`2001:db8:1:2::/64`, SEC 28).
 */
export function clientIpOf(
  config: Pick<Config, 'proxyTrust' | 'clientIpHeader'> & Partial<Pick<Config, 'rateLimitIpv6Prefix'>>,
  socketAddress: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  onFallback?: (reason: string) => void,
): string {
  const raw = headers[config.clientIpHeader];
  // Without trusted proxies the header is ignored: it is no part of the identity (nor of the key).
  const value = config.proxyTrust.kind === 'none' || raw === undefined ? undefined : Array.isArray(raw) ? raw.join(',') : raw;
  const prefix = config.rateLimitIpv6Prefix ?? 64;
  // The identity is a pure function of these texts; parsing them (node:net) costs 3–7 µs, so it
  // is remembered for the next request from the same connection or proxy hop. Never when the
  // header was unusable: that warning counts every request.
  const key = `${prefix}|${socketAddress ?? ''}|${value ?? ''}`;
  const known = identities.get(key);
  if (known !== undefined) return known;
  let fellBack = false;
  const address = resolveClientIp(config.proxyTrust, normalizeIp(socketAddress ?? 'unknown'), value, (reason) => {
    fellBack = true;
    onFallback?.(reason);
  });
  const identity = budgetIdentity(address, prefix);
  if (!fellBack) {
    if (identities.size >= MAX_REMEMBERED) identities.clear();
    identities.set(key, identity);
  }
  return identity;
}

/** Remembered identities (bounded: emptied when full; a miss only costs the parse again). */
const identities = new Map<string, string>();
const MAX_REMEMBERED = 4096;

/** The budget identity of an address given in any spelling (the harness resets budgets by address). */
export function clientIdentityOf(config: Pick<Config, 'rateLimitIpv6Prefix'>, address: string): string {
  return budgetIdentity(validIp(address) ?? address, config.rateLimitIpv6Prefix);
}

/**
 * A warning when the client-ip header could not be used (every client behind that proxy then
 * shares its budget): at most one a minute, with the count, never the header's text.
 */
export function clientIpFallbackWarner(log: Pick<Logger, 'warn'>, now: () => number = () => performance.now()): (reason: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  let since = 0;
  return (reason) => {
    since += 1;
    if (now() - last < 60_000) return;
    log.warn('client-ip header unusable: per-IP budgets fall back to the proxy address (check TRUST_PROXY and CLIENT_IP_HEADER)', { reason, requests: since });
    last = now();
    since = 0;
  };
}
