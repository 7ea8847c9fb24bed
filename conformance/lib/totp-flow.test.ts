import { describe, expect, it } from 'vitest';
import type { CallOptions, CheckContext, Exchange, Session } from '../framework/types.ts';
import { attemptLogin, enableTotp } from './totp-flow.ts';
import { TotpDevice } from './totp-device.ts';
import { loadContract } from '../framework/contract.ts';
import { DEFAULT_CONTRACT } from '../run.ts';

// enableTotp's cleanup (TOTP off again once the check ends) must not wait for a fresh time
// step: without a harness that is up to 30 s of real time per TOTP check that belongs to no
// check. A backup code disables TOTP as well (SEC 16) and needs no step.

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('enableTotp', () => {
  it('disables TOTP after the check with a backup code, without waiting for a time step', async () => {
    let now = 1_700_000_029_000; // a second before a step ends
    const slept: number[] = [];
    const sent: Array<{ operationId: string; body: unknown }> = [];
    const deferred: Array<() => Promise<void>> = [];
    const answer = (operationId: string, body: unknown): Exchange => ({ status: 200, body, operationId } as unknown as Exchange);
    const ctx = {
      // The shipped contract: its disableTotp takes current_password (recent authentication).
      contract: loadContract(DEFAULT_CONTRACT),
      harness: undefined,
      serverTime: async () => now,
      sleep: async (ms: number) => {
        slept.push(ms);
        now += ms;
      },
      call: async (operationId: string, opts: CallOptions = {}) => {
        sent.push({ operationId, body: opts.body });
        if (operationId === 'provisionTotp') return answer(operationId, { secret: SECRET });
        if (operationId === 'verifyTotp') return answer(operationId, { backup_codes: ['aaaa1111', 'bbbb2222', 'cccc3333', 'dddd4444', 'eeee5555'] });
        if (operationId === 'getCurrentUser') return answer(operationId, { totp_enabled: true });
        return answer(operationId, {});
      },
      expectStatus: () => true,
      require: () => {},
      defer: (_: string, action: () => Promise<void>) => void deferred.push(action),
    } as unknown as CheckContext;
    const session = { account: { id: '1', email: 'a@example.com', password: 'pw', fullName: 'A' }, token: 't' } as Session;
    const { device } = await enableTotp(ctx, session);
    await device.nextCode(); // the check used the +1 step too: a third code would wait
    for (const action of deferred.reverse()) await action();
    const off = sent.find((s) => s.operationId === 'disableTotp');
    expect(off?.body).toMatchObject({ code: 'eeee5555', current_password: 'pw' });
    expect(slept).toEqual([]);
  });

  it('attemptLogin with a device computes the code once the login budget is reserved (lateBody), not before', async () => {
    let sentOpts: CallOptions | undefined;
    const ctx = { call: async (_: string, opts: CallOptions) => ((sentOpts = opts), { status: 200 } as Exchange) } as unknown as CheckContext;
    const device = new TotpDevice(SECRET, async () => 1_700_000_010_000);
    await attemptLogin(ctx, { email: 'a@example.com', password: 'pw' }, device);
    expect(sentOpts?.body).toEqual({ email: 'a@example.com', password: 'pw' });
    expect(device.lastCode).toBeUndefined(); // not computed yet: the client calls lateBody after the budget
    expect(await sentOpts!.lateBody!()).toEqual({ totp_code: device.lastCode });
  });
});
