import fc from 'fast-check';
import type { CheckContext, CheckDef, ContractOperation, Exchange } from '../framework/types.ts';
import { unlessAbsent } from '../framework/profiles.ts';
import { curlFor } from '../report/curl.ts';
import { node, ownToken, paced, pathParams, secured, validValue } from './negative.ts';

// Generative negative testing from the request schemas (fast-check): for every operation that
// documents 422, mutate a valid body along every keyword its schema uses — type, nullability,
// pattern, format, enum, min/maxLength, required, additionalProperties — with generated values;
// each must answer 422 validation_failed. A failure is shrunk by fast-check to a minimal
// request, shown as curl; the seed (--seed) and count (--max-examples) make it replayable.

type Json = Record<string, unknown>;
const SHRINK_LIMIT_MS = 8000;
interface Mutation {
  keyword: string;
  property: string;
  value: unknown;
  drop?: boolean;
}

/** Arbitraries of invalid values for one property, one per keyword its schema uses. */
function mutationsFor(ctx: CheckContext, name: string, rawSchema: unknown, required: boolean): Array<fc.Arbitrary<Mutation>> {
  const schema = node(ctx, rawSchema);
  const declared = ([] as unknown[]).concat(schema['type'] ?? []).map(String);
  const out: Array<fc.Arbitrary<Mutation>> = [];
  const m = (keyword: string, arb: fc.Arbitrary<unknown>) => arb.map((value) => ({ keyword, property: name, value }));
  if (declared.length) {
    const wrong: Array<fc.Arbitrary<unknown>> = [];
    if (!declared.includes('string')) wrong.push(fc.string({ maxLength: 12 }));
    if (!declared.includes('integer') && !declared.includes('number')) wrong.push(fc.integer());
    if (!declared.includes('boolean')) wrong.push(fc.boolean());
    if (!declared.includes('array')) wrong.push(fc.array(fc.integer(), { maxLength: 3 }));
    if (!declared.includes('object')) wrong.push(fc.constant({}));
    if (wrong.length) out.push(m('type', fc.oneof(...wrong)));
    if (!declared.includes('null')) out.push(m('nullability', fc.constant(null)));
  }
  if (typeof schema['maxLength'] === 'number') {
    const max = schema['maxLength'];
    // max characters plus a generated tail: shrinks to exactly one character too many.
    out.push(m('maxLength', fc.string({ minLength: 1, maxLength: 40 }).map((tail) => `${'a'.repeat(max)}${tail}`)));
  }
  if (typeof schema['minLength'] === 'number' && schema['minLength'] > 0) {
    out.push(m('minLength', fc.string({ maxLength: schema['minLength'] - 1 })));
  }
  if (typeof schema['pattern'] === 'string') {
    const re = new RegExp(schema['pattern'], 'u');
    // No .filter(): a pattern that printable text always satisfies (e.g. "no control
    // characters") would make fast-check loop for ever. A generated value the pattern accepts
    // is judged "still valid" by the property and skipped; known violators come along too.
    const violators = ['\u0000', 'a\u0007b', '\t', '\ud800', '\u0085', '', ' ', '!', '../', 'x'.repeat(300)].filter((s) => !re.test(s));
    out.push(m('pattern', violators.length ? fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...violators)) : fc.string({ unit: 'binary', maxLength: 20 })));
  }
  if (Array.isArray(schema['enum'])) {
    const allowed = schema['enum'];
    out.push(m('enum', fc.string({ maxLength: 12 }).filter((s) => !allowed.includes(s))));
  }
  if (schema['format'] === 'email') out.push(m('format', fc.string({ maxLength: 20 }).filter((s) => !s.includes('@'))));
  if (schema['format'] === 'uuid') out.push(m('format', fc.string({ maxLength: 20 }).filter((s) => !/^[0-9a-f-]{36}$/iu.test(s))));
  if (required) out.push(fc.constant({ keyword: 'required', property: name, value: undefined, drop: true }));
  return out;
}

