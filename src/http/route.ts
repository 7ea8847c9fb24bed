import type { Middleware } from 'koa';
import type { OpenAPIBackend } from 'openapi-backend';
import type { AppState } from '../deps.ts';
import { Problem } from '../errors/problem.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** The methods whose body the parser reads (app.ts: koaBody parsedMethods). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routing before the body is read, so checks run in the order of DECISIONS.md §3:
 * 404/405 → 413 → 415 → 400 → … A request to an unknown path is never parsed.
 */
export function routeFirst(api: OpenAPIBackend, bodyLimitBytes: number): Middleware<AppState> {
  return async (ctx, next) => {
    // A path that cannot be percent-decoded would make the router throw: route it with its
    // '%' escaped, then refuse it as a malformed path parameter (422) or an unknown path (404).
    const decodable = decodes(ctx.path);
    const request = { method: ctx.method, path: decodable ? ctx.path : ctx.path.replace(/%/g, '%25'), headers: ctx.headers as Record<string, string> };
    const operation = api.router.matchOperation(request);
    if (!decodable && operation !== undefined) {
      ctx.state.operationId = operation.operationId;
      throw undecodableParameter(operation.path, ctx.path);
    }
    if (operation === undefined) {
      const allowed = METHODS.filter((method) => api.router.matchOperation({ ...request, method }) !== undefined);
      if (allowed.length === 0 || !decodable) throw new Problem(404, 'not_found', `There is no ${ctx.path} in this API.`);
      throw new Problem(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed.join(', ')}.`, {
        headers: { Allow: allowed.join(', ') },
      });
    }
    ctx.state.operationId = operation.operationId;
    dropUndeclaredQuery(ctx, operation);
    // Only methods whose body is read can be refused for it (a GET's body is never read).
    if (!BODY_METHODS.has(ctx.method)) {
      await next();
      return;
    }
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

/**
 * Query parameters the contract does not declare are ignored (DECISIONS.md, issue 9), like
 * unknown headers: openapi-backend would refuse them with a 422 that no GET documents.
 */
function dropUndeclaredQuery(ctx: Parameters<Middleware<AppState>>[0], operation: { parameters?: unknown[] }): void {
  if (ctx.querystring === '') return;
  const declared = new Set(
    (operation.parameters ?? []).flatMap((p) => ((p as { in?: string }).in === 'query' ? [(p as { name: string }).name] : [])),
  );
  const query = ctx.query;
  if (Object.keys(query).every((name) => declared.has(name))) return;
  ctx.query = Object.fromEntries(Object.entries(query).filter(([name]) => declared.has(name)));
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** 422 pointing at the path parameter whose segment holds malformed percent-encoding. */
function undecodableParameter(template: string, path: string): Problem {
  const names = template.split('/');
  const segments = path.split('/');
  const index = segments.findIndex((segment, i) => /^\{.+\}$/.test(names[i] ?? '') && !decodes(segment));
  const name = (names[index] ?? names.find((n) => n.startsWith('{')) ?? '{}').slice(1, -1);
  return new Problem(422, 'validation_failed', 'The request does not match the schema.', {
    errors: [{ pointer: `/path/${name}`, detail: 'is not valid percent-encoding' }],
  });
}
