import { describe, expect, it } from 'vitest';
import { createContract } from './contract.ts';
import { allChecks } from '../checks/index.ts';
import { budgetFloor, estimateParts, estimateRunMs, jobsHint, plannedHashes, TOTP_WAITS } from './estimate.ts';
import type { CheckDef } from './types.ts';

// The estimate printed before a run (and by --dry-run) must be within a quarter of the real
// time: it counts the pacing waits of the one-address mode, the password hashes, and --jobs.

const contract = createContract({
  openapi: '3.1.0',
  paths: {
    '/login': { post: { operationId: 'login', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'login', limit: 10, window_seconds: 60, key: 'ip' } } },
  },
});

/** Login (10 a minute) and register (5 a minute), per address. */
const loginAndRegister = createContract({
  openapi: '3.1.0',
  paths: {
    '/login': { post: { operationId: 'login', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'login', limit: 10, window_seconds: 60, key: 'ip' } } },
    '/register': { post: { operationId: 'register', responses: { '201': { description: 'ok' } }, 'x-rate-limit': { policy: 'register', limit: 5, window_seconds: 60, key: 'ip' } } },
  },
});

const check = (id: string, extra: Partial<CheckDef> = {}): CheckDef => ({ id, area: 'login', level: 'MUST', title: id, run: async () => {}, ...extra });

describe('budgetFloor', () => {
  it('is the whole windows the busiest per-IP budget needs with one address, none with a header or the harness', () => {
    const checks = [check('a', { cost: { login: 25, register: 4 } }), check('b', { cost: { login: 6, register: 8 } }), check('c', { cost: { login: 50 }, skipsAlone: true })];
    const alone = { clientIp: false, harness: false };
    // login: 31 calls at 10 a minute → 3 whole windows; register: 12 at 5 → 2; the skipped check's 50 do not count.
    expect(budgetFloor(checks, loginAndRegister, alone)).toEqual({ policy: 'login', calls: 31, limit: 10, windowSeconds: 60, ms: 180_000 });
    expect(budgetFloor(checks, loginAndRegister, { clientIp: true, harness: false })).toBeUndefined();
    expect(budgetFloor(checks, loginAndRegister, { clientIp: false, harness: true })).toBeUndefined();
    // The floor never exceeds the estimate, which paces the same calls.
    expect(budgetFloor(checks, loginAndRegister, alone)!.ms).toBeLessThanOrEqual(estimateRunMs(checks, loginAndRegister, { ...alone, hashMs: 100 }));
  });
});

