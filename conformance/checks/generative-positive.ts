import fc from 'fast-check';
import type { CheckContext, CheckDef, ContractOperation, Exchange } from '../framework/types.ts';
import { unlessAbsent } from '../framework/profiles.ts';
import { curlFor } from '../report/curl.ts';
import { generativeSeed } from './generative.ts';
import { node, paced, pathParams, secured } from './negative.ts';

// Generative POSITIVE testing from the request schemas (fast-check, issue 11): bodies built to
// satisfy each request schema — types, formats, patterns, lengths, enums, oneOf, uniqueItems,
// required and optional properties, minProperties — must not be refused as malformed. Any
// documented business answer (401 wrong credentials, 409 duplicate, 400 invalid_reset_token,
// 422 weak password…) is fine; a refusal with the codes that mean "your request is not what the
// contract allows" (validation_failed, malformed_json, unsupported_media_type,
// payload_too_large) or a 5xx is a failure, shrunk to a minimal body and shown as curl.
// Same --seed and --max-examples as GEN-01.

type Json = Record<string, unknown>;
const SHRINK_LIMIT_MS = 8000;
const SHAPE_REFUSALS = new Set(['validation_failed', 'malformed_json', 'unsupported_media_type', 'payload_too_large']);
const codePoints = (s: string): number => [...s].length;

/** An arbitrary of values valid against `rawSchema` (best effort: every body is re-validated). */
export function validArbitrary(ctx: CheckContext, rawSchema: unknown, emailLocal: () => string, depth = 0): fc.Arbitrary<unknown> {
  const schema = node(ctx, rawSchema);
  if (depth > 6) return fc.constant(null);
  const alternatives = (schema['oneOf'] ?? schema['anyOf']) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s) => validArbitrary(ctx, s, emailLocal, depth + 1)));
  if ('const' in schema) return fc.constant(schema['const']);
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  const declared = ([] as unknown[]).concat(schema['type'] ?? (schema['properties'] ? 'object' : 'string')).map(String);
  const arbs = declared.map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
      case 'number': {
        const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : -1_000_000;
        const max = typeof schema['maximum'] === 'number' ? schema['maximum'] : 1_000_000;
        return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
      }
      case 'array': {
        const items = validArbitrary(ctx, schema['items'] ?? {}, emailLocal, depth + 1);
        const minLength = Number(schema['minItems'] ?? 0);
        const maxLength = Math.max(minLength, Math.min(Number(schema['maxItems'] ?? 3), 3));
        return schema['uniqueItems'] === true
          ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
          : fc.array(items, { minLength, maxLength });
      }
      case 'object': {
        const properties = (schema['properties'] ?? {}) as Json;
        const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, validArbitrary(ctx, s, emailLocal, depth + 1)]));
        const requiredKeys = ((schema['required'] ?? []) as string[]).filter((k) => k in model);
        const minProperties = Number(schema['minProperties'] ?? 0);
        return fc.record(model, { requiredKeys }).filter((o) => Object.keys(o).length >= minProperties);
      }
      default:
        return stringArbitrary(schema, emailLocal);
    }
  });
  return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
}

function stringArbitrary(schema: Json, emailLocal: () => string): fc.Arbitrary<string> {
  const min = Number(schema['minLength'] ?? 0);
  const max = Number(schema['maxLength'] ?? 64);
  const inLength = (s: string) => codePoints(s) >= min && codePoints(s) <= max;
  if (schema['format'] === 'email') {
    // Addresses of the run (so what a generated register creates is recognisably the suite's),
    // with a generated tail of the local part.
    return fc.stringMatching(/^[a-z0-9]{0,10}$/u).map((tail) => `${emailLocal()}${tail ? `-${tail}` : ''}@example.com`).filter(inLength);
  }
  if (schema['format'] === 'uuid') return fc.uuid({ version: 4 });
  if (schema['format'] === 'date-time') return fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString());
  const cap = Math.max(min, Math.min(max, 64));
  const unicode = fc.string({ minLength: min, maxLength: cap, unit: 'grapheme' });
  if (typeof schema['pattern'] === 'string') {
    const re = new RegExp(schema['pattern'], 'u');
    // Strings drawn from the pattern, and arbitrary Unicode the pattern happens to accept.
    return fc.oneof(fc.stringMatching(re), unicode).filter((s) => re.test(s) && inLength(s));
  }
  return unicode.filter(inLength);
}

