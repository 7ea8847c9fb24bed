import { randomUUID } from 'node:crypto';
import { feature, infoRules } from '../framework/features.ts';
import type { CheckContext, CheckDef, Contract, ContractOperation } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';
import { validValue } from './negative.ts';

// Text hygiene (issue 9): control characters and unpaired surrogates in names are refused by
// the contract's `pattern` (422 with a pointer), every other character is stored as sent;
// undeclared query parameters are ignored; a path that cannot be percent-decoded is 404.
// Operations and fields are found in the contract, not listed here.

const area = 'negative';
type Json = Record<string, unknown>;

const CONTROL_TEXT = 'Jane\u0000Developer';
const FINE_TEXT = 'Jane Developer';
/** Right-to-left text, combining marks, a ZWJ family emoji and an astral letter: all legitimate in a name. */
const UNICODE_NAME = '\u05D3\u05E0\u05D4 Zo\u00EB e\u0301\u0301 \u{1F469}\u200D\u{1F469}\u200D\u{1F467} \u{1D541}';

function secured(op: ContractOperation): boolean {
  return op.security.length > 0 && op.security.every((alt) => alt.length > 0);
}

/** Top-level body properties whose schema refuses a NUL but accepts ordinary text. */
function guardedTextFields(contract: Contract, op: ContractOperation): string[] {
  const schema = contract.resolve(op.requestSchema) as Json | undefined;
  const properties = (schema?.['properties'] as Record<string, unknown> | undefined) ?? {};
  return Object.entries(properties)
    .filter(([, prop]) => contract.validate(prop, FINE_TEXT).valid && !contract.validate(prop, CONTROL_TEXT).valid)
    .map(([name]) => name);
}

/** 2.0.0's "Text fields" rule: some request schema refuses control characters in a name. */
const namesRefuseControlCharacters = feature.rule('a request schema refusing control characters in names', (contract) =>
  contract.operations.some((op) => op.requestSchema !== undefined && guardedTextFields(contract as Contract, op).length > 0),
);

const controlCharacters: CheckDef = {
  id: 'NEGATIVE-20',
  area,
  level: 'MUST',
  title: 'A NUL (or other control character) in a name answers 422 validation_failed pointing at the field, never a 5xx (names are patterned in the contract)',
  requires: [namesRefuseControlCharacters],
  cost: { register: 2 }, // two refused registrations; the shared session
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    let sent = 0;
    for (const op of ctx.contract.operations) {
      if (!op.requestSchema || !op.statuses.includes(422)) continue;
      const base = validValue(ctx, op.requestSchema) as Json | undefined;
      if (!base) continue;
      let fields = guardedTextFields(ctx.contract, op);
      if (!ctx.options.clientIpHeader && op.rateLimit?.key === 'ip') fields = fields.slice(0, 1);
      for (const name of fields) {
        const body = { ...base, [name]: CONTROL_TEXT };
        const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => [m[1]!, randomUUID()]));
        const ex = await ctx.call(op.operationId, { params, body, ...(secured(op) ? { token } : {}) });
        if (expectProblem(ctx, ex, 422, 'validation_failed', `${op.operationId} with a NUL in "${name}"`)) {
          const pointers = ((ex.body?.errors ?? []) as { pointer?: string }[]).map((e) => e.pointer);
          ctx.expect(pointers.includes(`/${name}`), `${op.operationId}: the 422 should point at /${name} (got ${pointers.join(', ') || 'none'})`, ex);
        }
        sent += 1;
      }
    }
    ctx.note(`${sent} names with a NUL sent`);
  },
};

const unicodeKept: CheckDef = {
  id: 'NEGATIVE-21',
  area,
  level: 'MUST',
  title: 'A name with right-to-left text, combining marks and astral emoji is stored and returned exactly as sent',
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    const created = await ctx.call('createProject', { token, body: { name: UNICODE_NAME } });
    ctx.require(created.status === 201, `createProject with a Unicode name: expected 201, got ${created.status}`, created);
    ctx.expect(created.body?.name === UNICODE_NAME, 'createProject echoed another name than the one sent', created);
    const read = await ctx.call('getProject', { token, params: { projectId: String(created.body.id) } });
    ctx.expect(read.status === 200 && read.body?.name === UNICODE_NAME, 'getProject returned another name than the one stored', read);
  },
};

const undeclaredQuery: CheckDef = {
  id: 'NEGATIVE-22',
  area,
  level: 'MUST',
  title: 'Query parameters an operation does not declare are ignored (200, not 422), like unknown headers',
  requires: [infoRules.undeclaredQueryIgnored],
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    const health = await ctx.call('getHealth', { query: { _: '1700000000000', unexpected: 'x' } });
    ctx.expect(health.status === 200, `getHealth?_=…&unexpected=x: expected 200, got ${health.status}`, health);
    const me = await ctx.request('GET', `${ctx.contract.operation('getCurrentUser').path}?a=1&a=2&__proto__[x]=1`, { token });
    ctx.expect(me.status === 200, `getCurrentUser with repeated and odd query parameters: expected 200, got ${me.status}`, me);
  },
};

const undecodablePath: CheckDef = {
  id: 'NEGATIVE-23',
  area,
  level: 'MUST',
  title: 'Malformed percent-encoding (%zz, a lone %, an encoded lone surrogate) in a path parameter answers 422 validation_failed, elsewhere 404 not_found; never a 5xx',
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    const template = ctx.contract.operations.find((op) => op.method === 'GET' && /\{[^}]+\}/u.test(op.path));
    ctx.require(template !== undefined, 'the contract has no GET operation with a path parameter');
    for (const segment of ['%zz', '%', '%ED%A0%80', '%C0%80']) {
      const path = template.path.replace(/\{[^}]+\}/u, segment);
      expectProblem(ctx, await ctx.request('GET', path, { token }), 422, 'validation_failed', `GET ${path}`);
      expectProblem(ctx, await ctx.request('GET', `/${segment}`), 404, 'not_found', `GET /${segment}`);
    }
  },
};

export const inputHygieneChecks: CheckDef[] = [controlCharacters, unicodeKept, undeclaredQuery, undecodablePath];
