import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShiftableClock } from '../clock.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { Problem } from '../errors/problem.ts';
import { replaceBackupCodes } from './backup-code-store.ts';
import { checkSecondFactorCode } from './check-code.ts';
import { TOTP_LOCK_MS, TOTP_MAX_FAILURES } from './lockout.ts';
import { verifyLoginSecondFactor } from './login-factor.ts';
import { encryptSecret } from './secret-box.ts';
import { loadTotpState, type TotpState } from './totp-state.ts';
import { generateTotpSecret } from './totp-secret.ts';

// Mid-step, so ±1 step codes are unambiguous.
const START = Date.UTC(2026, 10, 25, 12, 0, 10);

let db: Knex;
const dataKey = randomBytes(32);
const clock = new ShiftableClock(() => START);
const deps = () => ({ db, clock, keys: { dataKey } });

beforeAll(async () => {
  db = connectDatabase({ client: 'sqlite', filename: ':memory:' });
  await migrateToLatest(db);
});
afterAll(async () => db.destroy());
beforeEach(() => clock.reset());

async function userWithTotp(): Promise<{ id: string; secret: string; secretEnc: string }> {
  const id = randomUUID();
  const secret = generateTotpSecret();
  const secretEnc = encryptSecret(dataKey, secret, id);
  await db('users').insert({
    id, email: `${id}@example.com`, email_normalized: `${id}@example.com`, password_hash: 'x', full_name: 'T',
    is_active: true, totp_enabled: true, totp_secret_enc: secretEnc, created_at: START, updated_at: START,
  });
  return { id, secret, secretEnc };
}

const state = async (id: string): Promise<TotpState> => (await loadTotpState(db, id))!;
const codeNow = (secret: string, offsetMs = 0) => generate({ secret, epoch: Math.floor((clock.now() + offsetMs) / 1000) });
const wrongCode = (right: string) => String((Number(right) + 1) % 1_000_000).padStart(6, '0');

async function check(id: string, secretEnc: string, code: string, allowBackupCode = true): Promise<boolean> {
  return checkSecondFactorCode(deps(), await state(id), code, { secretEnc, allowBackupCode });
}

describe('checkSecondFactorCode', () => {
  it('accepts a right code once, then refuses the replay and older steps', async () => {
    const u = await userWithTotp();
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret))).toBe(true);
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret))).toBe(false);
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret, -30_000))).toBe(false);
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret, 30_000))).toBe(true);
  });

  it('lets exactly one of many concurrent requests with one code through', async () => {
    const u = await userWithTotp();
    const code = await codeNow(u.secret);
    const s = await state(u.id);
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => checkSecondFactorCode(deps(), s, code, { secretEnc: u.secretEnc, allowBackupCode: true })),
    );
    expect(settled.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
    // The replays are wrong codes: the 5th locks, the ones after it are refused unchecked.
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429, code: 'totp_locked' });
  });

  it('concurrent wrong codes (all read the state before any lock): at most five are checked, every failure counts (issue #10 defect 3)', async () => {
    const u = await userWithTotp();
    const s = await state(u.id);
    const wrong = wrongCode(await codeNow(u.secret));
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, () => checkSecondFactorCode(deps(), s, wrong, { secretEnc: u.secretEnc, allowBackupCode: true })),
    );
    const checked = settled.filter((r) => r.status === 'fulfilled');
    expect(checked.length).toBeLessThanOrEqual(TOTP_MAX_FAILURES);
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429, code: 'totp_locked' });
    expect((await state(u.id)).lockedUntil).toBe(START + TOTP_LOCK_MS);
    await expect(check(u.id, u.secretEnc, await codeNow(u.secret))).rejects.toMatchObject({ status: 429 });
  });

  it('locks after five wrong codes in a row, for 15 minutes, then counts afresh', async () => {
    const u = await userWithTotp();
    for (let i = 0; i < TOTP_MAX_FAILURES; i++) expect(await check(u.id, u.secretEnc, wrongCode(await codeNow(u.secret)))).toBe(false);
    const locked = await check(u.id, u.secretEnc, await codeNow(u.secret)).catch((e: unknown) => e);
    expect(locked).toBeInstanceOf(Problem);
    expect(locked).toMatchObject({ status: 429, code: 'totp_locked', headers: { 'Retry-After': String(TOTP_LOCK_MS / 1000) } });
    clock.advance(TOTP_LOCK_MS - 1000);
    await expect(check(u.id, u.secretEnc, await codeNow(u.secret))).rejects.toMatchObject({ headers: { 'Retry-After': '1' } });
    clock.advance(1000);
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret))).toBe(true);
  });

  it('a right code resets the run of failures', async () => {
    const u = await userWithTotp();
    for (let i = 0; i < TOTP_MAX_FAILURES - 1; i++) await check(u.id, u.secretEnc, '000000');
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret))).toBe(true);
    for (let i = 0; i < TOTP_MAX_FAILURES - 1; i++) await check(u.id, u.secretEnc, '000000');
    clock.advance(30_000);
    expect(await check(u.id, u.secretEnc, await codeNow(u.secret))).toBe(true);
  });

  it('spends a backup code once, even under concurrency, and only where allowed', async () => {
    const u = await userWithTotp();
    const codes = await db.transaction((trx) => replaceBackupCodes(trx, dataKey, u.id));
    expect(await check(u.id, u.secretEnc, codes[0]!, false)).toBe(false);
    const s = await state(u.id);
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, () => checkSecondFactorCode(deps(), s, codes[0]!, { secretEnc: u.secretEnc, allowBackupCode: true })),
    );
    expect(settled.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
    // The 19 losers counted as wrong codes and locked the checks; after the lock the
    // spent code is still refused and an unspent one still works.
    clock.advance(TOTP_LOCK_MS);
    expect(await check(u.id, u.secretEnc, codes[0]!)).toBe(false);
    expect(await check(u.id, u.secretEnc, codes[1]!)).toBe(true);
  });
});

describe('verifyLoginSecondFactor', () => {
  it('asks for a code, refuses a wrong one with 401 + challenge, accepts a right one', async () => {
    const u = await userWithTotp();
    await expect(verifyLoginSecondFactor(deps(), u, undefined)).rejects.toMatchObject({ status: 401, code: 'totp_required' });
    await expect(verifyLoginSecondFactor(deps(), u, 'zzzzzzzz')).rejects.toMatchObject({
      status: 401, code: 'invalid_totp_code', headers: { 'WWW-Authenticate': 'Bearer realm="quazzar"' },
    });
    await expect(verifyLoginSecondFactor(deps(), u, await codeNow(u.secret))).resolves.toBeUndefined();
  });
});
