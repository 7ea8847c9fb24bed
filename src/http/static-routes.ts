import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Middleware } from 'koa';
import type { RateLimitSpec } from '../contract.ts';
import type { AppDeps, AppState } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { fromRoot } from '../project-root.ts';
import { consumeBudget } from '../rate-limit/enforce.ts';
import { budgetKey } from '../rate-limit/limiter.ts';

export const DOCS_DIR = fromRoot('dist', 'docs') + path.sep;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.css': 'text/css', '.js': 'text/javascript' };

/** How long a browser or proxy may reuse a static answer without asking again (then: If-None-Match). */
export const STATIC_MAX_AGE_SECONDS = 300;

/**
 * One static answer: its bytes are read once and every request is answered with this same
 * Buffer (issue 17, SEC 29) — a client that never reads its answer holds a reference, not a copy.
 */
export interface StaticAsset {
  body: Buffer;
  type: string;
  /** Strong validator: a digest of the bytes, computed once. */
  etag: string;
  lastModified: string;
}

export function staticAsset(body: Buffer, type: string, modified: Date): StaticAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, type, etag, lastModified: modified.toUTCString() };
}

/**
 * `x-static-rate-limit` of the contract: the one per-IP budget of every answer outside it.
 * Undefined for a contract that has none (a release before 2.1.0): like any extension the served
 * contract lacks, it is not enforced.
 */
export function staticRateLimitOf(deps: Pick<AppDeps, 'contract'>): RateLimitSpec | undefined {
  const v = deps.contract.document['x-static-rate-limit'] as Partial<RateLimitSpec> | undefined;
  if (v === undefined) return undefined;
  if (typeof v.policy !== 'string' || !Number.isInteger(v.limit) || !Number.isInteger(v.window_seconds) || v.key !== 'ip') {
    throw new Error('contract: x-static-rate-limit must be {policy, limit, window_seconds, key: ip}');
  }
  return v as RateLimitSpec;
}

/**
 * Counts one request against the static budget of the client's address; 429 rate_limited
 * (Retry-After, RateLimit headers) once it is spent. Returns the RateLimit headers.
 */
export function staticBudget(deps: Pick<AppDeps, 'contract' | 'config' | 'limiter'>): (ctx: Context) => Promise<void> {
  const spec = staticRateLimitOf(deps);
  if (spec === undefined) return async () => {};
  return async (ctx) => {
    const ip = (ctx.state as AppState).clientIp ?? ctx.req.socket.remoteAddress ?? 'unknown';
    ctx.set(await consumeBudget(deps, spec, budgetKey('ip', ip)));
  };
}

/** Answers with a shared asset: public, cacheable, 304 when the client's validator matches. */
export function sendCacheable(ctx: Context, asset: StaticAsset): void {
  ctx.status = 200;
  ctx.set('Cache-Control', `public, max-age=${STATIC_MAX_AGE_SECONDS}`);
  ctx.set('ETag', asset.etag);
  ctx.set('Last-Modified', asset.lastModified);
  ctx.type = asset.type;
  if (notModified(ctx.get('If-None-Match'), ctx.get('If-Modified-Since'), asset)) {
    ctx.status = 304;
    return;
  }
  ctx.body = asset.body;
}

/**
 * RFC 9110 §13.1.2/§13.2.2: If-None-Match (weak comparison, `*`) decides when present;
 * otherwise If-Modified-Since. A request's `Cache-Control: no-cache` (fetch adds it to
 * conditional requests) does not stop an origin server from answering 304, unlike koa's ctx.fresh.
 */
export function notModified(ifNoneMatch: string, ifModifiedSince: string, asset: StaticAsset): boolean {
  if (ifNoneMatch !== '') {
    if (ifNoneMatch.trim() === '*') return true;
    const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => opaque(tag) === asset.etag);
  }
  if (ifModifiedSince === '') return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Date.parse(asset.lastModified) <= since;
}

/**
 * The docs files, each read once and kept while its size and mtime stay the same (a rebuild
 * of dist/docs is picked up without a restart). Only names that exist in the directory are
 * ever cached, so the cache is bounded by the site itself.
 */
class DocsCache {
  readonly #dir: string;
  readonly #files = new Map<string, { size: number; mtimeMs: number; asset: Promise<StaticAsset> }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  get(name: string): Promise<StaticAsset> | undefined {
    const file = path.join(this.#dir, name);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const known = this.#files.get(name);
    if (known !== undefined && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.asset;
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
    // Concurrent first requests share this one read.
    const asset = readFile(file).then((body) => staticAsset(body, type, stat.mtime));
    asset.catch(() => this.#files.delete(name));
    this.#files.set(name, { size: stat.size, mtimeMs: stat.mtimeMs, asset });
    return asset;
  }
}

/**
 * Outside the contract: `GET /openapi.json` (the bundle the server routes from) and the
 * docs site under `/docs` (built by `npm run docs` into dist/docs/). Both answer from buffers
 * read once, with `Cache-Control: public`, a strong ETag and Last-Modified (304 on a match),
 * under the contract's `x-static-rate-limit` per client IP (issue 17, SEC 29).
 */
export function staticRoutes(deps: Pick<AppDeps, 'contract' | 'config' | 'limiter'>, docsDir = DOCS_DIR): Middleware<AppState> {
  const bundle = staticAsset(Buffer.from(JSON.stringify(deps.contract.document), 'utf8'), 'application/json', new Date());
  const docs = new DocsCache(docsDir);
  const spend = staticBudget(deps);
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/openapi.json') {
      ctx.state.servedByContract = false;
      await spend(ctx);
      sendCacheable(ctx, bundle);
      return;
    }
    if (ctx.path === '/docs' || ctx.path.startsWith('/docs/')) {
      ctx.state.servedByContract = false;
      await spend(ctx);
      const rest = ctx.path.slice('/docs'.length).replace(/^\/+/, '');
      // Only plain file names: no directories, so no way out of dist/docs.
      const name = rest === '' ? 'index.html' : rest;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Problem(404, 'not_found', `There is no ${ctx.path} in the docs.`);
      const asset = docs.get(name);
      if (asset === undefined) {
        if (!existsSync(path.join(docsDir, 'index.html'))) {
          throw new Problem(404, 'not_found', 'The docs site is not built: run `npm run docs` (npm start does it when missing).');
        }
        throw new Problem(404, 'not_found', `There is no ${ctx.path} in the docs.`);
      }
      sendCacheable(ctx, await asset);
      return;
    }
    await next();
  };
}
