import type { Middleware } from 'koa';
import type { OpenAPIBackend } from 'openapi-backend';
import type { AppState } from '../deps.ts';
import { Problem } from '../errors/problem.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Routing before the body is read, so checks run in the order of DECISIONS.md §3:
 * 404/405 → 413 → 415 → 400 → … A request to an unknown path is never parsed.
 */
export function routeFirst(api: OpenAPIBackend, bodyLimitBytes: number): Middleware<AppState> {
  return async (ctx, next) => {
    const request = { method: ctx.method, path: ctx.path, headers: ctx.headers as Record<string, string> };
    const operation = api.router.matchOperation(request);
    if (operation === undefined) {
      const allowed = METHODS.filter((method) => api.router.matchOperation({ ...request, method }) !== undefined);
      if (allowed.length === 0) throw new Problem(404, 'not_found', `There is no ${ctx.path} in this API.`);
      throw new Problem(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed.join(', ')}.`, {
        headers: { Allow: allowed.join(', ') },
      });
    }
    ctx.state.operationId = operation.operationId;
    // A declared length over the limit is refused before the media type is even looked at
    // (a chunked body is measured by the body parser instead).
    if (Number(ctx.req.headers['content-length'] ?? 0) > bodyLimitBytes) {
      throw new Problem(413, 'payload_too_large', `The request body is larger than ${bodyLimitBytes} bytes.`);
    }
    if (operation.requestBody !== undefined && hasBody(ctx.req.headers) && !ctx.is('application/json')) {
      throw new Problem(415, 'unsupported_media_type', 'The request body must be sent as Content-Type: application/json.');
    }
    await next();
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}
