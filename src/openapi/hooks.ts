import type { Context } from 'openapi-backend';
import type { ErrorObject } from 'ajv';
import type { AppContext, AppDeps } from '../deps.ts';
import { resolveCredential } from '../auth/credential.ts';
import { Problem, type FieldError } from '../errors/problem.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { consumeBudget } from '../rate-limit/enforce.ts';

export const BEARER_REALM = 'Bearer realm="quazzar"';

/** The lifecycle hooks of openapi-backend (routing → security → rate limit → validation). */
export function createHooks(deps: AppDeps) {
  return {
    /** Resolve the bearer credential once, for secured operations only. */
    postRoutingHandler: async (c: Context, ctx: AppContext): Promise<void> => {
      if (c.operation === undefined) return;
      if ((c.operation.security ?? []).length > 0) {
        ctx.state.credential = await resolveCredential(deps, ctx.get('Authorization') || undefined);
      }
    },

    /**
     * Rate limit before answering 401/403 (DECISIONS.md §3 order): token budgets are keyed by
     * session id or API key id, and requests without a valid credential count against the
     * client IP under the same policy, so 401 probing is limited too.
     */
    postSecurityHandler: async (c: Context, ctx: AppContext): Promise<void> => {
      const spec = deps.contract.operation(c.operation.operationId as string).rateLimit;
      const credential = ctx.state.credential;
      let key = budgetKey('ip', ctx.state.clientIp);
      if (spec.key === 'token' && credential?.kind === 'valid') {
        const p = credential.principal;
        key = budgetKey('token', p.kind === 'session' ? p.sessionId : p.apiKeyId);
      }
      ctx.set(await consumeBudget(deps, spec, key));
      if (c.security?.authorized === true && credential?.kind === 'valid') ctx.state.principal = credential.principal;
    },

    unauthorizedHandler: async (_c: Context, ctx: AppContext): Promise<never> => {
      const credential = ctx.state.credential ?? { kind: 'none' };
      if (credential.kind === 'none') {
        throw new Problem(401, 'authentication_required', 'This operation needs a bearer token in the Authorization header.', {
          headers: { 'WWW-Authenticate': BEARER_REALM },
        });
      }
      if (credential.kind === 'valid') {
        // A valid API key on a session-only operation: keys cannot manage credentials.
        throw new Problem(403, 'session_required', 'API keys cannot be used for this operation; log in and use the access token.');
      }
      throw new Problem(401, 'invalid_token', 'The bearer token is invalid, expired or revoked.', {
        headers: { 'WWW-Authenticate': `${BEARER_REALM}, error="invalid_token"` },
      });
    },

    validationFail: async (c: Context): Promise<never> => {
      throw new Problem(422, 'validation_failed', 'The request does not match the schema.', {
        errors: fieldErrors(c.validation.errors ?? []),
      });
    },

    notFound: async (c: Context): Promise<never> => {
      throw new Problem(404, 'not_found', `There is no ${c.request.path} in this API.`);
    },

    methodNotAllowed: async (c: Context): Promise<never> => {
      throw new Problem(405, 'method_not_allowed', `${c.request.method.toUpperCase()} is not allowed on ${c.request.path}.`);
    },

    notImplemented: async (c: Context): Promise<never> => {
      throw new Error(`no handler registered for ${c.operation.operationId}`);
    },
  };
}

/**
 * Ajv errors → `{pointer, detail}`: a JSON pointer into the body (or /path/x, /query/x,
 * /header/x). Details are Ajv's messages about the schema, never the submitted value.
 */
export function fieldErrors(errors: ErrorObject[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    let pointer = e.instancePath;
    let detail = e.message ?? 'is invalid';
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') pointer += `/${String(params.missingProperty)}`;
    if (e.keyword === 'additionalProperties') {
      pointer += `/${String(params.additionalProperty)}`;
      detail = 'is not a known or writable field';
    }
    if (e.keyword === 'unevaluatedProperties') {
      pointer += `/${String(params.unevaluatedProperty)}`;
      detail = 'is not a known or writable field';
    }
    if (e.keyword === 'required') detail = 'is required';
    pointer = mapPointer(pointer);
    const id = `${pointer}\u0000${detail}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push({ pointer, detail });
    }
  }
  return out;
}

function mapPointer(pointer: string): string {
  if (pointer === '/requestBody') return '';
  if (pointer.startsWith('/requestBody/')) return pointer.slice('/requestBody'.length);
  if (pointer.startsWith('/headers/')) return '/header/' + pointer.slice('/headers/'.length);
  return pointer;
}
