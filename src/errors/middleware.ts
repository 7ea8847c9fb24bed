import type { Middleware } from 'koa';
import type { AppState } from '../deps.ts';
import { errorFields, type Logger } from '../log.ts';
import type { ResponseChecker } from '../response-check.ts';
import { PROBLEM_MEDIA_TYPE, Problem } from './problem.ts';
import { isUnavailable, unavailableProblemFor } from './unavailable.ts';

/**
 * The one place errors become answers. A Problem is rendered as problem+json; koa-body's
 * parse errors are mapped to their contract codes; an unreachable database or Redis is a
 * 503 with Retry-After (src/errors/unavailable.ts); anything else is a 500 with a generic
 * body (the cause goes to the log only). With a checker (tests), every answer — success or
 * problem — is checked against the contract and a mismatch becomes a loud 500.
 */
export function problemMiddleware(log: Logger, checker: ResponseChecker | undefined): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const problem = toProblem(err, log, ctx.method, ctx.path);
      ctx.status = problem.status;
      ctx.set(problem.headers);
      ctx.type = PROBLEM_MEDIA_TYPE;
      ctx.body = { ...problem.toBody(), instance: uriReference(ctx.path) };
    }
    if (checker !== undefined && ctx.state.servedByContract !== false) {
      let violations: string[];
      try {
        violations = checker.check({
          operationId: ctx.state.operationId,
          status: ctx.status,
          contentType: ctx.response.get('Content-Type') || undefined,
          headers: ctx.response.headers as Record<string, unknown>,
          body: ctx.body ?? undefined,
        });
      } catch (err) {
        violations = [`the response checker failed: ${err instanceof Error ? err.message : String(err)}`];
      }
      if (violations.length > 0) {
        log.error('contract violation', { method: ctx.method, path: ctx.path, violations });
        ctx.status = 500;
        ctx.type = PROBLEM_MEDIA_TYPE;
        ctx.set('X-Contract-Violation', 'true');
        ctx.body = { type: 'about:blank', title: 'Contract violation', status: 500, code: 'internal_error', detail: violations.join('; ') };
      }
    }
  };
}

function toProblem(err: unknown, log: Logger, method: string, path: string): Problem {
  if (err instanceof Problem) return err;
  const e = err as { status?: unknown; type?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : 500;
  // Errors from koa-body / co-body / raw-body. Their messages may quote the body: never used.
  if (status === 413) return new Problem(413, 'payload_too_large', 'The request body is larger than the limit of this API.');
  if (status === 415) return new Problem(415, 'unsupported_media_type', 'The request body must be application/json.');
  // A body that does not decode (invalid gzip/deflate, bad bytes) is as unreadable as bad JSON.
  if (status === 400 || /^Z_/.test(String((err as { code?: unknown } | null)?.code))) {
    return new Problem(400, 'malformed_json', 'The request body is not valid JSON (an object is expected).');
  }
  // The database (or the Redis rate-limit store) is away: the client retries later; the detail says which.
  if (isUnavailable(err)) {
    log.warn('dependency unavailable', { method, path, ...errorFields(err) });
    return unavailableProblemFor(err);
  }
  log.error('unhandled error', { method, path, ...errorFields(err) });
  return new Problem(500, 'internal_error', 'Something went wrong on our side; the error has been logged.');
}

/**
 * `instance` is a URI reference (RFC 3986): a raw path may hold a stray `%` or characters a
 * client sent unencoded, so those are percent-encoded; valid escapes are kept as they are.
 */
export function uriReference(path: string): string {
  return path.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (c) => encodeURIComponent(c.replace(/[\ud800-\udfff]/u, '\ufffd')));
}
