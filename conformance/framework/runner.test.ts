import { describe, expect, it } from 'vitest';
import { createContract } from './contract.ts';
import { Pacer } from './pacer.ts';
import { runChecks, type RunnerDeps } from './runner.ts';
import { testRunnerDeps } from './test-runner-deps.ts';
import type { CheckDef, Exchange } from './types.ts';

// The runner's verdicts, without any HTTP: levels, needs, skips, timeouts, cleanups.

const deps = (over: Partial<RunnerDeps> = {}): RunnerDeps => testRunnerDeps(over);

const check = (over: Partial<CheckDef>): CheckDef => ({ id: 'T-01', area: 'login', level: 'MUST', title: 't', run: async () => {}, ...over });

describe('runChecks', () => {
  it('turns findings into fail (MUST) or warn (SHOULD), and keeps going after a soft expectation', async () => {
    const reached: string[] = [];
    const run = async (ctx: Parameters<CheckDef['run']>[0]) => {
      ctx.expect(false, 'first');
      reached.push('after expect');
      ctx.require(false, 'second');
      reached.push('after require');
    };
    const [must, should] = await runChecks([check({ run }), check({ id: 'T-02', level: 'SHOULD', run })], deps());
    expect(must).toMatchObject({ outcome: 'fail', reason: 'first' });
    expect(must!.findings.map((f) => f.message)).toEqual(['first', 'second']);
    expect(should).toMatchObject({ outcome: 'warn' });
    expect(reached).toEqual(['after expect', 'after expect']);
  });

  it('skips with the reason when a need is missing, or when the check says so', async () => {
    const [needs, said, passed] = await runChecks(
      [check({ needs: ['harness'] }), check({ id: 'T-02', run: async (ctx) => ctx.skip('not offered') }), check({ id: 'T-03' })],
      deps(),
    );
    expect(needs).toMatchObject({ outcome: 'skip', needs: ['harness'] });
    expect(needs!.reason).toMatch(/--harness-url/u);
    expect(said).toMatchObject({ outcome: 'skip', reason: 'not offered' });
    expect(passed).toMatchObject({ outcome: 'pass' });
  });

  it('fails a check that throws or outlives its timeout, and reports failed cleanups as left behind', async () => {
    const d = deps();
    const [thrown, slow] = await runChecks(
      [
        check({
          run: async (ctx) => {
            ctx.defer('undo something', async () => {
              throw new Error('could not');
            });
            throw new TypeError('boom');
          },
        }),
        check({ id: 'T-02', timeoutMs: 50, run: (ctx) => ctx.sleep(10_000) }),
      ],
      d,
    );
    expect(thrown).toMatchObject({ outcome: 'fail', reason: 'the check stopped: boom' });
    expect(slow!.outcome).toBe('fail');
    expect(slow!.reason).toMatch(/timed out after 50 ms/u);
    expect(d.leftBehind).toEqual(['T-01: undo something: could not']);
  });

  it('does not count the time a check queued for a rate-limit budget against its timeout', async () => {
    // login: 1 call per second per address; the suite has just spent it.
    const paced = createContract({
      openapi: '3.1.0',
      paths: { '/login': { post: { operationId: 'login', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'login', limit: 1, window_seconds: 1, key: 'ip' } } } },
    });
    const pacer = new Pacer(paced);
    const op = paced.operation('login');
    pacer.settle(op, { ip: 'self' }, await pacer.acquire(op, { ip: 'self' }, false), { status: 200, headers: {} });
    const base = deps({ contract: paced, capabilities: { smtp: false, harness: false, clientIp: false } });
    const d = { ...base, env: { ...base.env, contract: paced, pacer } };
    // Its own work is nothing; its wait for the window (about 2 s) is far beyond its 300 ms.
    const [result] = await runChecks([check({ timeoutMs: 300, run: async (ctx) => ctx.freshBudget('login') })], d);
    expect(result!.outcome).toBe('pass');
    expect(pacer.waitedMs).toBeGreaterThan(300);
  });

  it('with one address and --jobs, starts the exclusive checks last yet reports in the suite\'s order', async () => {
    const started: string[] = [];
    const run = (id: string) => async () => void started.push(id);
    const checks = [check({ id: 'T-01', exclusive: true, run: run('T-01') }), check({ id: 'T-02', run: run('T-02') }), check({ id: 'T-03', run: run('T-03') })];
    const results = await runChecks(checks, { ...deps({ capabilities: { smtp: false, harness: false, clientIp: false } }), jobs: 2 });
    expect(started).toEqual(['T-02', 'T-03', 'T-01']);
    expect(results.map((r) => r.id)).toEqual(['T-01', 'T-02', 'T-03']);
  });

  it('does not make the running checks finish first for an exclusive check that is skipped for a missing need', async () => {
    const started: string[] = [];
    let release!: () => void;
    const slow = check({ id: 'T-01', run: async () => new Promise<void>((r) => (release = r)) });
    const needsHarness = check({ id: 'T-02', exclusive: true, needs: ['harness'] });
    const next = check({ id: 'T-03', run: async () => void (started.push('T-03'), release()) });
    const results = await runChecks([slow, needsHarness, next], { ...deps(), jobs: 2 });
    expect(started).toEqual(['T-03']); // started while T-01 ran (it waited for T-03 to end)
    expect(results.map((r) => r.outcome)).toEqual(['pass', 'skip', 'pass']);
  });

  it('skips what is left once interrupted', async () => {
    const interrupt = new AbortController();
    const results = await runChecks([check({ run: async () => interrupt.abort() }), check({ id: 'T-02' })], deps({ interrupt: interrupt.signal }));
    expect(results.map((r) => r.outcome)).toEqual(['pass', 'skip']);
    expect(results[1]!.reason).toBe('the run was interrupted');
  });
});
