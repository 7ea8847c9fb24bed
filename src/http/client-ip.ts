import type { Config } from '../config.ts';
import { normalizeIp, resolveClientIp } from './proxy-trust.ts';

export { normalizeIp } from './proxy-trust.ts';

/**
 * The client address for per-IP budgets: the socket's, unless the operator declared trusted
 * proxies (TRUST_PROXY: true = one, a hop count, or their addresses); then the right-most
 * CLIENT_IP_HEADER entry that is not a trusted hop, validated as an IP (issue #10). Without
 * that setting a forged X-Forwarded-For is ignored (SECURITY.md 24).
 */
export function clientIpOf(
  config: Pick<Config, 'proxyTrust' | 'clientIpHeader'>,
  socketAddress: string | undefined,
  headers: Record<string, string | string[] | undefined>,
): string {
  const raw = headers[config.clientIpHeader];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  return resolveClientIp(config.proxyTrust, normalizeIp(socketAddress ?? 'unknown'), value);
}
