import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { CONTENT_TYPES, hostileString, rawBodyFor, valueFor, type SchemaContext } from './arbitraries.ts';

type Json = Record<string, any>;

export interface FuzzRequest {
  operationId: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** Sent with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked: boolean;
  auth: AuthChoice;
}

export type AuthChoice = 'none' | 'session' | 'apiKey' | 'garbage';

export interface Credentials {
  session(): string;
  apiKey(): string;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const GARBAGE_AUTH = [
  'Bearer', 'Bearer ', 'Bearer  x', 'bearer abc', 'Basic dXNlcjpwYXNz', 'Bearer qzk_', 'Bearer qzk_' + 'A'.repeat(43),
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer a.b.c', 'Bearer ' + 'x'.repeat(4000), 'Bearer \u00ff\u00fe',
  'Token abc', 'Bearer %00', 'Bearer qzk_\u00e9', 'Negotiate', ',', 'Bearer a, Bearer b',
];
const ODD_IPS = ['198.51.100.7', '::1', '2001:db8::1', '::ffff:10.0.0.1', 'garbage', '1.2.3.4, 5.6.7.8', ' ', '999.999.999.999', 'x'.repeat(500), '%2F', 'unknown'];
const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND'];
const QUERY_STRINGS = ['', '', '', '?a=1&a=2', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?token=abc', '?%zz=%zz', '?' + 'q'.repeat(2000)];

export interface OperationInfo {
  operationId: string;
  method: string;
  path: string;
  secured: boolean;
  requestSchema: unknown;
  pathParams: { name: string; schema: unknown }[];
}

/** Every operation of the bundled contract, with what the fuzz needs to build requests. */
export function operationsOf(document: Json, resolve: (n: unknown) => Json): OperationInfo[] {
  const out: OperationInfo[] = [];
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) {
      if (typeof op !== 'object' || op === null || typeof op.operationId !== 'string') continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve);
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? document.security ?? []).some((alt: Json) => Object.keys(alt).length > 0),
        requestSchema: op.requestBody?.content?.['application/json']?.schema,
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name as string, schema: p.schema })),
      });
    }
  }
  return out;
}

/** One arbitrary request per operation, all of them combined. */
export function requestArbitrary(ctx: SchemaContext, ops: OperationInfo[], bodyLimit: number): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...ops.map((op) => requestFor(ctx, op, bodyLimit)), unknownPath());
}

