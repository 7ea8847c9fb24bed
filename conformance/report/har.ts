import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Exchange, RunResult } from '../framework/types.ts';
import { maskExchange } from './mask.ts';

// `--har FILE`: every exchange of the run as an HTTP Archive 1.2 (browser dev tools, Charles,
// Insomnia open it), masked exactly like the other reports: Authorization, `--header` values,
// passwords, tokens, codes and secrets never leave the run.

const HTTP_VERSION = 'HTTP/1.1';

export function harLog(result: RunResult): unknown {
  // An exchange recorded without its start time (none from this suite's transport) is put
  // right after the one before it, so the entries keep their order.
  let clock = Date.parse(result.startedAt);
  return {
    log: {
      version: '1.2',
      creator: { name: 'quazzar-conformance', version: '1' },
      pages: [{ id: result.runId, startedDateTime: result.startedAt, title: `conformance run ${result.runId} against ${result.baseUrl}`, pageTimings: {} }],
      entries: result.exchanges.map((raw) => {
        const ex = maskExchange(raw);
        const at = raw.startedAt ? Date.parse(raw.startedAt) : Number.NaN;
        clock = Number.isNaN(at) ? clock + 1 : at;
        return entry(ex, result.runId, new Date(clock).toISOString());
      }),
    },
  };
}

function entry(ex: Exchange, page: string, startedDateTime: string): unknown {
  const url = new URL(ex.request.url);
  const contentType = ex.headers['content-type'] ?? '';
  return {
    pageref: page,
    startedDateTime,
    time: ex.durationMs,
    comment: `#${ex.id} ${ex.checkId}${ex.operationId ? ` ${ex.operationId}` : ''} client ${ex.client}${ex.violations.length ? ` — ${ex.violations.map((v) => v.requirement).join(', ')}` : ''}${ex.error ? ` — ${ex.error}` : ''}`,
    request: {
      method: ex.request.method,
      url: ex.request.url,
      httpVersion: HTTP_VERSION,
      cookies: [],
      headers: Object.entries(ex.request.headers).map(([name, value]) => ({ name, value })),
      queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
      ...(ex.request.body !== undefined ? { postData: { mimeType: ex.request.headers['content-type'] ?? '', text: ex.request.body } } : {}),
      headersSize: -1,
      bodySize: ex.request.bodyBytes,
    },
    response: {
      status: ex.status,
      statusText: '',
      httpVersion: HTTP_VERSION,
      cookies: [],
      headers: Object.entries(ex.headers).map(([name, value]) => ({ name, value })),
      content: { size: Buffer.byteLength(ex.text ?? ''), mimeType: contentType, text: ex.text ?? '' },
      redirectURL: ex.headers['location'] ?? '',
      headersSize: -1,
      bodySize: Buffer.byteLength(ex.text ?? ''),
    },
    cache: {},
    // blocked, dns, connect and ssl are not measured apart (-1: not applicable, HAR 1.2).
    timings: { blocked: -1, dns: -1, connect: -1, ...(ex.timings ?? { send: 0, wait: ex.durationMs, receive: 0 }), ssl: -1 },
  };
}

export async function writeHar(result: RunResult, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(harLog(result), null, 1)}\n`, 'utf8');
}
