import type { CheckContext, Exchange } from '../framework/types.ts';

/**
 * Records (without ending the check) whether `exchange` is the expected problem: the HTTP
 * status and the problem `code` the contract's catalogue assigns to that situation.
 * Returns true when both match.
 */
export function expectProblem(
  ctx: CheckContext,
  exchange: Exchange,
  status: number,
  code: string,
  situation: string,
): boolean {
  const got = `${exchange.status}${exchange.body?.code ? ` ${String(exchange.body.code)}` : ''}`;
  return ctx.expect(
    exchange.status === status && exchange.body?.code === code,
    `${situation}: expected ${status} ${code}, got ${got}`,
    exchange,
  );
}

/** Records whether `exchange` answered `status`; returns true when it did. */
export function expectStatusSoft(ctx: CheckContext, exchange: Exchange, status: number, situation: string): boolean {
  return ctx.expect(
    exchange.status === status,
    `${situation}: expected ${status}, got ${exchange.status}${exchange.body?.code ? ` ${String(exchange.body.code)}` : ''}`,
    exchange,
  );
}

/** `Retry-After` as the contract requires it: an integer number of seconds ≥ 1; else undefined. */
export function retryAfterSeconds(exchange: Exchange): number | undefined {
  const raw = exchange.headers['retry-after'];
  if (raw === undefined || !/^[0-9]+$/u.test(raw.trim())) return undefined;
  const seconds = Number(raw.trim());
  return seconds >= 1 ? seconds : undefined;
}
