// Opt-in retry after `Retry-After`, for idempotent requests only (RFC 9110 §9.2.2): a 429 or
// 503 that carries `Retry-After` is sent again after that many seconds, a bounded number of
// times, and never when the wait exceeds `maxWaitSeconds` (the caller gets the 429 instead,
// with `retryAfterSeconds` to show). Works on the `fetch` level, so every call made through
// the client (its helpers and `client.api`) is covered, after the credential middleware ran.
import { parseRetryAfter } from './rate-limit.ts';

export interface RetryOptions {
  /** Tries in all, the first included (default 3). */
  attempts?: number;
  /** The longest `Retry-After` worth waiting for, in seconds (default 10). */
  maxWaitSeconds?: number;
  /** Methods that are retried (default the idempotent ones: GET, HEAD, OPTIONS, PUT, DELETE). */
  methods?: readonly string[];
  /** Statuses that are retried when they carry `Retry-After` (default 429 and 503). */
  statuses?: readonly number[];
  /** How to wait (default setTimeout); tests pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type FetchLike = (request: Request) => Promise<Response>;

export function retryingFetch(base: FetchLike, options: RetryOptions): FetchLike {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 3));
  const maxWaitSeconds = options.maxWaitSeconds ?? 10;
  const methods = new Set((options.methods ?? IDEMPOTENT_METHODS).map((m) => m.toUpperCase()));
  const statuses = new Set(options.statuses ?? [429, 503]);
  const sleep = options.sleep ?? defaultSleep;
  return async (request) => {
    if (!methods.has(request.method.toUpperCase())) return base(request);
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      const response = await base(last ? request : request.clone());
      if (last || !statuses.has(response.status)) return response;
      const wait = parseRetryAfter(response.headers.get('Retry-After'));
      if (wait === undefined || wait > maxWaitSeconds) return response;
      await response.body?.cancel();
      await sleep(wait * 1000);
    }
  };
}