function withOwnPassword(body: unknown, password: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body) || !('current_password' in body)) return body;
  return { ...(body as Json), current_password: password };
}

const positiveGenerated: CheckDef = {
  id: 'GEN-02',
  area: 'negative',
  level: 'MUST',
  title: 'Generated VALID bodies (built from each request schema: types, formats, patterns, lengths, enums, optional properties) are never refused as malformed: no validation_failed/malformed_json/415/413 and no 5xx, only documented business answers (fast-check, --seed, shrunk to a minimal request)',
  owns: {},
  hashes: 55, // with the default 8 examples: generated registrations, logins, password changes
  async run(ctx: CheckContext) {
    const seed = generativeSeed(ctx);
    const numRuns = ctx.options.maxExamples ?? 8;
    // An account of its own (never given back): generated creations (keys, projects) must not
    // eat the quotas of the accounts other checks share.
    const { account, token } = await ctx.accounts.own();
    let sent = 0;
    let invalidDrawn = 0;
    let n = 0;
    const emailLocal = () => `qz-conf-${ctx.runId}-gen${(n += 1)}`;
    for (const op of ctx.contract.operations) {
      if (!op.requestSchema) continue;
      if (paced(ctx, op)) {
        ctx.partial(`${op.operationId}: not generated (its per-address rate limit binds without --client-ip-header)`);
        continue;
      }
      let last: Exchange | undefined;
      const attempt = async (drawn: unknown): Promise<boolean> => {
        // A current_password is the account's own: a generated one is only a wrong password (a
        // business answer), and each would spend the account's login-failures budget.
        const body = withOwnPassword(drawn, account.password);
        if (!ctx.contract.validate(op.requestSchema, body).valid) {
          invalidDrawn += 1; // the generator's best effort missed: nothing to judge
          return true;
        }
        const client = op.rateLimit?.key === 'ip' ? ctx.newClient() : ctx.client;
        const ex = await unlessAbsent(ctx, () =>
          client.call(op.operationId, { params: pathParams(op), body, ...(secured(op) ? { token } : {}), expect: [] }),
        );
        if (!ex) return true; // not implemented: reported once for the run
        last = ex;
        sent += 1;
        if (op.operationId === 'changePassword' && ex.status === 200) account.password = String((body as Json)['new_password']);
        return ex.status > 0 && ex.status < 500 && !SHAPE_REFUSALS.has(String(ex.body?.code ?? ''));
      };
      const arb = validArbitrary(ctx, op.requestSchema, emailLocal);
      const result = await fc.check(fc.asyncProperty(arb, attempt), { seed, numRuns, interruptAfterTimeLimit: SHRINK_LIMIT_MS });
      if (result.failed && result.counterexample) {
        const [body] = result.counterexample;
        await attempt(body);
        ctx.expect(
          false,
          `${op.operationId}: the valid body ${JSON.stringify(body)} answered ${last?.status} ${String(last?.body?.code ?? '')} ` +
            `(seed ${seed}, shrunk in ${result.numShrinks} steps; replay with --seed ${seed})${last ? `\n${curlFor(last)}` : ''}`,
          last,
        );
      }
    }
    ctx.note(`seed ${seed}: ${sent} generated valid bodies sent (${numRuns} per operation)${invalidDrawn ? `, ${invalidDrawn} drawn bodies the contract's validator refused were not sent` : ''}`);
    ctx.require(sent > 0 || ctx.options.clientIpHeader === undefined, 'no operation offered a generated body');
  },
};

export const positiveGenerativeChecks: CheckDef[] = [positiveGenerated];
