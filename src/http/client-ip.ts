import type { Config } from '../config.ts';

/**
 * The client address for per-IP budgets: the socket's, unless the operator declared a
 * trusted proxy (TRUST_PROXY=true), in which case the left-most entry of CLIENT_IP_HEADER.
 * Without that setting a forged X-Forwarded-For is ignored (SECURITY.md 24).
 */
export function clientIpOf(
  config: Pick<Config, 'trustProxy' | 'clientIpHeader'>,
  socketAddress: string | undefined,
  headers: Record<string, string | string[] | undefined>,
): string {
  if (config.trustProxy) {
    const raw = headers[config.clientIpHeader];
    const first = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]?.trim();
    if (first !== undefined && first !== '') return normalizeIp(first);
  }
  return normalizeIp(socketAddress ?? 'unknown');
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}
