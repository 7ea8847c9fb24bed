import { describe, expect, it } from 'vitest';
import { TotpDevice } from './totp-device.ts';
import { totpAt } from './totp.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('TotpDevice', () => {
  it('never hands out the same step twice and waits when ahead of the server', async () => {
    let now = 1_700_000_010_000;
    const slept: number[] = [];
    const device = new TotpDevice(SECRET, async () => now, undefined, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    const first = await device.nextCode();
    expect(first.code).toBe(totpAt(SECRET, now));
    const second = await device.nextCode();
    expect(second.step).toBe(first.step + 1); // the server accepts +1 step: no wait yet
    expect(slept).toEqual([]);
    const third = await device.nextCode();
    expect(third.step).toBe(first.step + 2);
    expect(slept.length).toBe(1); // it had to wait until the server reached step+1
    expect(Math.floor(now / 30_000)).toBeGreaterThanOrEqual(third.step - 1);
    expect(device.lastCode).toBe(third.code);
  });

  it('continues after the steps another device of the same user used (the replay guard is per user)', async () => {
    const now = 1_700_000_010_000;
    const first = new TotpDevice(SECRET, async () => now);
    const used = await first.nextCode();
    const second = new TotpDevice('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', async () => now).continueAfter(first);
    expect((await second.nextCode()).step).toBe(used.step + 1);
  });

  it('starts after the steps the suite used on the account in an earlier check (a pooled account), with any secret', async () => {
    let now = 1_700_000_010_000;
    const sleep = async (ms: number) => void (now += ms);
    const floor = { step: Number.NEGATIVE_INFINITY };
    const earlier = new TotpDevice(SECRET, async () => now, undefined, sleep, floor);
    const used = await earlier.nextCode();
    expect(floor.step).toBe(used.step);
    // A later check, a new secret, only the account's floor in common.
    const later = new TotpDevice('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', async () => now, undefined, sleep, floor);
    expect((await later.nextCode()).step).toBe(used.step + 1);
    // A device made before the later one used a step still moves past it.
    expect((await earlier.nextCode()).step).toBe(used.step + 2);
  });

  it('gives a wrong code that is none of the nearby codes', async () => {
    const now = 1_700_000_010_000;
    const device = new TotpDevice(SECRET, async () => now);
    const wrong = await device.wrongCode();
    for (let d = -2; d <= 2; d += 1) expect(totpAt(SECRET, now + d * 30_000)).not.toBe(wrong);
  });
});
