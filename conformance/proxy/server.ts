import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Exchange } from '../framework/types.ts';
import type { Traffic } from './traffic.ts';

// The validating reverse proxy: node:http in front, node:http(s) with a keep-alive agent
// behind (undici is not a dependency of this package and Node's bundled copy is not
// importable; node:http forwards headers byte for byte). Bodies stream through unchanged in
// both directions; a copy of each, up to `bodyCap` bytes, is kept for judging after the
// answer has been sent, so judging never delays the client.

export interface ProxyOptions {
  target: string;
  port: number;
  host?: string;
  traffic: Traffic;
  /** Set to the client's address when the request does not carry it already. */
  clientIpHeader?: string;
  /** Bytes of each body kept for judging (default 256 KiB); a larger body's shape is not judged. */
  bodyCap?: number;
  /** Called after each exchange has been judged (tests, --max-exchanges). */
  onExchange?(ex: Exchange): void;
}

export interface RunningProxy {
  url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const STORED_REQUEST_BODY = 8192;

class Capture {
  private readonly chunks: Buffer[] = [];
  bytes = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    if (this.bytes + chunk.length <= this.cap) this.chunks.push(chunk);
    else this.truncated = true;
    this.bytes += chunk.length;
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function forwardHeaders(headers: IncomingHttpHeaders, rawHeaders: string[]): OutgoingHttpHeaders {
  // From rawHeaders: the names' case and repeated headers as the client sent them.
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = new Set(String(headers['connection'] ?? '').toLowerCase().split(',').map((t) => t.trim()));
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connectionTokens.has(lower)) continue;
    const existing = out[name];
    out[name] = existing === undefined ? rawHeaders[i + 1]! : ([] as string[]).concat(existing as string | string[], rawHeaders[i + 1]!);
  }
  return out;
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function decoded(body: Buffer, encoding: string | undefined): string {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === 'gzip' || e === 'x-gzip') return gunzipSync(body).toString('utf8');
  if (e === 'br') return brotliDecompressSync(body).toString('utf8');
  if (e === 'deflate') return inflateSync(body).toString('utf8');
  return body.toString('utf8');
}

function parseJson(contentType: string | undefined, text: string): unknown {
  if (!/json/iu.test(contentType ?? '') || !text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function startValidatingProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const target = new URL(opts.target);
  const https = target.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 256 }) : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const send = https ? httpsRequest : httpRequest;
  const cap = opts.bodyCap ?? 256 * 1024;
  const basePath = target.pathname.replace(/\/$/u, '');

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const headers = forwardHeaders(req.headers, req.rawHeaders);
    // The target's host, as a client of staging would have sent it (virtual hosts, TLS).
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'host') delete headers[name];
    headers['host'] = target.host;
    const remote = req.socket.remoteAddress ?? 'unknown';
    const ipHeader = opts.clientIpHeader?.toLowerCase();
    let client = remote;
    if (ipHeader) {
      const sent = req.headers[ipHeader];
      if (sent === undefined) headers[ipHeader] = remote;
      else client = Array.isArray(sent) ? sent.join(', ') : sent;
    }
    const requestBody = new Capture(cap);
    const responseBody = new Capture(cap);
    let upstreamResponse: IncomingMessage | undefined;
    let error: string | undefined;
    let judged = false;
    /** The client closed its connection before the answer ended: not the deployment's doing. */
    let clientGone = false;

    const judge = (): void => {
      if (judged) return;
      judged = true;
      // A request the client abandoned before any answer: nothing to judge.
      if (clientGone && !upstreamResponse) return;
      setImmediate(() => {
        const requestText = requestBody.buffer();
        const responseHeaders = upstreamResponse ? flatten(upstreamResponse.headers) : {};
        let text = '';
        let truncated = responseBody.truncated || clientGone;
        if (!truncated) {
          try {
            text = decoded(responseBody.buffer(), responseHeaders['content-encoding']);
          } catch {
            truncated = true;
          }
        }
        const requestHeaders = flatten(req.headers);
        const ex = opts.traffic.add(
          {
            client,
            request: {
              method: req.method ?? 'GET',
              // The path as the client sent it: the contract's paths (a target's base path is not in it).
              url: `${target.origin}${req.url ?? '/'}`,
              headers: requestHeaders,
              ...(requestBody.bytes > 0
                ? { body: requestBody.bytes > STORED_REQUEST_BODY || requestBody.truncated ? `${requestText.subarray(0, 256).toString('utf8')}… (${requestBody.bytes} bytes)` : requestText.toString('utf8') }
                : {}),
              bodyBytes: requestBody.bytes,
            },
            status: upstreamResponse?.statusCode ?? 0,
            headers: responseHeaders,
            text,
            body: parseJson(responseHeaders['content-type'], text),
            durationMs: Math.round(performance.now() - started),
            ...(error ? { error } : {}),
          },
          { truncated },
        );
        opts.onExchange?.(ex);
      });
    };

    const upstream = send(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: `${basePath}${req.url ?? '/'}`, headers, agent },
      (response) => {
        upstreamResponse = response;
        const out: OutgoingHttpHeaders = {};
        const connectionTokens = new Set(String(response.headers['connection'] ?? '').toLowerCase().split(',').map((t) => t.trim()));
        for (let i = 0; i < response.rawHeaders.length; i += 2) {
          const name = response.rawHeaders[i]!;
          const lower = name.toLowerCase();
          if (HOP_BY_HOP.has(lower) || connectionTokens.has(lower)) continue;
          const existing = out[name];
          out[name] = existing === undefined ? response.rawHeaders[i + 1]! : ([] as string[]).concat(existing as string | string[], response.rawHeaders[i + 1]!);
        }
        res.writeHead(response.statusCode ?? 502, response.statusMessage, out);
        response.on('data', (chunk: Buffer) => {
          responseBody.push(chunk);
          res.write(chunk);
        });
        response.on('end', () => {
          res.end();
          judge();
        });
        response.on('error', (e) => {
          error = e.message;
          res.destroy(e);
          judge();
        });
      },
    );
    upstream.on('error', (e) => {
      error = `the target did not answer: ${e.message}`;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`quazzar-conformance proxy: ${error}\n`);
      } else res.destroy(e);
      upstreamResponse = undefined;
      judge();
    });
    req.on('data', (chunk: Buffer) => requestBody.push(chunk));
    req.pipe(upstream);
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      upstream.destroy();
      judge();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          resolve();
        });
      }),
  };
}