function requestFor(ctx: SchemaContext, op: OperationInfo, bodyLimit: number): fc.Arbitrary<FuzzRequest> {
  const objectArb = op.requestSchema === undefined ? fc.constant({}) : valueFor(ctx, op.requestSchema);
  const strictArb = op.requestSchema === undefined ? fc.constant({}) : valueFor({ ...ctx, strict: true }, op.requestSchema);
  const body: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
    { weight: op.requestSchema === undefined ? 1 : 5, arbitrary: objectArb.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: op.requestSchema === undefined ? 0 : 5, arbitrary: strictArb.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 2, arbitrary: rawBodyFor(objectArb, bodyLimit) },
    { weight: op.requestSchema === undefined ? 6 : 1, arbitrary: fc.constant(undefined) },
  );
  const segment = (schema: unknown) => fc.oneof(
    { weight: 3, arbitrary: valueFor(ctx, schema).map((v) => encodeURIComponent(typeof v === 'string' ? safeText(v) : JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%C0%80', '%ED%A0%80', '%00', '..', '%2F..%2F', 'a'.repeat(3000), '') },
  );
  const params = fc.tuple(...op.pathParams.map((p) => segment(p.schema).map((v) => [p.name, v] as const)));
  return fc.record({
    method: fc.oneof({ weight: 12, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
    params,
    query: fc.constantFrom(...QUERY_STRINGS),
    body,
    contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    chunked: fc.boolean(),
    auth: op.secured
      ? fc.constantFrom<AuthChoice>('session', 'session', 'session', 'apiKey', 'none', 'garbage')
      : fc.constantFrom<AuthChoice>('none', 'none', 'none', 'garbage', 'session'),
    garbageAuth: fc.constantFrom(...GARBAGE_AUTH),
    xff: fc.option(fc.constantFrom(...ODD_IPS), { freq: 3 }),
    extraHeaders: fc.option(fc.constantFrom<Record<string, string>>(
      { accept: 'text/html' }, { accept: '*/*;q=0' }, { 'accept-encoding': 'gzip, br, zstd' }, { 'x-http-method-override': 'DELETE' },
      { origin: 'https://evil.example' }, { host: 'evil.example' }, { 'content-encoding': 'gzip' }, { expect: '100-continue' },
      { 'x-request-id': '\u00ff'.repeat(200) }, { cookie: 'a=b; session=x' }, { 'accept-language': 'x'.repeat(1000) },
    ), { freq: 4 }),
    // Half the requests are well-formed but for their body's content, so they reach the handlers and storage.
    clean: fc.boolean(),
    cleanBody: strictArb.map((v) => JSON.stringify(v)),
  }).map((r) => {
    if (r.clean) {
      let path = op.path;
      for (const [name, value] of r.params) path = path.replace(`{${name}}`, value);
      const body = op.requestSchema === undefined ? undefined : r.cleanBody;
      const auth: AuthChoice = op.secured ? (r.auth === 'apiKey' ? 'apiKey' : 'session') : 'none';
      return { operationId: op.operationId, method: op.method, path, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body, chunked: false, auth };
    }
    let path = op.path;
    for (const [name, value] of r.params) path = path.replace(`{${name}}`, value);
    const headers: Record<string, string> = { ...(r.extraHeaders ?? {}) };
    if (r.body !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (r.xff !== null) headers['x-forwarded-for'] = r.xff;
    if (r.auth === 'garbage') headers.authorization = r.garbageAuth;
    return { operationId: op.operationId, method: r.method, path: path + r.query, headers, body: r.body, chunked: r.chunked && r.body !== undefined, auth: r.auth };
  });
}

function unknownPath(): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: fc.constantFrom(...OTHER_METHODS),
    path: fc.oneof(
      fc.constantFrom('/', '/auth', '/auth/', '/users/me/', '//users/me', '/users/me/api-keys/', '/projects/', '/PROJECTS', '/%', '/%2e%2e/etc', '/docs/../openapi.json', '/__harness/clock', '/health?x=%zz', '/a'.repeat(1000)),
      hostileString.map((s) => '/' + encodeURIComponent(safeText(s))),
    ),
  }).map((r) => ({ operationId: '(none)', method: r.method, path: r.path, headers: {}, body: undefined, chunked: false, auth: 'none' as const }));
}

/** encodeURIComponent throws on lone surrogates: replace them (the raw bytes are tried elsewhere). */
function safeText(s: string): string {
  return s.replace(/[\ud800-\udfff]/gu, '\ufffd');
}

/** Sends one request over a fresh connection; never throws for an HTTP answer. */
export function send(baseUrl: string, r: FuzzRequest, creds: Credentials): Promise<FuzzResponse> {
  const headers = { ...r.headers };
  if (r.auth === 'session') headers.authorization = `Bearer ${creds.session()}`;
  if (r.auth === 'apiKey') headers.authorization = `Bearer ${creds.apiKey()}`;
  if (r.body !== undefined && !r.chunked) headers['content-length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(baseUrl + r.path, { method: r.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/** A readable one-line description of a request (bodies shortened, non-ASCII escaped). */
export function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? `<${r.body.toString('hex').slice(0, 200)}>` : r.body.slice(0, 300);
  return `${r.method} ${r.path.slice(0, 200)} auth=${r.auth} ${r.chunked ? 'chunked ' : ''}headers=${JSON.stringify(r.headers).slice(0, 300)} body=${JSON.stringify(body)}`;
}
