import { OpenAPIBackend, type Context, type Document, type Options } from 'openapi-backend';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addFormats } from '../response-check.ts';

/**
 * openapi-backend validates definitions against the 3.0 meta-schema, which rejects 3.1 type
 * arrays (STACK.md). The contract is linted by Redocly, so that check is skipped here.
 */
const ROUTE_CACHE_SIZE = 4096;

class OpenAPI31Backend extends OpenAPIBackend {
  override validateDefinition(): Document {
    return this.document;
  }

  override async init(): Promise<this> {
    await super.init();
    // The router rebuilds its flattened operation list (a copy of every operation) on each
    // call, several times per request; the definition never changes after init, so keep one.
    const operations = this.router.getOperations();
    this.router.getOperations = () => operations;
    // Routing runs twice per request (our routeFirst, then handleRequest) and tries every
    // path template as a new RegExp; the answer depends only on method and path, so remember
    // found routes (bounded: paths carry ids). Misses (404/405) are not remembered.
    const match = this.router.matchOperation.bind(this.router);
    const found = new Map<string, ReturnType<typeof match>>();
    this.router.matchOperation = ((req: { method: string; path: string }, strict?: boolean) => {
      const key = `${req.method.toLowerCase()} ${req.path}`;
      const hit = found.get(key);
      if (hit !== undefined) return hit;
      const op = match(req as never, strict as never);
      if (op !== undefined) {
        if (found.size >= ROUTE_CACHE_SIZE) found.clear();
        found.set(key, op);
      }
      return op;
    }) as typeof this.router.matchOperation;
    // handleRequest parses the request twice: once before routing (for a preRoutingHandler,
    // which this server has none of) and again with the matched operation. The first parse
    // (headers re-keyed with lodash, cookies, a deep copy of the query) is only ever read by the
    // notFound/methodNotAllowed hooks (method and path): keep just the normalised request there.
    const parse = this.router.parseRequest.bind(this.router);
    // The second parse, for the common request without a cookie, a query string or path
    // parameters (GET /users/me), gives exactly what the general parse would, without lodash:
    // the same headers (lower-cased by Node), no cookies, an empty query, no params; anything
    // else takes the general parse.
    this.router.parseRequest = ((req: Parameters<typeof parse>[0], operation?: Parameters<typeof parse>[1]) => {
      if (operation === undefined) return { ...this.router.normalizeRequest(req), params: {}, query: {}, cookies: {}, requestBody: req.body };
      const headers = req.headers as Record<string, string | string[] | undefined>;
      if (headers.cookie !== undefined || hasKeys(req.query) || operation.path.includes('{') || (req.body !== undefined && typeof req.body !== 'object')) {
        return parse(req, operation);
      }
      // Node's IncomingMessage already lower-cases header names: no copy needed.
      const path = req.path.split('?')[0]!;
      return { method: req.method.toLowerCase(), path: path.startsWith('/') ? path : `/${path}`, params: {}, headers, query: {}, cookies: {}, body: req.body, requestBody: req.body };
    }) as typeof this.router.parseRequest;
    return this;
  }
}

function hasKeys(query: unknown): boolean {
  if (typeof query === 'string') return query.replace('?', '') !== '';
  if (query === undefined || query === null) return false;
  for (const _ in query as object) return true;
  return false;
}

/**
 * Request validation only where there is something to validate: a body, declared parameters,
 * or a declared query parameter (undeclared ones are dropped by routeFirst, src/http/route.ts). A bodiless,
 * parameterless GET such as getCurrentUser has nothing its validator could refuse.
 */
function needsValidation(c: Context): boolean {
  const op = c.operation;
  if (op === undefined) return true;
  if (op.requestBody !== undefined || (op.parameters?.length ?? 0) > 0) return true;
  const query = c.request.query;
  return query !== undefined && Object.keys(query).length > 0;
}

/**
 * A strict backend (fails closed when a hook is missing) validating with Ajv 2020-12 and
 * real formats (the default Ajv ignores `format: email`). Reused by the harness.
 */
export function createBackend(definition: Document, handlers: Options['handlers'], securityHandlers: Options['securityHandlers'] = {}): OpenAPIBackend {
  return new OpenAPI31Backend({
    definition,
    strict: true,
    quick: true, // validators compile on first use of each operation: fast start, one slower first request
    validate: needsValidation,
    coerceTypes: false,
    ajvOpts: { allErrors: true },
    customizeAjv: (_ajv, opts) => {
      const ajv = new Ajv2020({ ...opts, strict: false, allErrors: true });
      addFormats(ajv);
      return ajv as never;
    },
    handlers,
    securityHandlers,
  });
}
