import fc from 'fast-check';

// Request generators derived from the bundled contract's request schemas: values that are
// valid-ish (right type, boundary lengths, formats) mixed with wrong types and hostile text.

type Json = Record<string, any>;

/** Text that has broken servers before: control characters, bad UTF-16, bidi, combining marks, astral. */
export const HOSTILE_STRINGS = [
  '\u0000', 'a\u0000b', 'Jane\u0000Developer', '\u0001\u0002\u001f\u007f', '\u0085\u009f', '\t\r\n',
  '\ud800', 'x\udfffy', '\udc00\ud800', '\ud83d', // lone / reversed surrogates
  '\u202Eevil\u202C', '\u200F\u05D0\u05D1', '\u061C\u0627', // RTL, bidi controls
  'e\u0301\u0301\u0301\u0301', 'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357', // combining marks
  '😀', '👩‍👩‍👧‍👦', '𝕁𝕒𝕟𝕖', '\u{10FFFF}', '\uFEFF', '\uFFFE', '\uFFFF', '\u2028\u2029',
  '', ' ', '   ', '%00', '%', '%zz', '../../etc/passwd', "' OR 1=1 --", '"; DROP TABLE users; --',
  '<script>alert(1)</script>', '${jndi:ldap://x}', '{{7*7}}', '__proto__', 'constructor', 'toString',
  'null', 'undefined', 'NaN', '-0', '1e400', 'ａｄｍｉｎ@example.com', 'a@b', 'A@EXAMPLE.COM', 'x'.repeat(300),
];

/** Every C0 / C1 control character and each lone surrogate half, alone. */
const CONTROL_CHARACTERS = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }), fc.integer({ min: 0xd800, max: 0xdfff }),
).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: CONTROL_CHARACTERS },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 10 })).map(([a, b]) => b + a + b) },
);

/** Any JSON value (wrong types for every field), including awkward numbers. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MIN_VALUE, [], {}, [null], { '': '' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  hostileString,
  fc.jsonValue({ maxDepth: 3 }),
);

const ALPHABET = ['a', 'Z', '0', 'é', '😀', 'e\u0301', 'ß', ' ', '-', '\u05D0'];

/** A string of exactly n code points drawn from a mixed (BMP + astral + combining) alphabet. */
function stringOfLength(n: number): fc.Arbitrary<string> {
  if (n <= 0) return fc.constant('');
  return fc.array(fc.constantFrom(...ALPHABET), { minLength: n, maxLength: n }).map((parts) => parts.join(''));
}

export interface SchemaContext {
  resolve(node: unknown): Json;
  /** Extra candidate strings (ids of the fuzz's own keys and projects, its e-mails). */
  knownStrings: string[];
  /** Only values of the right type and length (hostile characters inside them), no extra fields. */
  strict?: boolean;
}

/** Valid-ish value for a schema, mixed with wrong types and hostile text. */
export function valueFor(ctx: SchemaContext, rawSchema: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (ctx.strict === true) return validish(ctx, rawSchema, depth);
  return fc.oneof(
    { weight: 12, arbitrary: validish(ctx, rawSchema, depth) },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: hostileString },
  );
}

function validish(ctx: SchemaContext, rawSchema: unknown, depth: number): fc.Arbitrary<unknown> {
  const schema = ctx.resolve(rawSchema);
  const alternatives = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => validish(ctx, s, depth)));
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : schema.properties ? ['object'] : ['string'];
  return fc.oneof(...types.map((t) => ofType(ctx, schema, t, depth)));
}

function ofType(ctx: SchemaContext, schema: Json, type: string, depth: number): fc.Arbitrary<unknown> {
  const examples: unknown[] = [...(schema.examples ?? []), ...(schema.enum ?? []), ...('default' in schema ? [schema.default] : [])];
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer({ min: Number(schema.minimum ?? -10), max: Number(schema.maximum ?? 1e6) }), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e308));
    case 'array': {
      const items = schema.items ?? {};
      const max = Math.min(Number(schema.maxItems ?? 5), 5);
      return fc.oneof(
        fc.array(valueFor(ctx, items, depth + 1), { maxLength: max }),
        fc.array(validish(ctx, items, depth + 1), { minLength: 1, maxLength: 3 }).map((a) => [...a, ...a]), // duplicates vs uniqueItems
        fc.constant(Array.from({ length: Number(schema.maxItems ?? 100) + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)),
      );
    }
    case 'object':
      return depth > 4 ? fc.constant({}) : objectFor(ctx, schema, depth);
    default:
      return stringFor(ctx, schema, examples);
  }
}

