import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';
import type { AppState } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { fromRoot } from '../project-root.ts';

export const DOCS_DIR = fromRoot('dist', 'docs') + path.sep;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.css': 'text/css', '.js': 'text/javascript' };

/**
 * Outside the contract: `GET /openapi.json` (the bundle the server routes from) and the
 * docs site under `/docs` (built by `npm run docs` into dist/docs/).
 */
export function staticRoutes(bundleJson: string, docsDir = DOCS_DIR): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path === '/openapi.json' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.state.servedByContract = false;
      ctx.type = 'application/json';
      ctx.body = bundleJson;
      return;
    }
    if ((ctx.path === '/docs' || ctx.path.startsWith('/docs/')) && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.state.servedByContract = false;
      const rest = ctx.path.slice('/docs'.length).replace(/^\/+/, '');
      // Only plain file names: no directories, so no way out of dist/docs.
      const name = rest === '' ? 'index.html' : rest;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Problem(404, 'not_found', `There is no ${ctx.path} in the docs.`);
      const file = path.join(docsDir, name);
      if (!existsSync(file)) {
        if (!existsSync(path.join(docsDir, 'index.html'))) {
          throw new Problem(404, 'not_found', 'The docs site is not built: run `npm run docs` (npm start does it when missing).');
        }
        throw new Problem(404, 'not_found', `There is no ${ctx.path} in the docs.`);
      }
      ctx.type = TYPES[path.extname(name)] ?? 'application/octet-stream';
      ctx.body = await readFile(file);
      return;
    }
    await next();
  };
}
