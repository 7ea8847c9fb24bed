import type { Context, Handler, OpenAPIBackend, Operation, Request } from 'openapi-backend';

/**
 * The request lifecycle of openapi-backend's `handleRequest`, planned once per operation at
 * start instead of rediscovered on every request. openapi-backend stays the router (its
 * `router.matchOperation` / `parseRequest`) and the validator (`validator.validateRequest`),
 * and the hooks and handlers registered with it are the ones that run, in its order:
 *
 *   postRoutingHandler → security handlers → postSecurityHandler → unauthorizedHandler (when no
 *   security requirement is met) → validation (when `validate` says so) → validationFail →
 *   preOperationHandler → the operation's handler (or notImplemented) → postResponseHandler.
 *
 * What is not paid per request any more (docs/PERFORMANCE.md, fourth pass): the parse before
 * routing and the second route match, lodash's flatMap over the security requirements, one
 * promise chain per security scheme inside a `Promise.all`, and the closures around them. With
 * the synchronous security handlers this server registers, that was ~75 µs of CPU of a
 * ~300 µs authenticated `GET /users/me` on the reference machine.
 *
 * `dispatch.test.ts` runs both on the same requests and compares what every hook saw.
 */
export interface Dispatcher {
  (req: Request, ...handlerArgs: unknown[]): Promise<unknown>;
}

interface Plan {
  operation: Operation;
  /** The security requirements (alternatives), each as the scheme names it needs together. */
  requirements: string[][];
  /** Every scheme named by any requirement, once. */
  schemes: string[];
  handler: Handler | undefined;
}

export function createDispatcher(api: OpenAPIBackend): Dispatcher {
  const hook = (name: string): Handler | undefined => api.handlers[name] as Handler | undefined;
  const plans = new Map<Operation, Plan>();
  const planOf = (operation: Operation): Plan => {
    let plan = plans.get(operation);
    if (plan === undefined) {
      const requirements = ((operation.security ?? []) as Record<string, unknown>[]).map((r) => Object.keys(r));
      plan = {
        operation,
        requirements,
        schemes: [...new Set(requirements.flat())],
        handler: api.handlers[operation.operationId as string] as Handler | undefined,
      };
      plans.set(operation, plan);
    }
    return plan;
  };

  return async (req, ...args) => {
    const operation = api.router.matchOperation(req);
    // Unknown paths and methods are answered by routeFirst before this point; anything else
    // takes openapi-backend's own path (its 404/405 hooks).
    if (operation === undefined) return api.handleRequest(req, ...args);
    const plan = planOf(operation);
    const context = { api, operation, request: api.router.parseRequest(req, operation) } as Context;
    const postResponse = hook('postResponseHandler');
    const response = await run(context, plan, req, args);
    if (postResponse === undefined) return response;
    context.response = response;
    return postResponse(context, ...args);
  };

  async function run(context: Context, plan: Plan, req: Request, args: unknown[]): Promise<unknown> {
    await hook('postRoutingHandler')?.(context, ...args);

    const results: Record<string, unknown> = {};
    for (const name of plan.schemes) {
      const securityHandler = api.securityHandlers[name] as Handler | undefined;
      if (securityHandler === undefined) {
        results[name] = undefined;
        continue;
      }
      try {
        results[name] = await securityHandler(context, ...args);
      } catch (error) {
        // As openapi-backend: a rejection is a failed requirement, never a success.
        results[name] = { error: error || new Error('security handler rejected') };
      }
    }
    let authorized = false;
    for (const names of plan.requirements) {
      if (names.every((name) => passed(results[name]))) {
        authorized = true;
        break;
      }
    }
    results.authorized = authorized;
    context.security = results as Context['security'];

    await hook('postSecurityHandler')?.(context, ...args);
    if (!authorized && plan.requirements.length > 0) {
      const unauthorized = hook('unauthorizedHandler');
      if (unauthorized !== undefined) return unauthorized(context, ...args);
      throw new Error(`401-unauthorized: ${plan.operation.operationId} request did not satisfy security requirements and no unauthorizedHandler is registered`);
    }

    const validate = typeof api.validate === 'function' ? api.validate(context, ...args) : Boolean(api.validate);
    if (validate) {
      context.validation = api.validator.validateRequest(req, plan.operation);
      if (context.validation.errors) {
        const fail = hook('400') ?? hook('validationFail');
        if (fail !== undefined) return fail(context, ...args);
        throw new Error(`400-validationFail: ${plan.operation.operationId} request failed validation and no validationFail handler is registered`);
      }
      // coerceTypes is off in this server (createBackend): the parsed request stays as it is.
      if (api.validator.coerceTypes) context.request = api.router.parseRequest(context.validation.coerced, plan.operation);
    }

    await hook('preOperationHandler')?.(context, ...args);
    if (plan.handler === undefined) {
      const notImplemented = hook('501') ?? hook('notImplemented');
      if (notImplemented === undefined) throw new Error(`501-notImplemented: ${plan.operation.operationId} no handler registered`);
      return notImplemented(context, ...args);
    }
    return plan.handler(context, ...args);
  }
}

/** openapi-backend's reading of a security handler's result: truthy, and no truthy `error`. */
function passed(result: unknown): boolean {
  return Boolean(result) && !(typeof result === 'object' && (result as { error?: unknown }).error);
}
