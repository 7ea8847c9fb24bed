import type { RunResult } from '../framework/types.ts';
import { maskExchange } from './mask.ts';

/** The whole run as JSON, every exchange masked. */
export function jsonReport(result: RunResult): string {
  const exchanges = result.exchanges.map((ex) => {
    const masked = maskExchange(ex);
    // A parsed body is kept once (as `body`), not twice.
    return masked.body === undefined ? masked : { ...masked, text: undefined };
  });
  return `${JSON.stringify({ ...result, exchanges }, null, 2)}\n`;
}
