import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A mutating HTTP proxy that turns the reference server into a deliberately broken deployment:
// each variant rewrites a request or a response the way a buggy implementation would answer.
// The self-test points the conformance suite at the proxy and asserts the suite FAILS, naming
// the requirement the variant breaks.

export interface ProxiedRequest {
  method: string;
  /** Path and query string, as received. */
  url: string;
  /** Path without the query string. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ProxiedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ProxyContext {
  /** Sends (a possibly changed copy of) a request to the real server. */
  forward(request: ProxiedRequest): Promise<ProxiedResponse>;
}

export interface Mutation {
  /** Return a response to answer without forwarding; or change `request` in place. */
  onRequest?(request: ProxiedRequest, ctx: ProxyContext): ProxiedResponse | void | Promise<ProxiedResponse | void>;
  /** Return the response to send (the given one, changed, or another). */
  onResponse?(request: ProxiedRequest, response: ProxiedResponse, ctx: ProxyContext): ProxiedResponse | Promise<ProxiedResponse>;
}

export interface BrokenProxy {
  url: string;
  close(): Promise<void>;
}

// ------------------------------------------------------------------ helpers for variants

export function jsonOf(message: { body: Buffer }): any {
  try {
    return JSON.parse(message.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function withJson(response: ProxiedResponse, value: unknown, contentType?: string): ProxiedResponse {
  const headers = { ...response.headers };
  if (contentType) headers['content-type'] = contentType;
  return { ...response, headers, body: Buffer.from(JSON.stringify(value)) };
}

export function jsonResponse(status: number, value: unknown, contentType = 'application/json; charset=utf-8'): ProxiedResponse {
  return {
    status,
    headers: { 'content-type': contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function withoutHeader(response: ProxiedResponse, name: string): ProxiedResponse {
  const headers = { ...response.headers };
  delete headers[name.toLowerCase()];
  return { ...response, headers };
}

// ------------------------------------------------------------------ the proxy

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function forwardTo(target: URL): (request: ProxiedRequest) => Promise<ProxiedResponse> {
  return (request) =>
    new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, 'content-length': String(request.body.length) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 502, headers: flatten(response.headers), body: Buffer.concat(chunks) }),
          );
          response.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(request.body);
    });
}

export async function startBrokenProxy(targetUrl: string, mutation: Mutation): Promise<BrokenProxy> {
  const forward = forwardTo(new URL(targetUrl));
  const ctx: ProxyContext = { forward };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const request: ProxiedRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0]!,
        headers: flatten(req.headers),
        body: Buffer.concat(chunks),
      };
      void (async () => {
        const early = await mutation.onRequest?.(request, ctx);
        let response = early ?? (await forward(request));
        if (!early && mutation.onResponse) response = await mutation.onResponse(request, response, ctx);
        res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
        res.end(response.body);
      })().catch((error: Error) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`broken-proxy: ${error.message}`);
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
