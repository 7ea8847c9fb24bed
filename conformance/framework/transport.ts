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
  /** When the request was sent (epoch ms, wall clock): the HAR's startedDateTime. */
  startedAt: number;
  /** Until the answer's headers arrived (`wait`), then its body (`receive`); ms, as HAR 1.2
   * (`send` is not measured apart: 0). */
  timings: { send: number; wait: number; receive: number };
  error?: string;
}

// Keep-alive sockets: the server closes an idle one after its keep-alive timeout (Node's
// default is 5 s) and a request written on it at that moment dies with "socket hang up".
// Node's agent only honours the server's `Keep-Alive: timeout=N` hint (closing its free
// sockets a second early) when the agent itself has a timeout, so it gets one; and a
// request whose reused socket closes before any byte of an answer is sent once more on a
// fresh socket (the server closed it idle, so it never read the request).
const FREE_SOCKET_TIMEOUT_MS = 4_000;
const agentOptions = { keepAlive: true, maxSockets: 64, timeout: FREE_SOCKET_TIMEOUT_MS };
const agents = {
  'http:': new http.Agent(agentOptions),
  'https:': new https.Agent(agentOptions),
};

/** `--insecure` / `--ca`: how the suite trusts the deployment's TLS certificate. */
export function configureTls(opts: { insecure?: boolean; ca?: string }): void {
  agents['https:'].destroy();
  agents['https:'] = new https.Agent({ ...agentOptions, ...(opts.insecure ? { rejectUnauthorized: false } : {}), ...(opts.ca ? { ca: opts.ca } : {}) });
}

export async function send(request: RawRequest): Promise<RawResponse> {
  const { retryable, ...first } = await sendOnce(request);
  if (!retryable) return first;
  const { retryable: _, ...second } = await sendOnce(request);
  return second;
}

function sendOnce(request: RawRequest): Promise<RawResponse & { retryable?: boolean }> {
  const started = performance.now();
  const startedAt = performance.timeOrigin + started;
  const url = new URL(request.url);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return new Promise((resolve) => {
    let answered = false;
    let headersAt: number | undefined;
    const finish = (response: Omit<RawResponse, 'durationMs' | 'startedAt' | 'timings'> & { retryable?: boolean }): void => {
      const ended = performance.now();
      const headers = headersAt ?? ended;
      resolve({ ...response, durationMs: round(ended - started), startedAt, timings: { send: 0, wait: round(headers - started), receive: round(ended - headers) } });
    };
    const req = lib.request(url, { method: request.method, headers: request.headers, agent }, (res) => {
      answered = true;
      headersAt = performance.now();
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
    req.on('error', (error: NodeJS.ErrnoException) => finish({
      status: 0, headers: {}, text: '', error: error.message,
      retryable: req.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE'),
    }));
    if (request.body) req.end(request.body);
    else req.end();
  });
}

/** Closes idle keep-alive sockets so the process can exit. */
export function closeTransport(): void {
  agents['http:'].destroy();
  agents['https:'].destroy();
}
