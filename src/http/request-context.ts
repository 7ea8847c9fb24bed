import type { Middleware } from 'koa';
import type { AppDeps, AppState } from '../deps.ts';
import { clientIpFallbackWarner, clientIpOf } from './client-ip.ts';

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  // Every answer, not only the secret-bearing ones: an API answer is never worth caching.
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * Outermost middleware: client address, security headers (DECISIONS.md §4) and one
 * structured log line per request — method, path (no query string: it may carry a reset
 * token), status, duration. Never bodies or Authorization headers.
 */
export function requestContext(deps: Pick<AppDeps, 'config' | 'log'>): Middleware<AppState> {
  const onFallback = clientIpFallbackWarner(deps.log);
  return async (ctx, next) => {
    const started = performance.now();
    ctx.state.clientIp = clientIpOf(deps.config, ctx.req.socket.remoteAddress, ctx.headers, onFallback);
    ctx.set(SECURITY_HEADERS);
    try {
      await next();
    } finally {
      const ms = performance.now() - started;
      deps.log.info('request', { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 });
    }
  };
}