describe('estimateRunMs', () => {
  it('does not count the budget of a check that skips with one address and no harness', () => {
    const failures = check('RATE-04', { cost: { login: 103 }, skipsAlone: true });
    const alone = { clientIp: false, harness: false, hashMs: 100 };
    expect(estimateRunMs([failures], contract, alone)).toBeLessThan(1000);
    expect(plannedHashes([failures], alone)).toBe(0);
    // Counted, it would be ten login windows of 60 s.
    expect(estimateRunMs([check('x', { cost: { login: 103 } })], contract, alone)).toBeGreaterThan(10 * 60_000);
  });

  it('counts the password hashes a check declares beyond its budget calls, one at a time', () => {
    const race = check('HARDENING-03', { cost: { register: 1 }, hashes: 101 });
    const withAddresses = { clientIp: true, harness: true, hashMs: 100 };
    expect(plannedHashes([race], withAddresses)).toBe(101);
    expect(estimateRunMs([race], contract, withAddresses)).toBeGreaterThanOrEqual(10_100);
    // With one address its budget calls are what it hashes.
    expect(plannedHashes([race], { clientIp: false, harness: true })).toBe(1);
  });

  it('divides the time of checks that may run alongside others by --jobs, never the hashing', () => {
    const many = Array.from({ length: 40 }, (_, i) => check(`c${i}`, { cost: { login: 1 } }));
    const serial = estimateRunMs(many, contract, { clientIp: true, harness: true, jobs: 1, hashMs: 100 });
    const four = estimateRunMs(many, contract, { clientIp: true, harness: true, jobs: 4, hashMs: 100 });
    expect(four).toBeLessThan(serial);
    expect(four).toBeGreaterThanOrEqual(40 * 100);
  });

  it('with one address, overlaps the waits of checks that spend different budgets under --jobs', () => {
    const registers = check('A', { cost: { register: 6 } });
    const logins = check('B', { cost: { login: 11 } });
    const alone = { clientIp: false, harness: false, hashMs: 0 };
    const serial = estimateRunMs([registers, logins], loginAndRegister, { ...alone, jobs: 1 });
    const two = estimateRunMs([registers, logins], loginAndRegister, { ...alone, jobs: 2 });
    expect(serial).toBeGreaterThan(120_000); // each waits a window, one after the other
    expect(two).toBeLessThan(70_000); // both wait for their windows at the same time
    // A check that drives a budget runs alone: no overlap for it.
    const driver = check('C', { cost: { login: 11 }, exclusive: true });
    expect(estimateRunMs([registers, driver], loginAndRegister, { ...alone, jobs: 2 })).toBeGreaterThan(120_000);
  });

  it('counts a registration and a login for an account of its own only when no finished check gave one back', () => {
    const mode = { clientIp: true, harness: true };
    const owners = Array.from({ length: 6 }, (_, i) => check(`O${i}`, { owns: { giveBack: true } }));
    // The first registers and logs in, the five after it take its account and session.
    expect(plannedHashes(owners, mode, loginAndRegister)).toBe(2);
    const keepers = Array.from({ length: 6 }, (_, i) => check(`K${i}`, { owns: {} }));
    expect(plannedHashes(keepers, mode, loginAndRegister)).toBe(12);
    // An account given back without a session (a reset revoked it) costs its taker a login.
    const giver = check('G', { givesBack: ['account'] });
    expect(plannedHashes([giver, check('T', { owns: {} })], mode, loginAndRegister)).toBe(1);
    // A TOTP check's account (a used time step) is retired, not handed on, when registering is
    // cheap (a header or a harness); with one address and no harness it is handed on.
    const totp = check('TOTP-03', { owns: { giveBack: true } });
    expect(plannedHashes([totp, check('T', { owns: {} })], mode, loginAndRegister)).toBe(4);
    expect(plannedHashes([totp, check('T', { owns: {} })], { clientIp: false, harness: false }, loginAndRegister)).toBe(2);
    // Reset mails: an account sent 3 (the per-recipient budget) is not handed to a check sending one more.
    const mailer = check('M', { owns: { session: false, mails: 3, giveBack: true } });
    expect(plannedHashes([mailer, check('N', { owns: { session: false, mails: 1 } })], mode, loginAndRegister)).toBe(2);
  });

  it('says what the default --jobs would take when a run with one address and no harness is given one job', () => {
    const checks = [check('A', { cost: { register: 6 } }), check('B', { cost: { login: 11 } })];
    const alone = { clientIp: false, harness: false, hashMs: 0 };
    expect(jobsHint(checks, loginAndRegister, { ...alone, jobs: 1 })).toMatch(/^; about 1 min \d+ s with --jobs 8$/u);
    expect(jobsHint(checks, loginAndRegister, { ...alone, jobs: 4 })).toBe('');
    expect(jobsHint(checks, loginAndRegister, { ...alone, clientIp: true, jobs: 1 })).toBe('');
  });
});

