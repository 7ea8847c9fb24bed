import { describe, expect, it } from 'vitest';
import { NotImplemented } from './profiles.ts';
import { runChecks, type RunnerDeps } from './runner.ts';
import { testRunnerDeps } from './test-runner-deps.ts';
import type { CheckDef, Exchange } from './types.ts';

// The second edition's outcomes, without HTTP: PARTIAL with its "not verified" list, a check
// blocked by a CONTRACT-* violation, a check skipped because the deployment lacks a feature.

const deps = (exchanges: Exchange[] = []): RunnerDeps => testRunnerDeps({}, exchanges);

const check = (over: Partial<CheckDef>): CheckDef => ({ id: 'T-01', area: 'login', level: 'MUST', title: 't', run: async () => {}, ...over });

describe('outcomes', () => {
  it('PARTIAL when a check passed what it could and said what it could not verify; a failure still wins', async () => {
    const [partial, failed] = await runChecks(
      [
        check({ run: async (ctx) => ctx.partial('the lock ending (needs the harness clock)') }),
        check({
          id: 'T-02',
          run: async (ctx) => {
            ctx.partial('x');
            ctx.expect(false, 'broken');
          },
        }),
      ],
      deps(),
    );
    expect(partial).toMatchObject({ outcome: 'partial', notVerified: ['the lock ending (needs the harness clock)'] });
    expect(partial!.reason).toBe('not verified: the lock ending (needs the harness clock)');
    expect(failed).toMatchObject({ outcome: 'fail', reason: 'broken' });
  });

  it('a check whose only findings are contract violations is blocked by them, not failed', async () => {
    const exchanges: Exchange[] = [];
    const d = deps(exchanges);
    d.env = {
      ...d.env,
      record: (draft) => {
        const ex = { ...draft, id: exchanges.length + 1, violations: [{ requirement: 'CONTRACT-HEADERS', message: 'RateLimit missing' }] } as Exchange;
        exchanges.push(ex);
        return ex;
      },
    };
    const fakeCall = (c: CheckDef['run']) => c;
    const [blocked] = await runChecks(
      [
        check({
          run: fakeCall(async (ctx) => {
            // A recorded exchange of this check, as the client would record it.
            (ctx.client as unknown as { env: { record: (d: unknown) => Exchange } }).env.record({ checkId: 'T-01' });
          }),
        }),
      ],
      d,
    );
    expect(blocked).toMatchObject({ outcome: 'skip' });
    expect(blocked!.reason).toMatch(/^blocked by CONTRACT-HEADERS/u);
  });

  it('a check meeting a missing feature is skipped with the reason', async () => {
    const [skipped] = await runChecks(
      [
        check({
          run: async () => {
            throw new NotImplemented('createApiKey', 'api-keys');
          },
        }),
      ],
      deps(),
    );
    expect(skipped).toMatchObject({ outcome: 'skip' });
    expect(skipped!.reason).toMatch(/^not implemented: createApiKey \(profile api-keys\)/u);
  });
});
