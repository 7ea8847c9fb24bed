import type { Exchange } from '../framework/types.ts';
import { maskExchange } from './mask.ts';

const quote = (s: string): string => `'${s.replace(/'/gu, `'\\''`)}'`;
const SKIP = new Set(['content-length', 'user-agent', 'accept']);

/** A curl command reproducing the request (secrets masked: put your own back in). */
export function curlFor(ex: Exchange): string {
  const masked = maskExchange(ex);
  const parts = ['curl -i', `-X ${masked.request.method}`, quote(masked.request.url)];
  for (const [name, value] of Object.entries(masked.request.headers)) {
    if (!SKIP.has(name)) parts.push(`-H ${quote(`${name}: ${value}`)}`);
  }
  if (masked.request.body !== undefined) {
    const compact = (() => {
      try {
        return JSON.stringify(JSON.parse(masked.request.body));
      } catch {
        return masked.request.body;
      }
    })();
    parts.push(ex.request.bodyBytes > 8192 ? `--data-binary @body-of-${ex.request.bodyBytes}-bytes.json` : `--data-raw ${quote(compact)}`);
  }
  return parts.join(' \\\n  ');
}
