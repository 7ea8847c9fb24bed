import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT } from '../run.ts';
import { createContract, loadContract } from '../framework/contract.ts';
import type { CheckResult, Exchange, RunResult } from '../framework/types.ts';
import { htmlReport } from '../report/html.ts';
import { jsonReport } from '../report/json.ts';
import { annotateEvidence, nodeAt, responsePointer } from './pointers.ts';

// Requirement ids linked to the contract locations they enforced, derived from the exchanges.

const contract = loadContract(DEFAULT_CONTRACT);

let nextId = 1;
function ex(checkId: string, operationId: string | undefined, method: string, path: string, status: number, headers: Record<string, string> = {}): Exchange {
  return {
    id: nextId++,
    ...(operationId ? { operationId } : {}),
    checkId,
    client: 'self',
    request: { method, url: `http://localhost:3000${path}`, headers: {}, bodyBytes: 0 },
    status,
    headers,
    text: '',
    body: undefined,
    durationMs: 1,
    violations: [],
  };
}

const check = (id: string, exchanges: Exchange[], extra: Partial<CheckResult> = {}): CheckResult => ({
  id,
  area: id.split('-')[0]!.toLowerCase(),
  level: 'MUST',
  title: `${id} title`,
  outcome: 'pass',
  findings: [],
  notes: [],
  exchangeIds: exchanges.map((e) => e.id),
  durationMs: 1,
  ...extra,
});

describe('contract pointers', () => {
  it('a check links to the response objects its answers matched (RFC 6901, real path template)', () => {
    const exchanges = [
      ex('LOGIN-02', 'login', 'POST', '/auth/login', 401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer realm="quazzar"' }),
      ex('LOGIN-02', 'login', 'POST', '/auth/login', 401),
      ex('LOGIN-02', 'revokeApiKey', 'DELETE', '/users/me/api-keys/x', 204),
      ex('LOGIN-02', undefined, 'GET', '/nope', 404, { 'content-type': 'application/problem+json' }),
      ex('LOGIN-02', 'login', 'POST', '/auth/login', 0),
    ];
    const headers = ex('CONTRACT-x', 'login', 'POST', '/auth/login', 429, { 'content-type': 'application/problem+json', 'retry-after': '3' });
    const ok = ex('LOGIN-01', 'login', 'POST', '/auth/login', 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    const result = {
      exchanges: [...exchanges, headers, ok],
      checks: [check('LOGIN-02', exchanges), check('LOGIN-01', [ok])],
      requirements: [
        check('CONTRACT-HEADERS', [], { area: 'contract' }),
        check('CONTRACT-SCHEMA', [], { area: 'contract' }),
        check('CONTRACT-STATUS', [], { area: 'contract' }),
        check('CONTRACT-PROBLEM', [], { area: 'contract', title: 'problem (SEC 25)' }),
      ],
    } as unknown as RunResult;
    annotateEvidence(result, contract);
    expect(result.checks[0]!.contractPointers).toEqual([
      '#/paths/~1auth~1login/post/responses/401',
      '#/paths/~1users~1me~1api-keys~1{keyId}/delete/responses/204',
      '#/x-global-responses/404',
    ]);
    const [headersReq, schemaReq, statusReq, problemReq] = result.requirements;
    expect(headersReq!.contractPointers).toContain('#/components/responses/TotpRateLimited/headers/Retry-After');
    expect(headersReq!.contractPointers).toContain('#/components/responses/LoginUnauthorized/headers/WWW-Authenticate');
    expect(headersReq!.contractPointers).toContain('#/paths/~1auth~1login/post/responses/200/headers/Cache-Control');
    expect(schemaReq!.contractPointers).toContain('#/paths/~1auth~1login/post/responses/200/content/application~1json/schema');
    expect(statusReq!.contractPointers).toContain('#/x-global-responses/404');
    expect(problemReq!.contractPointers).toEqual(['#/components/schemas/Problem']);
    expect(problemReq!.security!.map((s) => s.id)).toEqual(['SEC 25']);
    for (const r of [...result.checks, ...result.requirements]) {
      for (const p of r.contractPointers ?? []) expect(nodeAt(contract.document, p), p).toBeDefined();
    }

    const json = JSON.parse(jsonReport({ ...result, runId: 'r', baseUrl: 'http://x', startedAt: '', coverage: [], undocumented: [], leftBehind: [], capabilities: {}, summary: { pass: 0, fail: 0, warn: 0, skip: 0, mustFailed: 0 } } as unknown as RunResult)) as {
      checks: Array<{ contractPointers: string[] }>;
    };
    expect(json.checks[1]!.contractPointers).toEqual(['#/paths/~1auth~1login/post/responses/200']);
  });

  it('uses the status key the contract declares: 4XX or default when that is how a status is documented', () => {
    const doc = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/a/{id}': {
          get: { operationId: 'getA', responses: { '200': { description: 'ok' }, '4XX': { description: 'client error' }, default: { description: 'other' } } },
        },
      },
    };
    const small = createContract(doc);
    expect(responsePointer(small, ex('X-01', 'getA', 'GET', '/a/1', 200))).toBe('#/paths/~1a~1{id}/get/responses/200');
    expect(responsePointer(small, ex('X-01', 'getA', 'GET', '/a/1', 418))).toBe('#/paths/~1a~1{id}/get/responses/4XX');
    expect(responsePointer(small, ex('X-01', 'getA', 'GET', '/a/1', 503))).toBe('#/paths/~1a~1{id}/get/responses/default');
    expect(responsePointer(small, ex('X-01', 'advanceClock', 'POST', '/__harness/clock', 200))).toBeUndefined();
  });

  it('HTML: the pointers a result enforced, as code in a details element', () => {
    const r = check('LOGIN-01', [], { contractPointers: ['#/paths/~1auth~1login/post/responses/200'] });
    const html = htmlReport({
      runId: 'r', baseUrl: 'http://x', startedAt: '', durationMs: 1, estimatedMs: 1, capabilities: { smtp: false, harness: false, clientIp: false },
      checks: [r], requirements: [], exchanges: [], coverage: [], undocumented: [], unplanned429: 0, leftBehind: [],
      summary: { pass: 1, fail: 0, warn: 0, skip: 0, mustFailed: 0 }, exitCode: 0,
    });
    expect(html).toContain('<summary>enforces 1 contract location</summary><ul><li><code>#/paths/~1auth~1login/post/responses/200</code></li></ul>');
  });
});
