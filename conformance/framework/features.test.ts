import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../checks/index.ts';
import { loadContract } from './contract.ts';
import { RELEASES_DIR } from './contract-version.ts';
import { feature, missingFeatures, notInContract, withCurrentPassword } from './features.ts';
import { runChecks } from './runner.ts';
import { testRunnerDeps } from './test-runner-deps.ts';
import type { CheckDef } from './types.ts';

// A released contract is a promise the suite keeps: a check relying on a feature the chosen
// contract lacks is SKIPPED "not in contract <version>: <feature>", and requests are built
// from the chosen contract.

const v1 = loadContract(join(RELEASES_DIR, '1.0.0.json'));
const v2 = loadContract(join(RELEASES_DIR, '2.0.0.json'));
const v21 = loadContract(join(RELEASES_DIR, '2.1.0.json'));
const byId = (id: string): CheckDef => allChecks.find((c) => c.id === id)!;

describe('contract features', () => {
  it('tells 1.0.0 from 2.0.0 by what each documents', () => {
    const cases: Array<[ReturnType<typeof feature.operation>, boolean, boolean]> = [
      [feature.operation('createApiKey'), true, true],
      [feature.operation('deleteEverything'), false, false],
      [feature.extension('x-recent-authentication'), false, true],
      [feature.extension('x-totp-lockout'), true, true],
      [feature.extension('x-quota', 'createProject'), false, true],
      [feature.requestField('disableTotp', 'current_password'), false, true],
      [feature.requestField('changePassword', 'current_password'), true, true],
      [feature.responseHeader('getHealth', 503, 'Retry-After'), false, true],
    ];
    for (const [f, inV1, inV2] of cases) {
      expect([f.label, f.present(v1)]).toEqual([f.label, inV1]);
      expect([f.label, f.present(v2)]).toEqual([f.label, inV2]);
    }
  });

  it('every check relying on a rule a later release added is skipped under an earlier one, and every check runs under the latest', () => {
    const skippedUnderV1 = allChecks.filter((c) => missingFeatures(c, v1).length).map((c) => c.id).sort();
    const added21 = ['HARDENING-08', 'HARDENING-09', 'HARDENING-34', 'HARDENING-35', 'HARDENING-36', 'IDENTITY-03', 'IDENTITY-04', 'RATE-09', 'RATE-10', 'RESET-12'];
    expect(skippedUnderV1).toEqual(['HARDENING-05', 'HARDENING-06', 'HARDENING-07', 'HARDENING-40', 'HARDENING-41', 'IDENTITY-02', ...added21, 'KEYS-20', 'KEYS-21', 'NEGATIVE-20', 'NEGATIVE-22'].sort());
    expect(allChecks.filter((c) => missingFeatures(c, v2).length).map((c) => c.id).sort()).toEqual(added21);
    expect(allChecks.filter((c) => missingFeatures(c, v21).length).map((c) => c.id)).toEqual([]);
    expect(notInContract(byId('KEYS-20'), v1)).toBe('not in contract 1.0.0: x-quota on createApiKey');
    expect(notInContract(byId('HARDENING-07'), v1)).toMatch(/^not in contract 1\.0\.0: a password reset revokes API keys/u);
    expect(notInContract(byId('NEGATIVE-20'), v1)).toMatch(/^not in contract 1\.0\.0: .*control characters/u);
  });

  it('the runner skips such a check with the reason, without running it', async () => {
    let ran = false;
    const check: CheckDef = { id: 'T-01', area: 'api-keys', level: 'MUST', title: 't', requires: [feature.extension('x-quota', 'createApiKey')], run: async () => void (ran = true) };
    const [underV1] = await runChecks([check], testRunnerDeps({ contract: v1 }));
    expect(underV1).toMatchObject({ outcome: 'skip', reason: 'not in contract 1.0.0: x-quota on createApiKey' });
    expect(ran).toBe(false);
    const [underV2] = await runChecks([check], testRunnerDeps({ contract: v2 }));
    expect(underV2).toMatchObject({ outcome: 'pass' });
    expect(ran).toBe(true);
  });

  it('a call to an operation the chosen contract lacks skips the check, naming it', async () => {
    const check: CheckDef = { id: 'T-02', area: 'api-keys', level: 'MUST', title: 't', run: async (ctx) => void (await ctx.call('deleteEverything')) };
    const base = testRunnerDeps({ contract: v1 });
    const [result] = await runChecks([check], { ...base, env: { ...base.env, contract: v1 } });
    expect(result).toMatchObject({ outcome: 'skip', reason: 'not in contract 1.0.0: operation deleteEverything' });
  });

  it('sends current_password only when the chosen contract has it', () => {
    for (const op of ['disableTotp', 'verifyTotp', 'createApiKey']) {
      expect(withCurrentPassword(v1, op, { code: '123456' }, 'pw')).toEqual({ code: '123456' });
      expect(withCurrentPassword(v2, op, { code: '123456' }, 'pw')).toEqual({ code: '123456', current_password: 'pw' });
    }
    expect(withCurrentPassword(v2, 'disableTotp', { code: '123456' }, undefined)).toEqual({ code: '123456' });
  });
});
