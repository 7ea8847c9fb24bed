import type { CheckContext, CheckDef } from '../framework/types.ts';
import { decodeJwt, signHs256 } from '../lib/jwt-forge.ts';
import { expectProblem } from '../lib/problems.ts';

// The session token's claims (contract info.description "Authentication", DECISIONS §6):
// the values are read from the contract's text, never hard-coded here.

const area = 'sessions';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** `iss`, `aud` and `typ` as the contract's description documents them (`typ` `at+jwt`, …). */
export function documentedClaims(description: string): { iss?: string; aud?: string; typ?: string } {
  const value = (name: string) => new RegExp(`\`${name}\`\\s+\`([^\`]+)\``, 'u').exec(description)?.[1];
  const out: { iss?: string; aud?: string; typ?: string } = {};
  for (const name of ['iss', 'aud', 'typ'] as const) {
    const v = value(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** `typ` compared as RFC 8725 §3.11 / jose do: case-insensitive, `application/` optional. */
const sameTyp = (a: unknown, b: string): boolean =>
  typeof a === 'string' && a.toLowerCase().replace(/^application\//u, '') === b.toLowerCase().replace(/^application\//u, '');

const claimsChecked: CheckDef = {
  id: 'SESSIONS-08',
  area,
  level: 'MUST',
  title: 'The session token carries the documented typ, iss and aud (and sub = the user id, a uuid jti, exp after iat); a correctly signed token with a wrong iss, aud or typ is refused 401 invalid_token (SEC 8)',
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const documented = documentedClaims(String(ctx.contract.document?.info?.description ?? ''));
    if (!documented.iss || !documented.aud || !documented.typ) ctx.skip('the contract does not document the token\'s `typ`, `iss` and `aud`');
    // The shared session: its token is as much an issued token as any (only read here).
    const session = await ctx.accounts.shared();
    const me = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(me, 200, 'the issued token works');
    let decoded;
    try {
      decoded = decodeJwt(session.token);
    } catch (error) {
      ctx.fail(`the session token is not a JWT: ${(error as Error).message}`, me);
    }
    const { header, payload } = decoded;
    ctx.expect(header.alg === 'HS256', `alg must be HS256, got ${JSON.stringify(header.alg)}`, me);
    ctx.expect(sameTyp(header.typ, documented.typ), `typ must be ${documented.typ}, got ${JSON.stringify(header.typ)}`, me);
    ctx.expect(payload.iss === documented.iss, `iss must be ${documented.iss}, got ${JSON.stringify(payload.iss)}`, me);
    const aud = payload.aud;
    ctx.expect(aud === documented.aud || (Array.isArray(aud) && aud.includes(documented.aud)), `aud must be ${documented.aud}, got ${JSON.stringify(aud)}`, me);
    ctx.expect(payload.sub === me.body?.id, `sub must be the user id ${String(me.body?.id)}, got ${JSON.stringify(payload.sub)}`, me);
    ctx.expect(typeof payload.jti === 'string' && UUID.test(payload.jti), `jti must be a uuid, got ${JSON.stringify(payload.jti)}`, me);
    ctx.expect(typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp > payload.iat, `exp must be after iat, got iat ${String(payload.iat)}, exp ${String(payload.exp)}`, me);

    const key = ctx.options.tokenSigningKey;
    if (!key) {
      ctx.partial('a correctly signed token with a wrong iss, aud or typ is refused (needs the deployment\'s signing key: --token-signing-key-file)');
      return;
    }
    const keyBytes = Buffer.from(key, 'utf8');
    const control = await ctx.call('getCurrentUser', { token: signHs256(header, payload, keyBytes) });
    if (control.status !== 200) {
      ctx.note(`the same claims re-signed with the given key answered ${control.status}: the key is not the deployment's`);
      ctx.partial('a correctly signed token with a wrong iss, aud or typ is refused (the given signing key is not the one the deployment uses)');
      return;
    }
    const forged: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['iss', header, { ...payload, iss: 'https://attacker.example' }],
      ['aud', header, { ...payload, aud: 'another-api' }],
      ['typ', { ...header, typ: 'JWT' }, payload],
    ];
    for (const [what, h, p] of forged) {
      const ex = await ctx.call('getCurrentUser', { token: signHs256(h, p, keyBytes), expect: 401 });
      expectProblem(ctx, ex, 401, 'invalid_token', `a token signed with the deployment's key but a wrong ${what}`);
    }
  },
};

export const tokenClaimsChecks: CheckDef[] = [claimsChecked];