function mutationsOf(ctx: CheckContext, op: ContractOperation): Array<fc.Arbitrary<Mutation>> {
  const schema = node(ctx, op.requestSchema);
  const properties = (schema['properties'] ?? {}) as Json;
  const required = new Set((schema['required'] ?? []) as string[]);
  const out = Object.entries(properties).flatMap(([name, prop]) => mutationsFor(ctx, name, prop, required.has(name)));
  if (schema['additionalProperties'] === false) {
    out.push(
      fc
        .string({ minLength: 1, maxLength: 12 })
        .filter((k) => !(k in properties) && k !== '__proto__')
        .map((property) => ({ keyword: 'additionalProperties', property, value: 'x' })),
    );
  }
  return out;
}

export function generativeSeed(ctx: CheckContext): number {
  return ctx.options.seed ?? 0;
}

const negativeGenerated: CheckDef = {
  id: 'GEN-01',
  area: 'negative',
  level: 'MUST',
  title: 'Generated invalid bodies (every schema keyword: type, nullability, pattern, format, enum, min/maxLength, required, additionalProperties) answer 422 validation_failed on every operation (fast-check, --seed, shrunk to a minimal request)',
  cost: {}, // the scratch session's login is paid once per run (ownToken)
  async run(ctx: CheckContext) {
    const seed = generativeSeed(ctx);
    const numRuns = ctx.options.maxExamples ?? 8;
    const token = await ownToken(ctx);
    let sent = 0;
    for (const op of ctx.contract.operations) {
      if (!op.requestSchema || !op.statuses.includes(422)) continue;
      // Budgets: only where they do not bind (the hand-written NEGATIVE checks cover the rest).
      if (paced(ctx, op)) {
        ctx.partial(`${op.operationId}: not generated (its per-address rate limit binds without --client-ip-header)`);
        continue;
      }
      const base = validValue(ctx, op.requestSchema) as Json | undefined;
      const arbs = mutationsOf(ctx, op);
      if (!base || !arbs.length) continue;
      let last: Exchange | undefined;
      const attempt = async (mutation: Mutation): Promise<boolean> => {
        const body: Json = { ...base };
        if (mutation.drop) delete body[mutation.property];
        else body[mutation.property] = mutation.value;
        // Still valid after all (a generated value the schema accepts): nothing to judge.
        if (ctx.contract.validate(op.requestSchema, body).valid) return true;
        const client = op.rateLimit?.key === 'ip' ? ctx.newClient() : ctx.client;
        const ex = await unlessAbsent(ctx, () => client.call(op.operationId, { params: pathParams(op), body, ...(secured(op) ? { token } : {}) }));
        if (!ex) return true; // not implemented: reported once for the run, not judged here
        last = ex;
        sent += 1;
        return last.status === 422 && last.body?.code === 'validation_failed';
      };
      // Shrinking sends a request per step: bounded in time (the smallest failure found by then).
      const result = await fc.check(fc.asyncProperty(fc.oneof(...arbs), attempt), { seed, numRuns, interruptAfterTimeLimit: SHRINK_LIMIT_MS });
      if (result.failed && result.counterexample) {
        const [mutation] = result.counterexample;
        // Replay the shrunk example so its exchange (and curl) is the minimal one.
        await attempt(mutation);
        ctx.expect(
          false,
          `${op.operationId}: ${mutation.keyword} on "${mutation.property}" (${mutation.drop ? 'dropped' : JSON.stringify(mutation.value)}) answered ${last?.status} ${String(last?.body?.code ?? '')}, expected 422 validation_failed ` +
            `(seed ${seed}, shrunk in ${result.numShrinks} steps; replay with --seed ${seed})${last ? `\n${curlFor(last)}` : ''}`,
          last,
        );
      }
    }
    ctx.note(`seed ${seed}: ${sent} generated invalid bodies sent (${numRuns} per operation)`);
    ctx.require(sent > 0 || ctx.options.clientIpHeader === undefined, 'no operation offered a generated variant');
  },
};

export const generativeChecks: CheckDef[] = [negativeGenerated];
