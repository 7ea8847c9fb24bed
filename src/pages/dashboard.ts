import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Context, Middleware } from 'koa';
import type { AppDeps, AppState } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { sendCacheable, staticAsset, staticBudget, type StaticAsset } from '../http/static-routes.ts';
import { fromRoot } from '../project-root.ts';

/**
 * Issue 18: the dashboard, a single page built from dashboard/ into dist/dashboard/
 * (scripts/build-dashboard.mjs: index.html, app.js, app.css) and served under its own prefix,
 * so none of its addresses can ever be an API path. `GET /` redirects to it. Off with
 * DASHBOARD=false (then `/` is the API's JSON 404 again).
 *
 * The three files answer from buffers read once (re-read when the build changes them), under
 * the contract's `x-static-rate-limit` per client IP, like /docs: a page load costs 4 requests
 * (`/`, the page, its script, its style sheet) of the 60 a minute.
 */
export const DASHBOARD_PREFIX = '/dashboard/';
export const DASHBOARD_DIR = fromRoot('dist', 'dashboard');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The page's policy: only its own script and style sheet, images from itself or `data:` (the
 * TOTP QR code), requests to its own origin, no frames, no base, forms only to itself.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

class BuiltFiles {
  readonly #dir: string;
  readonly #cache = new Map<string, { size: number; mtimeMs: number; asset: StaticAsset }>();
  constructor(dir: string) {
    this.#dir = dir;
  }
  get(name: string): StaticAsset | undefined {
    const type = FILES[name];
    if (type === undefined) return undefined;
    const file = path.join(this.#dir, name);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return undefined;
    }
    const known = this.#cache.get(name);
    if (known !== undefined && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.asset;
    const asset = staticAsset(readFileSync(file), type, stat.mtime);
    this.#cache.set(name, { size: stat.size, mtimeMs: stat.mtimeMs, asset });
    return asset;
  }
}

function securityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', DASHBOARD_CSP);
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

export function dashboardRoutes(deps: Pick<AppDeps, 'contract' | 'config' | 'limiter'>, dir = DASHBOARD_DIR): Middleware<AppState> {
  const files = new BuiltFiles(dir);
  const spend = staticBudget(deps);
  return async (ctx, next) => {
    if (!deps.config.dashboard || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (ctx.path === '/' || ctx.path === '/dashboard') {
      ctx.state.servedByContract = false;
      await spend(ctx);
      ctx.status = 302;
      ctx.set('Location', DASHBOARD_PREFIX);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = '';
      return;
    }
    if (!ctx.path.startsWith(DASHBOARD_PREFIX)) return next();
    ctx.state.servedByContract = false;
    await spend(ctx);
    const rest = ctx.path.slice(DASHBOARD_PREFIX.length);
    const name = rest === '' ? 'index.html' : rest;
    const asset = files.get(name);
    if (asset === undefined) {
      if (!existsSync(path.join(dir, 'index.html'))) {
        throw new Problem(404, 'not_found', 'The dashboard is not built: run `npm run build:dashboard` (npm start does it when missing or stale).');
      }
      throw new Problem(404, 'not_found', `There is no ${ctx.path} in the dashboard.`);
    }
    securityHeaders(ctx);
    sendCacheable(ctx, asset);
    // The page itself is revalidated on every load (its script and style sheet are addressed by
    // a digest of their bytes, so a new build is picked up at once); those two are cacheable.
    if (name === 'index.html') ctx.set('Cache-Control', 'no-cache');
  };
}
