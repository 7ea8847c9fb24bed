import http from 'node:http';
import https from 'node:https';

// node:http rather than fetch: the suite must be able to send what fetch forbids (a bogus
// Host header, no Content-Type, a body with any method) and see every response header as is.

export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  durationMs: number;
  error?: string;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** `--insecure` / `--ca`: how the suite trusts the deployment's TLS certificate. */
export function configureTls(opts: { insecure?: boolean; ca?: string }): void {
  agents['https:'].destroy();
  agents['https:'] = new https.Agent({ keepAlive: true, maxSockets: 64, ...(opts.insecure ? { rejectUnauthorized: false } : {}), ...(opts.ca ? { ca: opts.ca } : {}) });
}

export function send(request: RawRequest): Promise<RawResponse> {
  const started = performance.now();
  const url = new URL(request.url);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve) => {
    const finish = (response: Omit<RawResponse, 'durationMs'>): void =>
      resolve({ ...response, durationMs: Math.round((performance.now() - started) * 10) / 10 });
    const req = lib.request(url, { method: request.method, headers: request.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        finish({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => finish({ status: 0, headers: {}, text: '', error: error.message }));
    });
    req.setTimeout(request.timeoutMs, () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    // A server may answer (413) and close before the whole body is written: keep its answer.
    req.on('error', (error) => finish({ status: 0, headers: {}, text: '', error: error.message }));
    if (request.body) req.end(request.body);
    else req.end();
  });
}

/** Closes idle keep-alive sockets so the process can exit. */
export function closeTransport(): void {
  agents['http:'].destroy();
  agents['https:'].destroy();
}
