import { AccountPool } from './accounts.ts';
import { createContract } from './contract.ts';
import { Pacer } from './pacer.ts';
import type { RunnerDeps } from './runner.ts';
import { Tracker } from './tracker.ts';
import type { CallOptions, Exchange } from './types.ts';

/** Runner dependencies without any HTTP, for the runner's own tests (empty contract, one client address). */
export function testRunnerDeps(over: Partial<RunnerDeps> = {}, exchanges: Exchange[] = []): RunnerDeps {
  const contract = createContract({ openapi: '3.1.0', paths: {} });
  const tracker = new Tracker();
  return {
    runId: 'test',
    options: { baseUrl: 'http://127.0.0.1:9' },
    contract,
    env: { contract, pacer: new Pacer(contract), tracker, baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000, record: (d) => ({ id: 0, ...d }) },
    accounts: new AccountPool('test', tracker),
    nextIp: () => 'self',
    serverTime: async () => Date.now(),
    exchanges: () => exchanges,
    capabilities: { smtp: false, harness: false, clientIp: true },
    leftBehind: [],
    timeoutMs: 1000,
    log: () => {},
    ...over,
  };
}

/** An exchange as a fake deployment answers `opts` (tracker, pool and cleanup tests). */
export function fakeExchange(operationId: string, status: number, body: unknown, opts: CallOptions, id: number): Exchange {
  return {
    id,
    operationId,
    checkId: 'test',
    client: 'self',
    request: { method: 'POST', url: `http://x/${operationId}`, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {}, body: JSON.stringify(opts.body ?? {}), bodyBytes: 0 },
    status,
    headers: {},
    text: JSON.stringify(body),
    body,
    durationMs: 1,
    violations: [],
  };
}
