import { readFileSync } from 'node:fs';
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import type { Document } from 'openapi-backend';
import { parseContract } from '../contract.ts';
import type { AppContext, AppDeps, AppState } from '../deps.ts';
import { PROBLEM_MEDIA_TYPE, Problem } from '../errors/problem.ts';
import { errorFields } from '../log.ts';
import { createBackend } from '../openapi/backend.ts';
import { fieldErrors } from '../openapi/hooks.ts';
import { consumeBudget } from '../rate-limit/enforce.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { ResponseChecker } from '../response-check.ts';
import { createHarnessHandlers } from './handlers.ts';
import { isHarnessToken } from './harness-token.ts';
import { fromRoot } from '../project-root.ts';

export const HARNESS_PREFIX = '/__harness';
export const HARNESS_CONTRACT_PATH = fromRoot('generated', 'harness.json');
const HARNESS_CHALLENGE = 'Bearer realm="quazzar"';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The conformance harness (generated/harness.json) under /__harness: its own openapi-backend
 * instance, its own bearer token, the same problem+json errors and rate limiting as the API.
 * Without HARNESS_TOKEN every /__harness path is 404, as if it did not exist.
 */
export function createHarness(deps: AppDeps): Middleware<AppState> {
  const token = deps.config.harnessToken;
  if (token === undefined) {
    return async (ctx, next) => {
      if (!isHarnessPath(ctx.path)) return next();
      throw new Problem(404, 'not_found', `There is no ${ctx.path} in this API.`);
    };
  }
  return enabledHarness(deps, token);
}

const isHarnessPath = (path: string): boolean => path === HARNESS_PREFIX || path.startsWith(`${HARNESS_PREFIX}/`);

function enabledHarness(deps: AppDeps, token: string): Middleware<AppState> {
  const document = JSON.parse(readFileSync(HARNESS_CONTRACT_PATH, 'utf8')) as Record<string, any>;
  const contract = parseContract(document);
  const checker = deps.config.validateResponses ? new ResponseChecker(contract) : undefined;
  const api = createBackend(document as Document, createHarnessHandlers(deps), {
    harnessToken: (_c, ctx: AppContext) => isHarnessToken(token, ctx.get('Authorization') || undefined),
  });
  api.register({
    postSecurityHandler: async (c, ctx: AppContext) => {
      ctx.set(await consumeBudget(deps, contract.operation(c.operation.operationId as string).rateLimit, budgetKey('ip', ctx.state.clientIp)));
    },
    unauthorizedHandler: async (_c, ctx: AppContext) => {
      const sent = (ctx.get('Authorization') || '') !== '';
      throw new Problem(401, sent ? 'invalid_token' : 'authentication_required', sent ? 'The harness token is invalid.' : 'The harness needs its bearer token.', {
        headers: { 'WWW-Authenticate': sent ? `${HARNESS_CHALLENGE}, error="invalid_token"` : HARNESS_CHALLENGE },
      });
    },
    validationFail: async (c) => {
      throw new Problem(422, 'validation_failed', 'The request does not match the schema.', { errors: fieldErrors(c.validation.errors ?? []) });
    },
    notFound: async (c) => {
      throw new Problem(404, 'not_found', `There is no ${c.request.path} in the harness.`);
    },
    methodNotAllowed: async (c) => {
      throw new Problem(405, 'method_not_allowed', `${c.request.method.toUpperCase()} is not allowed here.`);
    },
  });
  const ready = api.init();
  ready.catch(() => {}); // surfaced by the first request's `await ready`, not as an unhandled rejection
  const parseJson = koaBody({
    json: true, urlencoded: false, text: false, multipart: false, jsonStrict: true,
    jsonLimit: contract.bodyLimitBytes,
  });

  return async (ctx, next) => {
    if (!isHarnessPath(ctx.path)) return next();
    // Not an operation of the main contract: the app's checker leaves it to ours.
    ctx.state.servedByContract = false;
    await ready;
    const path = ctx.path.slice(HARNESS_PREFIX.length) || '/';
    let operationId: string | undefined;
    try {
      operationId = route(api, ctx, path);
      if (ctx.request.length > contract.bodyLimitBytes) throw new Problem(413, 'payload_too_large', 'The request body is larger than the limit.');
      await parseJson(ctx as never, async () => {});
      const headers = ctx.headers as Record<string, string>;
      await api.handleRequest({ method: ctx.method, path, headers, query: ctx.querystring, body: ctx.request.body }, ctx);
    } catch (err) {
      renderProblem(ctx, toProblem(err, deps));
    }
    if (checker !== undefined && operationId !== undefined) assertConforms(checker, ctx, operationId, deps);
  };
}

/** 404/405 (with Allow) and 415 before the body is read, as in the main API (DECISIONS.md §3). */
function route(api: ReturnType<typeof createBackend>, ctx: AppContext, path: string): string {
  const request = { method: ctx.method, path, headers: ctx.headers as Record<string, string> };
  const operation = api.router.matchOperation(request);
  if (operation === undefined) {
    const allowed = METHODS.filter((method) => api.router.matchOperation({ ...request, method }) !== undefined);
    if (allowed.length === 0) throw new Problem(404, 'not_found', `There is no ${ctx.path} in the harness.`);
    throw new Problem(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}.`, { headers: { Allow: allowed.join(', ') } });
  }
  const hasBody = ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;
  if (operation.requestBody !== undefined && hasBody && !ctx.is('application/json')) {
    throw new Problem(415, 'unsupported_media_type', 'The request body must be sent as Content-Type: application/json.');
  }
  return operation.operationId as string;
}

function toProblem(err: unknown, deps: AppDeps): Problem {
  if (err instanceof Problem) return err;
  const status = (err as { status?: unknown } | null)?.status;
  // koa-body's errors; their messages may quote the body, so they are never shown.
  if (status === 413) return new Problem(413, 'payload_too_large', 'The request body is larger than the limit.');
  if (status === 415) return new Problem(415, 'unsupported_media_type', 'The request body must be application/json.');
  if (status === 400) return new Problem(400, 'malformed_json', 'The request body is not valid JSON (an object is expected).');
  deps.log.error('harness error', errorFields(err));
  return new Problem(500, 'internal_error', 'Something went wrong on our side; the error has been logged.');
}

function renderProblem(ctx: AppContext, problem: Problem): void {
  ctx.status = problem.status;
  ctx.set(problem.headers);
  ctx.type = PROBLEM_MEDIA_TYPE;
  ctx.body = { ...problem.toBody(), instance: ctx.path };
}

/** In tests: every harness answer must match generated/harness.json, or the request fails loudly. */
function assertConforms(checker: ResponseChecker, ctx: AppContext, operationId: string, deps: AppDeps): void {
  const violations = checker.check({
    operationId, status: ctx.status, contentType: ctx.response.get('Content-Type') || undefined,
    headers: ctx.response.headers as Record<string, unknown>, body: ctx.body ?? undefined,
  });
  if (violations.length === 0) return;
  deps.log.error('harness contract violation', { path: ctx.path, violations });
  ctx.status = 500;
  ctx.type = PROBLEM_MEDIA_TYPE;
  ctx.set('X-Contract-Violation', 'true');
  ctx.body = { type: 'about:blank', title: 'Contract violation', status: 500, code: 'internal_error', detail: violations.join('; ') };
}
