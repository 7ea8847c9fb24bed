import type { Contract, Exchange } from '../framework/types.ts';
import { routeOf } from './rules.ts';

// Reads an HTTP Archive 1.2 (a browser's export, Charles, the suite's own `--har` or the
// proxy's traffic.har) into the exchanges the rules judge. A browser export holds every
// request of the page (scripts, fonts, other origins): only the origins that answered at
// least one of the contract's operations are judged, unless `origins` names them.

interface HarHeader {
  name: string;
  value: string;
}
interface HarEntry {
  startedDateTime?: string;
  time?: number;
  request: { method: string; url: string; headers?: HarHeader[]; postData?: { text?: string }; bodySize?: number };
  response: { status: number; headers?: HarHeader[]; content?: { text?: string; encoding?: string; mimeType?: string; size?: number }; _error?: string };
}

export type HarExchange = Omit<Exchange, 'id' | 'violations' | 'checkId' | 'operationId'>;

export interface HarRead {
  exchanges: HarExchange[];
  /** Per exchange: the body was not recorded (a browser leaves out some), so only status and
   * headers can be judged. */
  bodyMissing: boolean[];
  /** Entries left out: another origin than the API's. */
  ignored: number;
  origins: string[];
  /** Written by quazzar-conformance (masked: masked values are not judged). */
  masked: boolean;
}

function headerRecord(list: HarHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of list ?? []) {
    const lower = name.toLowerCase();
    // HTTP/2 pseudo-headers (":status", ":path") of a browser export are not headers.
    if (lower.startsWith(':')) continue;
    out[lower] = out[lower] === undefined ? value : `${out[lower]}, ${value}`;
  }
  return out;
}

export function readHar(har: unknown, contract: Contract, origins?: string[]): HarRead {
  const log = (har as { log?: { entries?: HarEntry[]; creator?: { name?: string } } } | undefined)?.log;
  if (!log || !Array.isArray(log.entries)) throw new Error('not an HTTP Archive: no log.entries');
  const entries = log.entries;
  const apiOrigins = origins?.map((o) => new URL(o).origin) ?? [
    ...new Set(entries.filter((e) => routeOf(contract, e.request.method, e.request.url).op).map((e) => new URL(e.request.url).origin)),
  ];
  const exchanges: HarExchange[] = [];
  const bodyMissing: boolean[] = [];
  let ignored = 0;
  for (const e of entries) {
    if (!apiOrigins.includes(new URL(e.request.url).origin)) {
      ignored += 1;
      continue;
    }
    const content = e.response.content ?? {};
    const text = content.text === undefined ? '' : content.encoding === 'base64' ? Buffer.from(content.text, 'base64').toString('utf8') : content.text;
    const headers = headerRecord(e.response.headers);
    let body: unknown;
    if (/json/iu.test(headers['content-type'] ?? '') && text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    const requestBody = e.request.postData?.text;
    bodyMissing.push(content.text === undefined && (content.size ?? 0) > 0);
    exchanges.push({
      client: 'har',
      request: {
        method: e.request.method.toUpperCase(),
        url: e.request.url,
        headers: headerRecord(e.request.headers),
        ...(requestBody !== undefined ? { body: requestBody } : {}),
        bodyBytes: requestBody !== undefined ? Buffer.byteLength(requestBody) : Math.max(0, e.request.bodySize ?? 0),
      },
      // A browser records a request that got no answer as status 0.
      status: e.response.status,
      headers,
      text,
      body,
      durationMs: Math.round(e.time ?? 0),
      ...(e.response.status === 0 ? { error: e.response._error ?? 'no answer recorded' } : {}),
    });
  }
  return { exchanges, bodyMissing, ignored, origins: apiOrigins, masked: log.creator?.name === 'quazzar-conformance' };
}
