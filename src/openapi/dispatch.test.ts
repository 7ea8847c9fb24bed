import { describe, expect, it } from 'vitest';
import type { Context, Request } from 'openapi-backend';
import { createBackend } from './backend.ts';
import { createDispatcher } from './dispatch.ts';

// Differential test: openapi-backend's handleRequest and our dispatcher get the same requests
// and must call the same hooks, in the same order, with the same security results, validation
// outcome and parsed request, and return the same thing.

const definition = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/open': { get: { operationId: 'open', responses: { 200: { description: 'ok' } } } },
    '/secured': { get: { operationId: 'secured', security: [{ a: [] }, { b: [], c: [] }], responses: { 200: { description: 'ok' } } } },
    '/things/{id}': {
      post: {
        operationId: 'createThing',
        security: [{ a: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 2 } }, additionalProperties: false } } } },
        responses: { 201: { description: 'created' } },
      },
    },
    '/nohandler': { get: { operationId: 'noHandler', responses: { 200: { description: 'ok' } } } },
    '/throwing': { get: { operationId: 'throwing', security: [{ t: [] }], responses: { 200: { description: 'ok' } } } },
    '/unknown-scheme': { get: { operationId: 'unknownScheme', security: [{ nobody: [] }], responses: { 200: { description: 'ok' } } } },
  },
  components: {
    securitySchemes: {
      a: { type: 'http', scheme: 'bearer' }, b: { type: 'http', scheme: 'bearer' }, c: { type: 'http', scheme: 'bearer' },
      t: { type: 'http', scheme: 'bearer' }, nobody: { type: 'http', scheme: 'bearer' },
    },
  },
};

interface Args { flags: Record<string, unknown>; trace: unknown[] }

const snapshot = (c: Context) => ({
  op: c.operation?.operationId,
  request: c.request && { method: c.request.method, path: c.request.path, params: c.request.params, query: c.request.query, body: c.request.requestBody },
  security: c.security,
  errors: c.validation?.errors?.map((e) => `${e.instancePath} ${e.keyword}`) ?? null,
});

function build() {
  const record = (name: string) => async (c: Context, args: Args) => {
    args.trace.push([name, snapshot(c)]);
    return `${name}-result`;
  };
  const security = (name: string) => (_c: Context, args: Args) => {
    if (name === 't') throw new Error('boom');
    return args.flags[name];
  };
  const api = createBackend(definition as never, {
    open: record('open'), secured: record('secured'), createThing: record('createThing'), throwing: record('throwing'), unknownScheme: record('unknownScheme'),
    postRoutingHandler: record('postRouting'),
    postSecurityHandler: record('postSecurity'),
    unauthorizedHandler: record('unauthorized'),
    validationFail: record('validationFail'),
    notImplemented: record('notImplemented'),
    notFound: record('notFound'),
    methodNotAllowed: record('methodNotAllowed'),
  }, { a: security('a'), b: security('b'), c: security('c'), t: security('t') });
  return api;
}

const requests: Request[] = [
  { method: 'GET', path: '/open', headers: {}, query: {} },
  { method: 'GET', path: '/secured', headers: { authorization: 'x' }, query: {} },
  { method: 'GET', path: '/secured', headers: {}, query: { extra: '1' } },
  { method: 'POST', path: '/things/abc', headers: { 'content-type': 'application/json' }, query: {}, body: { name: 'ok' } },
  { method: 'POST', path: '/things/abc', headers: {}, query: {}, body: { name: 'x', other: 1 } },
  { method: 'POST', path: '/things/ABC', headers: {}, query: {}, body: { name: 'fine' } },
  { method: 'POST', path: '/things/abc', headers: {}, query: {} },
  { method: 'GET', path: '/nohandler', headers: {}, query: {} },
  { method: 'GET', path: '/throwing', headers: {}, query: {} },
  { method: 'GET', path: '/unknown-scheme', headers: {}, query: {} },
  { method: 'GET', path: '/no-such-path', headers: {}, query: {} },
];
const flagSets: Record<string, unknown>[] = [
  {}, { a: true }, { b: true }, { b: true, c: true }, { a: { error: 'no' } }, { a: 0, b: 'yes', c: [] },
];

describe('createDispatcher behaves as openapi-backend handleRequest', () => {
  it('same hooks, order, security results, validation errors, parsed request and return value', async () => {
    const reference = build();
    const ours = build();
    await Promise.all([reference.init(), ours.init()]);
    const dispatch = createDispatcher(ours);
    let compared = 0;
    for (const req of requests) {
      for (const flags of flagSets) {
        const a: Args = { flags, trace: [] };
        const b: Args = { flags, trace: [] };
        const expected = await reference.handleRequest(structuredClone(req), a).catch((e: Error) => `threw ${e.message}`);
        const actual = await dispatch(structuredClone(req), b).catch((e: Error) => `threw ${e.message}`);
        expect({ req, flags, result: actual, trace: b.trace }).toEqual({ req, flags, result: expected, trace: a.trace });
        compared++;
      }
    }
    expect(compared).toBe(requests.length * flagSets.length);
  });

  it('a request that fails its schema reaches validationFail with the errors, not the handler', async () => {
    const api = build();
    await api.init();
    const args: Args = { flags: { a: true }, trace: [] };
    await createDispatcher(api)({ method: 'POST', path: '/things/abc', headers: {}, query: {}, body: { name: 'x' } }, args);
    expect(args.trace.map((t) => (t as [string])[0])).toEqual(['postRouting', 'postSecurity', 'validationFail']);
    expect((args.trace[2] as [string, { errors: string[] }])[1].errors).toEqual(['/requestBody/name minLength']);
  });
});