describe('estimateParts: every real-time wait is planned', () => {
  const totpCheck = (id: string, extra: Partial<CheckDef> = {}) => check(id, { area: 'totp', owns: { giveBack: true }, ...extra });

  it('counts the TOTP steps a check waits for without a harness, with or without a client-ip header', () => {
    const [waits, none] = [totpCheck('TOTP-04'), totpCheck('TOTP-05')];
    for (const clientIp of [true, false]) {
      const parts = estimateParts([waits, none], loginAndRegister, { clientIp, harness: false, hashMs: 0 });
      expect(parts.totpMs).toBeGreaterThanOrEqual(15_000); // the next step boundary: half a step on average
      expect(parts.totalMs).toBeGreaterThanOrEqual(parts.totpMs);
    }
    // The harness moves the clock instead: no real wait.
    expect(estimateParts([waits], loginAndRegister, { clientIp: true, harness: true, hashMs: 0 }).totpMs).toBe(0);
  });

  it('counts two checks waiting for steps one after the other as almost a step apart, not two half steps (one job)', () => {
    const parts = estimateParts([totpCheck('TOTP-04'), totpCheck('TOTP-06')], loginAndRegister, { clientIp: true, harness: false, hashMs: 0, jobs: 1 });
    // The first waits for the next boundary, the second starts just after it: nearly a whole step.
    expect(parts.totpMs).toBeGreaterThanOrEqual(15_000 + 28_000);
  });

  it('with the deployment\'s clock known (a real run), counts a step wait from where the run starts in its step', () => {
    const at = (stepPhaseMs: number) => estimateParts([totpCheck('TOTP-04')], loginAndRegister, { clientIp: true, harness: false, hashMs: 0, jobs: 1, stepPhaseMs }).totpMs;
    expect(at(28_000)).toBeLessThan(5_000); // the boundary is two seconds away
    expect(at(1_000)).toBeGreaterThan(25_000); // a whole step away
  });

  it('counts the windows a check sleeps through itself when a client-ip header is given but no harness', () => {
    const sleeper = check('RATE-08', { waitsMs: 61_000 });
    const parts = estimateParts([sleeper], loginAndRegister, { clientIp: true, harness: false, hashMs: 0, jobs: 1 });
    expect(parts.windowMs).toBe(61_000);
    expect(parts.totalMs).toBeGreaterThanOrEqual(61_000);
    expect(estimateParts([sleeper], loginAndRegister, { clientIp: true, harness: true, hashMs: 0 }).totalMs).toBeLessThan(1000);
  });

  it('counts a fresh step for a TOTP check handed an account another check used TOTP steps on (one address, no harness)', () => {
    const alone = { clientIp: false, harness: false, hashMs: 0 };
    const first = totpCheck('TOTP-03');
    const second = totpCheck('TOTP-05');
    expect(estimateParts([first, second], loginAndRegister, alone).totpMs).toBeGreaterThan(0);
    expect(estimateParts([second], loginAndRegister, alone).totpMs).toBe(0);
  });

  it('counts the final cleanup: a logout per session, a backup-code login per account TOTP stays locked on', () => {
    const parts = estimateParts([check('TOTP-06', { cost: { login: 2 } })], loginAndRegister, { clientIp: true, harness: false, hashMs: 100 });
    expect(parts.cleanupMs).toBeGreaterThanOrEqual(100);
  });

  it('lists every check of the suite that waits for TOTP steps or sleeps: a wait that is not planned fails here', () => {
    const unplanned: string[] = [];
    for (const c of allChecks) {
      const code = c.run.toString();
      if (/enableTotp|nextCode|quietStep|deviceFor|TotpDevice/u.test(code) && !TOTP_WAITS[c.id]) unplanned.push(`${c.id} uses TOTP codes`);
      // HARDENING-03 sleeps only when the deployment sheds load (503 with Retry-After): not planned.
      if (/\.sleep\(/u.test(code) && c.waitsMs === undefined && c.id !== 'HARDENING-03' && !TOTP_WAITS[c.id]) unplanned.push(`${c.id} sleeps`);
    }
    expect(unplanned).toEqual([]);
    // And no entry is stale.
    expect(Object.keys(TOTP_WAITS).filter((id) => !allChecks.some((c) => c.id === id))).toEqual([]);
  });
});