function stringFor(ctx: SchemaContext, schema: Json, examples: unknown[]): fc.Arbitrary<unknown> {
  const min = Number(schema.minLength ?? 0);
  const max = schema.maxLength === undefined ? 64 : Number(schema.maxLength);
  const lengths = [stringOfLength(Math.max(min, 1)), stringOfLength(max), fc.integer({ min, max: Math.min(max, 300) }).chain(stringOfLength)];
  const shaped = schema.format !== undefined || schema.pattern !== undefined;
  // Free text gets boundary lengths; an e-mail, uuid or pattern gets values of its shape.
  const valid: fc.Arbitrary<unknown>[] = shaped ? [] : lengths;
  const invalid: fc.Arbitrary<unknown>[] = [stringOfLength(max + 1), stringOfLength(Math.max(0, min - 1)), hostileString, ...(shaped ? lengths : [])];
  const words = examples.filter((e): e is string => typeof e === 'string');
  if (examples.length > 0) valid.push(fc.constantFrom(...examples));
  if (ctx.knownStrings.length > 0) valid.push(fc.constantFrom(...ctx.knownStrings));
  if (schema.format === 'email') {
    valid.push(fc.emailAddress().filter((e) => e.length <= max), fc.emailAddress().filter((e) => e.length <= max));
    invalid.push(fc.tuple(hostileString, fc.constantFrom('@example.com', '@EXAMPLE.com', '')).map(([a, b]) => a + b));
    valid.push(fc.constant(`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`));
  }
  if (schema.format === 'uuid') valid.push(fc.uuid(), fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000'));
  if (schema.pattern !== undefined) valid.push(fc.stringMatching(new RegExp(schema.pattern as string, 'u')).filter((s) => s.length <= 64));
  // Hostile characters inside an otherwise valid value: these are the ones that reach storage.
  const hostileInside = fc.tuple(fc.constantFrom(...words, 'Jane', 'secure-password-123'), hostileString, fc.boolean()).map(([a, b, front]) => (front ? b + a : a + b));
  valid.push(hostileInside, hostileInside);
  if (ctx.strict === true) return fc.oneof(...valid);
  return fc.oneof(
    { weight: 3, arbitrary: fc.oneof(...valid) },
    { weight: 1, arbitrary: fc.oneof(...invalid) },
  );
}

function objectFor(ctx: SchemaContext, schema: Json, depth: number): fc.Arbitrary<Json> {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const required = new Set<string>(schema.required ?? []);
  const entries = Object.keys(properties).map((name) =>
    fc.tuple(
      fc.constant(name),
      // required: present 90 %; optional: present 50 %
      ctx.strict === true && required.has(name)
        ? valueFor(ctx, properties[name], depth + 1)
        : fc.option(valueFor(ctx, properties[name], depth + 1), { freq: required.has(name) ? 10 : 2, nil: undefined }),
    ),
  );
  const extra = ctx.strict === true ? fc.constant(undefined) : fc.option(fc.tuple(fc.constantFrom('is_active', 'email', 'id', '__proto__', 'constructor', 'x', ''), anyJson), { freq: 4, nil: undefined });
  return fc.tuple(fc.tuple(...entries), extra).map(([pairs, more]) => {
    const out: Json = {};
    for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
    if (more !== undefined) Object.defineProperty(out, more[0], { value: more[1], enumerable: true, writable: true, configurable: true });
    return out;
  });
}

/** Raw bodies JSON.stringify cannot produce: duplicate keys, deep nesting, huge numbers, broken JSON. */
export function rawBodyFor(objectArb: fc.Arbitrary<unknown>, bodyLimit: number): fc.Arbitrary<string | Buffer> {
  const depth = fc.integer({ min: 1, max: Math.floor(bodyLimit / 2) - 2 });
  return fc.oneof(
    fc.tuple(objectArb, objectArb).map(([a, b]) => duplicateKeys(a, b)),
    depth.map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.integer({ min: 1, max: Math.floor(bodyLimit / 6) - 2 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    fc.constantFrom(
      '{"full_name": 1e400, "name": 1e400}', '{"project_ids": [123456789012345678901234567890]}', '{"code": -0}',
      '{"email": "a@example.com", "password": NaN}', "{'email': 'x'}", '{"a":1,}', '{"a":1', '', ' ', 'null', '"x"', '[]', '123',
      'true', '\uFEFF{}', '{"a":"\\ud800"}', '{"full_name":"\\u0000"}', '{"name":"a\\u0000b"}', '{"__proto__":{"is_active":false}}',
      '{"constructor":{"prototype":{"x":1}}}', '\u0000', '{"email":"a@example.com"}\u0000',
    ),
    fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0x80, 0x22, 0x7d]), Buffer.from('{"name":"\xed\xa0\x80"}', 'latin1')),
    fc.constant('{"padding":"' + 'x'.repeat(bodyLimit) + '"}'),
  );
}

/** `{"k": a.k, "k": b.k}`: every key of `a` written twice, JSON.parse keeps the last. */
function duplicateKeys(a: unknown, b: unknown): string {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return JSON.stringify(a);
  const other = (typeof b === 'object' && b !== null ? b : {}) as Json;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`);
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(other[k] ?? 'duplicate') ?? 'null'}`);
  }
  return `{${parts.join(',')}}`;
}

export const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=klingon',
  'application/json;;', 'application/json, text/plain', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/problem+json', 'application/merge-patch+json', 'application/vnd.api+json',
  '*/*', 'json', '',
];
