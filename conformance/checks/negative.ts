import { randomUUID } from 'node:crypto';
import { unlessAbsent } from '../framework/profiles.ts';
import type { CheckContext, CheckDef, ContractOperation, Exchange } from '../framework/types.ts';
import { expectProblem } from '../lib/problems.ts';

// Negative input generated from each operation's request schema in the contract: missing,
// wrong type, extra, too long; malformed JSON, wrong media type, oversized body; malformed
// path parameters. Each must get the documented 4xx — never a 5xx, never success. Every
// mutated body is first confirmed invalid against the contract's own schema, so a check
// cannot blame the deployment for the suite's mistake.

const area = 'negative';
type Json = Record<string, unknown>;
type Variant = { label: string; body: unknown };

/** Without a client-ip header, ip-limited operations get this many 422 variants per check. */
const PACED_VARIANTS_PER_OPERATION = 1;

const STRING_CANDIDATES = ['123456', 'abcd2345', '+1-555-0100', 'A'.repeat(43), 'qzk_' + 'A'.repeat(43), 'x'];

export function node(ctx: CheckContext, schema: unknown): Json {
  return (ctx.contract.resolve(schema) as Json | undefined) ?? {};
}

function types(schema: Json): string[] {
  const t = schema['type'];
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

/** A value valid against `schema` (checked with the contract's own validator), or undefined. */
export function validValue(ctx: CheckContext, rawSchema: unknown): unknown {
  const schema = node(ctx, rawSchema);
  const candidates: unknown[] = [];
  if (Array.isArray(schema['examples'])) candidates.push(...(schema['examples'] as unknown[]));
  if ('example' in schema) candidates.push(schema['example']);
  if ('const' in schema) candidates.push(schema['const']);
  if (Array.isArray(schema['enum'])) candidates.push(...(schema['enum'] as unknown[]));
  if ('default' in schema) candidates.push(schema['default']);
  const type = types(schema).find((t) => t !== 'null') ?? (schema['properties'] ? 'object' : 'string');
  if (type === 'string') {
    const format = schema['format'];
    if (format === 'email') candidates.unshift(ctx.accounts.newEmail());
    if (format === 'uuid') candidates.push(randomUUID());
    if (format === 'date-time') candidates.push(new Date().toISOString());
    const min = Number(schema['minLength'] ?? 1);
    if (min >= 15) candidates.unshift(ctx.accounts.newPassword());
    candidates.push(...STRING_CANDIDATES, 'x'.repeat(Math.max(1, min)));
  } else if (type === 'integer' || type === 'number') candidates.push(Number(schema['minimum'] ?? 1));
  else if (type === 'boolean') candidates.push(true);
  else if (type === 'array') candidates.push([]);
  else if (type === 'object') candidates.unshift(validObject(ctx, schema));
  return candidates.find((c) => c !== undefined && ctx.contract.validate(rawSchema, c).valid);
}

function validObject(ctx: CheckContext, schema: Json): Json | undefined {
  const properties = (schema['properties'] as Record<string, unknown> | undefined) ?? {};
  const required = (schema['required'] as string[] | undefined) ?? [];
  const out: Json = {};
  for (const name of required) {
    const value = validValue(ctx, properties[name]);
    if (value === undefined) return undefined;
    out[name] = value;
  }
  const minProperties = Number(schema['minProperties'] ?? 0);
  for (const name of Object.keys(properties)) {
    if (Object.keys(out).length >= minProperties) break;
    if (name in out) continue;
    const value = validValue(ctx, properties[name]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function wrongTypeValue(schema: Json): unknown {
  const t = types(schema);
  if (t.includes('string')) return 12345;
  if (t.includes('integer') || t.includes('number')) return 'not-a-number';
  if (t.includes('boolean')) return 'yes';
  if (t.includes('array')) return 'not-an-array';
  return ['not', 'an', 'object'];
}

/** Every schema-invalid variant of a valid body, by kind. */
function variants(ctx: CheckContext, op: ContractOperation, base: Json, kind: 'missing' | 'type' | 'extra' | 'long'): Variant[] {
  const schema = node(ctx, op.requestSchema);
  const properties = (schema['properties'] as Record<string, unknown> | undefined) ?? {};
  const out: Variant[] = [];
  if (kind === 'missing') {
    for (const name of (schema['required'] as string[] | undefined) ?? []) {
      const body = { ...base };
      delete body[name];
      out.push({ label: `without the required "${name}"`, body });
    }
  } else if (kind === 'type') {
    out.push({ label: 'a JSON array instead of an object', body: [base] });
    for (const [name, prop] of Object.entries(properties)) out.push({ label: `"${name}" of the wrong type`, body: { ...base, [name]: wrongTypeValue(node(ctx, prop)) } });
  } else if (kind === 'extra') {
    out.push({ label: 'an undocumented extra property', body: { ...base, unexpected_property: 'x' } });
  } else {
    for (const [name, prop] of Object.entries(properties)) {
      const max = node(ctx, prop)['maxLength'];
      if (typeof max !== 'number') continue;
      const long = node(ctx, prop)['format'] === 'email' ? `${'a'.repeat(max)}@example.com` : 'a'.repeat(max + 1);
      out.push({ label: `"${name}" longer than maxLength ${max}`, body: { ...base, [name]: long } });
    }
  }
  return out.filter((v) => !ctx.contract.validate(op.requestSchema, v.body).valid);
}

export function pathParams(op: ContractOperation): Record<string, string> {
  return Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => [m[1]!, randomUUID()]));
}

export function secured(op: ContractOperation): boolean {
  return op.security.length > 0 && op.security.every((alt) => alt.length > 0);
}

/** Not the shared session: a mutation a deployment wrongly accepts (e.g. a logout with a
 * malformed body) must not spoil it for the checks that only read. The scratch session is
 * shared by the checks that send such requests only (one login for all of them; the suite logs
 * in again when a deployment ended it). */
export async function ownToken(ctx: CheckContext): Promise<string> {
  return (await ctx.accounts.scratch()).token;
}

export function paced(ctx: CheckContext, op: ContractOperation): boolean {
  return !ctx.options.clientIpHeader && op.rateLimit?.key === 'ip';
}

function schemaCheck(id: string, kind: 'missing' | 'type' | 'extra' | 'long', title: string): CheckDef {
  return {
    id,
    area,
    level: 'MUST',
    title,
    cost: { login: PACED_VARIANTS_PER_OPERATION, register: PACED_VARIANTS_PER_OPERATION, 'password-reset-request': PACED_VARIANTS_PER_OPERATION, 'password-reset-confirm': PACED_VARIANTS_PER_OPERATION },
    async run(ctx: CheckContext) {
      const token = await ownToken(ctx);
      let sent = 0;
      for (const op of ctx.contract.operations) {
        if (!op.requestSchema || !op.statuses.includes(422)) continue;
        const base = validValue(ctx, op.requestSchema) as Json | undefined;
        if (!base) {
          ctx.note(`${op.operationId}: the suite could not build a valid body from the schema; variants not sent`);
          continue;
        }
        let list = variants(ctx, op, base, kind);
        if (paced(ctx, op) && list.length > PACED_VARIANTS_PER_OPERATION) {
          ctx.partial(`${op.operationId}: ${list.length - PACED_VARIANTS_PER_OPERATION} of ${list.length} variants not sent (its rate limit binds without --client-ip-header): ${list.slice(PACED_VARIANTS_PER_OPERATION).map((v) => v.label).join(', ')}`);
          list = list.slice(0, PACED_VARIANTS_PER_OPERATION);
        }
        for (const variant of list) {
          const ex = await unlessAbsent(ctx, () => ctx.call(op.operationId, { params: pathParams(op), body: variant.body, ...(secured(op) ? { token } : {}) }));
          if (!ex) continue;
          expectProblem(ctx, ex, 422, 'validation_failed', `${op.operationId} ${variant.label}`);
          sent += 1;
        }
      }
      ctx.note(`${sent} invalid bodies sent`);
      ctx.require(sent > 0, 'no operation of the contract offered a variant of this kind');
    },
  };
}

const malformedJson: CheckDef = {
  id: 'NEGATIVE-01',
  area,
  level: 'MUST',
  title: 'A body that is not JSON answers 400 malformed_json on every operation documenting 400',
  // The scratch session's login is paid once per run (ownToken), not per check.
  cost: {},
  async run(ctx: CheckContext) {
    const token = await ownToken(ctx);
    for (const op of ctx.contract.operations.filter((o) => o.statuses.includes(400))) {
      const ex = await unlessAbsent(ctx, () => ctx.call(op.operationId, { params: pathParams(op), rawBody: '{"email": "a@example.com", ', ...(secured(op) ? { token } : {}) }));
      if (!ex) continue;
      expectProblem(ctx, ex, 400, 'malformed_json', `${op.operationId} with a truncated JSON body`);
    }
  },
};

const wrongMediaType: CheckDef = {
  id: 'NEGATIVE-02',
  area,
  level: 'MUST',
  title: 'A body sent as another media type answers 415 unsupported_media_type on every operation documenting 415',
  // The scratch session's login is paid once per run (ownToken), not per check.
  cost: {},
  async run(ctx: CheckContext) {
    const token = await ownToken(ctx);
    for (const op of ctx.contract.operations.filter((o) => o.statuses.includes(415))) {
      const body = op.requestSchema ? (validValue(ctx, op.requestSchema) ?? {}) : {};
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
        const ex = await unlessAbsent(ctx, () => ctx.call(op.operationId, { params: pathParams(op), rawBody: JSON.stringify(body), contentType, ...(secured(op) ? { token } : {}) }));
        if (!ex) continue;
        expectProblem(ctx, ex, 415, 'unsupported_media_type', `${op.operationId} sent as ${contentType}`);
      }
    }
  },
};

const tooLarge: CheckDef = {
  id: 'NEGATIVE-03',
  area,
  level: 'MUST',
  title: 'A body over x-request-body-limit-bytes answers 413 payload_too_large (refused fast, never hashed) (SEC 2)',
  // The scratch session's login is paid once per run (ownToken), not per check.
  cost: {},
  async run(ctx: CheckContext) {
    const token = await ownToken(ctx);
    const size = ctx.contract.bodyLimitBytes + 1024;
    const raw = JSON.stringify({ email: 'big@example.com', password: 'p'.repeat(size) });
    ctx.note(`body of ${Buffer.byteLength(raw)} bytes against a limit of ${ctx.contract.bodyLimitBytes}`);
    for (const op of ctx.contract.operations.filter((o) => o.statuses.includes(413))) {
      const ex = await unlessAbsent(ctx, () => ctx.call(op.operationId, { params: pathParams(op), rawBody: raw, ...(secured(op) ? { token } : {}) }));
      if (!ex) continue;
      expectProblem(ctx, ex, 413, 'payload_too_large', `${op.operationId} with a ${Buffer.byteLength(raw)}-byte body`);
    }
  },
};

const badPathParams: CheckDef = {
  id: 'NEGATIVE-08',
  area,
  level: 'MUST',
  title: 'A path parameter that does not match its schema answers 422 validation_failed',
  // The scratch session's login is paid once per run (ownToken), not per check.
  cost: {},
  async run(ctx: CheckContext) {
    const token = await ownToken(ctx);
    let sent = 0;
    let absent = 0;
    for (const op of ctx.contract.operations) {
      const names = [...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => m[1]!);
      if (!names.length || !op.statuses.includes(422)) continue;
      const item = ctx.contract.resolve(ctx.contract.document.paths[op.path]) as Json;
      const params = [...((item['parameters'] as unknown[]) ?? []), ...((((item[op.method.toLowerCase()] as Json)['parameters'] as unknown[]) ?? []))].map((p) => node(ctx, p));
      for (const name of names) {
        const schema = params.find((p) => p['name'] === name && p['in'] === 'path')?.['schema'];
        const bad = 'not-a-valid-id';
        if (!schema || ctx.contract.validate(schema, bad).valid) continue;
        const ex = await unlessAbsent(ctx, () => ctx.call(op.operationId, { params: { ...pathParams(op), [name]: bad }, ...(secured(op) ? { token } : {}) }));
        if (!ex) {
          absent += 1;
          continue;
        }
        expectProblem(ctx, ex, 422, 'validation_failed', `${op.operationId} with ${name}=${bad}`);
        sent += 1;
      }
    }
    if (sent === 0 && absent > 0) ctx.skip(`not implemented: every operation with a constrained path parameter is absent (${absent} tried)`);
    ctx.require(sent > 0, 'the contract has no constrained path parameter to test');
  },
};

export const negativeChecks: CheckDef[] = [
  malformedJson,
  wrongMediaType,
  tooLarge,
  schemaCheck('NEGATIVE-04', 'missing', 'A body without a required property answers 422 validation_failed on every operation (generated from the request schemas)'),
  schemaCheck('NEGATIVE-05', 'type', 'A property of the wrong type (or a non-object body) answers 422 validation_failed on every operation'),
  schemaCheck('NEGATIVE-06', 'extra', 'An undocumented extra property answers 422 validation_failed on every operation (additionalProperties false)'),
  schemaCheck('NEGATIVE-07', 'long', 'A string longer than its maxLength answers 422 validation_failed on every operation (passwords over 128 never hashed)'),
  badPathParams,
];
