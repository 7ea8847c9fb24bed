import type { CheckContext, CheckDef } from '../framework/types.ts';
import { contractVersion, infoRules } from '../framework/features.ts';
import { expectProblem } from '../lib/problems.ts';

// GET / PATCH /users/me (SECURITY.md 26: no mass assignment).

const area = 'users';

/** Property names of a JSON schema node of the contract (following $ref and allOf). */
function propertiesOf(ctx: CheckContext, schema: unknown): string[] {
  const node = ctx.contract.resolve(schema) as Record<string, unknown> | undefined;
  if (!node) return [];
  const own = Object.keys((node['properties'] as Record<string, unknown> | undefined) ?? {});
  const nested = ((node['allOf'] as unknown[] | undefined) ?? []).flatMap((s) => propertiesOf(ctx, s));
  return [...new Set([...own, ...nested])];
}

const currentUser: CheckDef = {
  id: 'USERS-01',
  area,
  level: 'MUST',
  title: 'GET /users/me returns the authenticated account (id, e-mail, name, active, TOTP off for a fresh account), with or without an undeclared query parameter',
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared();
    const ex = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(ex, 200);
    ctx.expect(ex.body?.id === session.account.id, `id: expected ${session.account.id}, got ${ex.body?.id}`, ex);
    ctx.expect(ex.body?.email === session.account.email, `email: expected ${session.account.email}, got ${ex.body?.email}`, ex);
    ctx.expect(ex.body?.full_name === session.account.fullName, `full_name: expected ${session.account.fullName}, got ${ex.body?.full_name}`, ex);
    ctx.expect(ex.body?.is_active === true && ex.body?.totp_enabled === false, 'is_active should be true and totp_enabled false', ex);
    // No operation declares query parameters; an undeclared one (a cache-buster) is ignored —
    // a rule 2.0.0 states ("Text fields"); 1.0.0 promises nothing about it.
    if (!infoRules.undeclaredQueryIgnored.present(ctx.contract)) return ctx.note(`undeclared query parameter not tried: ${infoRules.undeclaredQueryIgnored.label} is not in contract ${contractVersion(ctx.contract)}`);
    const busted = await ctx.request('GET', '/users/me?_=1700000000', { token: session.token });
    ctx.expect(busted.status === 200 && busted.body?.id === session.account.id, `GET /users/me?_=1700000000 (an undeclared query parameter is ignored): expected 200 with the account, got ${busted.status}`, busted);
  },
};

const patchPersisted: CheckDef = {
  id: 'USERS-02',
  area,
  level: 'MUST',
  title: 'PATCH /users/me changes exactly the fields sent, the answer shows them and they persist (also null for nullable fields)',
  owns: { giveBack: true },
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.own({ giveBack: true });
    const change = { full_name: 'Jane M. Conformance', company_name: 'Acme Corp', phone: '+1-555-0200' };
    const patched = await ctx.call('updateCurrentUser', { token: session.token, body: change });
    ctx.expectStatus(patched, 200, 'PATCH with full_name, company_name and phone');
    for (const [field, value] of Object.entries(change)) {
      ctx.expect(patched.body?.[field] === value, `the PATCH answer shows ${field} ${JSON.stringify(patched.body?.[field])}, expected ${JSON.stringify(value)}`, patched);
    }
    const read = await ctx.call('getCurrentUser', { token: session.token });
    for (const [field, value] of Object.entries(change)) {
      ctx.expect(read.body?.[field] === value, `GET after PATCH shows ${field} ${JSON.stringify(read.body?.[field])}, expected ${JSON.stringify(value)}`, read);
    }
    ctx.expect(read.body?.email === session.account.email, 'PATCH changed the e-mail', read);
    const cleared = await ctx.call('updateCurrentUser', { token: session.token, body: { company_name: null } });
    ctx.expectStatus(cleared, 200, 'PATCH company_name: null');
    const again = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expect(again.body?.company_name === null, `company_name should be null after clearing it, got ${JSON.stringify(again.body?.company_name)}`, again);
    ctx.expect(again.body?.phone === change.phone && again.body?.full_name === change.full_name, 'clearing company_name changed other fields', again);
  },
};

const massAssignment: CheckDef = {
  id: 'USERS-03',
  area,
  level: 'MUST',
  title: 'PATCH /users/me refuses every field it does not document as writable (email, is_active, totp_enabled, id…) with 422 and changes nothing (SEC 26)',
  owns: { giveBack: true },
  async run(ctx: CheckContext) {
    const update = ctx.contract.operation('updateCurrentUser');
    const read = ctx.contract.operation('getCurrentUser');
    const writable = new Set(propertiesOf(ctx, update.requestSchema));
    const shown = propertiesOf(ctx, read.responses['200']?.schemas['application/json']);
    const forbidden = [...new Set([...shown.filter((f) => !writable.has(f)), 'password', 'password_hash', 'role', 'is_admin'])];
    ctx.require(writable.size > 0 && shown.length > 0, 'the contract documents no User / UserUpdate properties');
    const session = await ctx.accounts.own({ giveBack: true });
    const before = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(before, 200);
    const values: Record<string, unknown> = {
      id: '00000000-0000-4000-8000-000000000000',
      email: ctx.accounts.newEmail(),
      is_active: false,
      totp_enabled: true,
      created_at: '2000-01-01T00:00:00Z',
      password: ctx.accounts.newPassword(),
      password_hash: 'x',
      role: 'admin',
      is_admin: true,
    };
    for (const field of forbidden) {
      const ex = await ctx.call('updateCurrentUser', { token: session.token, body: { full_name: 'Mass Assignment', [field]: values[field] ?? 'x' } });
      expectProblem(ctx, ex, 422, 'validation_failed', `PATCH with the non-writable field ${field}`);
    }
    const after = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expect(JSON.stringify(after.body) === JSON.stringify(before.body), `the refused PATCHes changed the account: before ${JSON.stringify(before.body)}, after ${JSON.stringify(after.body)}`, after);
    const login = await ctx.call('login', { body: { email: session.account.email, password: session.account.password } });
    ctx.expect(login.status === 200, `the original password must still work, got ${login.status}`, login);
  },
};

export const usersChecks: CheckDef[] = [currentUser, patchPersisted, massAssignment];
