import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFromRun, runConformance } from '../run.ts';
import type { Exchange } from '../framework/types.ts';
import { startReference, type RunningReference } from './reference-server.ts';

// With one address and no harness every budgeted call before RATE-01 costs the run a minute
// (RATE-01 needs every per-address window fresh and runs first). The suite identifies the
// deployment by the contract it publishes and takes the hash cost from the last run or assumes
// it: nothing counted by a per-address budget is sent before the first check.

describe('a run with one address and no harness (issue 19, speed)', () => {
  let ref: RunningReference;
  beforeAll(async () => {
    ref = await startReference({ trustClientIpHeader: false });
  });
  afterAll(async () => {
    await ref?.close();
  });

  it('sends nothing a per-address budget counts before its first check, and says the hash was not measured', async () => {
    const lines: string[] = [];
    const result = await runConformance({ baseUrl: ref.url, only: ['ERRORS-01'], reportDir: null, log: (l) => lines.push(l) });
    const budgeted = new Set(['register', 'login', 'requestPasswordReset', 'confirmPasswordReset', 'getHealth']);
    const before = result.exchanges.filter((e) => e.checkId !== 'ERRORS-01' && e.checkId !== 'cleanup');
    expect(before.filter((e) => budgeted.has(e.operationId ?? '')).map((e) => `${e.checkId} ${e.operationId}`)).toEqual([]);
    expect(lines.join('\n')).toMatch(/password hash: not measured before the run \(one address: a login now would hold the rate-limit checks back a minute\); taken as 140 ms, assumed/u);
    // The estimate says what traffic the suite did not send can add (RATE-01 waits it out).
    expect(lines.join('\n')).toMatch(/estimated run time: .*up to a minute more when this address sent budgeted requests in the last minute/u);
    // ERRORS-01 made no login: nothing to measure the hash from, so nothing is recorded for the next run.
    expect(result.hashMs).toBeUndefined();
  });
});

describe('hashFromRun', () => {
  const ex = (operationId: string, status: number, durationMs: number) => ({ operationId, status, durationMs }) as Exchange;
  it('is the fastest 401 login minus the fastest health answer, as the preflight measures it', () => {
    expect(hashFromRun([ex('login', 401, 95), ex('login', 401, 90), ex('login', 200, 20), ex('getHealth', 200, 3), ex('getHealth', 200, 2)])).toBe(88);
    expect(hashFromRun([ex('login', 200, 90), ex('getHealth', 200, 2)])).toBeUndefined();
    expect(hashFromRun([ex('login', 401, 90)])).toBeUndefined();
  });
});
