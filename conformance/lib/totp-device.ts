import { TOTP_PERIOD_SECONDS, timeStepAt, totpForStep, wrongTotpCode } from './totp.ts';

/**
 * The suite's authenticator app for one account. A server accepts each time step once per
 * user (replay guard) and ±1 step around its clock, so every code this device hands out is for
 * a step later than the last one it used. When that step is not yet acceptable, it moves the
 * server clock through the harness, or waits for real time to catch up.
 */
export class TotpDevice {
  private lastStep = Number.NEGATIVE_INFINITY;

  constructor(
    readonly secret: string,
    private readonly serverTime: () => Promise<number>,
    private readonly harness?: { advanceClock(seconds: number): Promise<unknown> },
    private readonly sleep: (ms: number, why?: string) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    /** The last step the suite handed out for this account with any secret (shared by its
     * devices): the replay guard is per user, and an account may come from an earlier check. */
    private readonly floor: { step: number } = { step: Number.NEGATIVE_INFINITY },
  ) {
    this.lastStep = floor.step;
  }

  /** A code for a step never used before by this device, acceptable at the server's time. */
  async nextCode(): Promise<{ code: string; step: number }> {
    const now = await this.serverTime();
    const serverStep = timeStepAt(now);
    const step = Math.max(serverStep, this.lastStep + 1, this.floor.step + 1);
    if (step > serverStep + 1) {
      // Bring the server to step-1 at least (then it accepts `step` as its +1 neighbour).
      const behindSeconds = ((step - 1) * TOTP_PERIOD_SECONDS * 1000 - now) / 1000;
      if (this.harness) await this.harness.advanceClock(Math.max(1, Math.ceil(behindSeconds) + 1));
      else await this.sleep(Math.max(0, behindSeconds * 1000) + 1000, `for TOTP step ${step} (each step is accepted once per user; no harness clock to move)`);
      const reached = timeStepAt(await this.serverTime());
      if (step > reached + 1) throw new Error(`server clock did not reach TOTP step ${step - 1} (it is at ${reached})`);
    }
    this.lastStep = step;
    this.floor.step = Math.max(this.floor.step, step);
    return { code: totpForStep(this.secret, step), step };
  }

  /**
   * The server's replay guard is per USER, across secrets: a device for a re-provisioned
   * secret of the same account must start after the steps an earlier device used.
   */
  continueAfter(earlier: TotpDevice): this {
    this.lastStep = Math.max(this.lastStep, earlier.lastStep, this.floor.step);
    return this;
  }

  /** The code of the step last handed out (to test replay). */
  get lastCode(): string | undefined {
    return Number.isFinite(this.lastStep) ? totpForStep(this.secret, this.lastStep) : undefined;
  }

  /** A 6-digit code that matches no step near the server's time. */
  async wrongCode(): Promise<string> {
    return wrongTotpCode(this.secret, await this.serverTime(), 4);
  }
}
