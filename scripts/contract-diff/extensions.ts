// Our rules, on top of api-smart-diff: the contract's x-* extensions (every one openapi/ uses),
// the ProblemCode catalogue, and security requirements. No generic OpenAPI differ knows that a
// lowered x-rate-limit breaks clients; these rules do. Each one is shown firing on a fixture
// pair in fixtures/ (rules.test.ts).
import { show, type Change, type Severity } from './diff.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Extensions classified here; api-smart-diff's own diffs under them are dropped. */
export const HANDLED_EXTENSIONS = new Set([
  'x-rate-limit', 'x-rate-limit-failures', 'x-rate-limit-recipient', 'x-totp-lockout', 'x-request-body-limit-bytes', 'x-global-responses',
  'x-quota', 'x-requires-recent-authentication', 'x-recent-authentication',
]);

/** Every operation present in both documents: `POST /auth/login` → [before, after]. */
function commonOperations(before: Json, after: Json): Map<string, [Json, Json]> {
  const result = new Map<string, [Json, Json]>();
  const bPaths = isObject(before['paths']) ? before['paths'] : {};
  const aPaths = isObject(after['paths']) ? after['paths'] : {};
  for (const [path, bItem] of Object.entries(bPaths)) {
    const aItem = aPaths[path];
    if (!isObject(bItem) || !isObject(aItem)) continue;
    for (const method of METHODS) {
      const b = bItem[method];
      const a = aItem[method];
      if (isObject(b) && isObject(a)) result.set(`${method.toUpperCase()} ${path}`, [b, a]);
    }
  }
  return result;
}

const change = (severity: Severity, rule: string, where: string, message: string, operations: string[] = [], side: Change['side'] = 'request'): Change => ({
  severity,
  side,
  rule,
  where,
  message,
  operations,
});

/** A number where smaller is stricter for clients (a limit, a byte cap, a failure count). */
function lowerIsStricter(rule: string, where: string, b: unknown, a: unknown, ops: string[], what: string): Change[] {
  if (b === a) return [];
  if (typeof b === 'number' && typeof a === 'number') {
    return a < b
      ? [change('breaking', rule, where, `${what} lowered ${b} → ${a}`, ops)]
      : [change('non-breaking', rule, where, `${what} raised ${b} → ${a}`, ops)];
  }
  if (b === undefined) return [change('breaking', rule, where, `${what} added: ${show(a)}`, ops)];
  if (a === undefined) return [change('non-breaking', rule, where, `${what} removed (was ${show(b)})`, ops)];
  return [change('breaking', rule, where, `${what} changed ${show(b)} → ${show(a)}`, ops)];
}

/** A duration where longer is stricter (a window, a lock). */
function longerIsStricter(rule: string, where: string, b: unknown, a: unknown, ops: string[], what: string): Change[] {
  if (b === a) return [];
  if (typeof b === 'number' && typeof a === 'number') {
    return a > b
      ? [change('breaking', rule, where, `${what} lengthened ${b} s → ${a} s`, ops)]
      : [change('non-breaking', rule, where, `${what} shortened ${b} s → ${a} s`, ops)];
  }
  return [change('breaking', rule, where, `${what} changed ${show(b)} → ${show(a)}`, ops)];
}

/** x-rate-limit / x-rate-limit-failures of one operation: {policy, limit, window_seconds, key}. */
function rateLimit(rule: string, b: unknown, a: unknown, op: string, policyUsers: { before: Map<string, Set<string>>; after: Map<string, Set<string>> }): Change[] {
  if (JSON.stringify(b) === JSON.stringify(a)) return [];
  if (!isObject(b)) return [change('breaking', rule, rule, `rate limit added: ${show(a)}`, [op])];
  if (!isObject(a)) return [change('non-breaking', rule, rule, `rate limit removed (was ${show(b)})`, [op])];
  const out: Change[] = [
    ...lowerIsStricter(rule, `${rule}.limit`, b['limit'], a['limit'], [op], 'limit'),
    ...longerIsStricter(rule, `${rule}.window_seconds`, b['window_seconds'], a['window_seconds'], [op], 'window'),
  ];
  if (b['key'] !== a['key']) {
    out.push(change('breaking', rule, `${rule}.key`, `budget key changed ${show(b['key'])} → ${show(a['key'])} (who shares a budget changes)`, [op]));
  }
  if (b['policy'] !== a['policy']) {
    // Sharing a budget with operations it did not share with before lowers the effective limit.
    const was = policyUsers.before.get(String(b['policy'])) ?? new Set<string>();
    const now = [...(policyUsers.after.get(String(a['policy'])) ?? [])].filter((o) => o !== op && !was.has(o));
    out.push(
      now.length
        ? change('breaking', rule, `${rule}.policy`, `policy ${show(b['policy'])} → ${show(a['policy'])}: now shares its budget with ${now.join(', ')}`, [op])
        : change('informational', rule, `${rule}.policy`, `policy renamed ${show(b['policy'])} → ${show(a['policy'])} (the name in RateLimit-Policy changes)`, [op]),
    );
  }
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (['limit', 'window_seconds', 'key', 'policy'].includes(key) || JSON.stringify(b[key]) === JSON.stringify(a[key])) continue;
    out.push(change('informational', rule, `${rule}.${key}`, `${key} ${show(b[key])} → ${show(a[key])} (not a field this tool knows: review it)`, [op]));
  }
  return out;
}

function policyUsers(doc: Json, rule: string): Map<string, Set<string>> {
  const users = new Map<string, Set<string>>();
  for (const [path, item] of Object.entries(isObject(doc['paths']) ? doc['paths'] : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const limit = isObject(item[method]) ? (item[method] as Json)[rule] : undefined;
      if (!isObject(limit)) continue;
      const policy = String(limit['policy']);
      if (!users.has(policy)) users.set(policy, new Set());
      users.get(policy)!.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return users;
}

const enumOf = (doc: Json): string[] | undefined => {
  const schemas = isObject(doc['components']) ? (doc['components'] as Json)['schemas'] : undefined;
  const code = isObject(schemas) ? schemas['ProblemCode'] : undefined;
  return isObject(code) && Array.isArray(code['enum']) ? code['enum'].map(String) : undefined;
};

export function extensionChanges(before: Json, after: Json): Change[] {
  const out: Change[] = [];
  const operations = commonOperations(before, after);
  for (const rule of ['x-rate-limit', 'x-rate-limit-failures', 'x-rate-limit-recipient']) {
    const users = { before: policyUsers(before, rule), after: policyUsers(after, rule) };
    for (const [op, [b, a]] of operations) out.push(...rateLimit(rule, b[rule], a[rule], op, users));
  }

  // x-totp-lockout (document): {max_failures, lock_seconds}
  const bLock = before['x-totp-lockout'];
  const aLock = after['x-totp-lockout'];
  if (JSON.stringify(bLock) !== JSON.stringify(aLock)) {
    if (!isObject(bLock)) out.push(change('breaking', 'x-totp-lockout', 'x-totp-lockout', `TOTP lockout added: ${show(aLock)}`));
    else if (!isObject(aLock)) out.push(change('non-breaking', 'x-totp-lockout', 'x-totp-lockout', `TOTP lockout removed (was ${show(bLock)})`));
    else {
      out.push(...lowerIsStricter('x-totp-lockout', 'x-totp-lockout.max_failures', bLock['max_failures'], aLock['max_failures'], [], 'wrong codes before the lock'));
      out.push(...longerIsStricter('x-totp-lockout', 'x-totp-lockout.lock_seconds', bLock['lock_seconds'], aLock['lock_seconds'], [], 'lock'));
      for (const key of new Set([...Object.keys(bLock), ...Object.keys(aLock)])) {
        if (key === 'max_failures' || key === 'lock_seconds' || JSON.stringify(bLock[key]) === JSON.stringify(aLock[key])) continue;
        out.push(change('informational', 'x-totp-lockout', `x-totp-lockout.${key}`, `${key} ${show(bLock[key])} → ${show(aLock[key])} (not a field this tool knows: review it)`));
      }
    }
  }

  // x-request-body-limit-bytes: on the document, and per operation where one overrides it
  out.push(...lowerIsStricter('x-request-body-limit-bytes', 'x-request-body-limit-bytes', before['x-request-body-limit-bytes'], after['x-request-body-limit-bytes'], [], 'request body limit (bytes)'));
  for (const [op, [b, a]] of operations) {
    out.push(...lowerIsStricter('x-request-body-limit-bytes', 'x-request-body-limit-bytes', b['x-request-body-limit-bytes'], a['x-request-body-limit-bytes'], [op], 'request body limit (bytes)'));
  }

  // x-quota (per operation): {limit, counts} — how many things one account may own.
  for (const [op, [b, a]] of operations) {
    const bq = b['x-quota'];
    const aq = a['x-quota'];
    if (JSON.stringify(bq) === JSON.stringify(aq)) continue;
    if (!isObject(bq)) out.push(change('breaking', 'x-quota', 'x-quota', `quota added: ${show(aq)} (creating more answers an error)`, [op]));
    else if (!isObject(aq)) out.push(change('non-breaking', 'x-quota', 'x-quota', `quota removed (was ${show(bq)})`, [op]));
    else {
      out.push(...lowerIsStricter('x-quota', 'x-quota.limit', bq['limit'], aq['limit'], [op], 'quota'));
      if (bq['counts'] !== aq['counts']) out.push(change('breaking', 'x-quota', 'x-quota.counts', `what the quota counts changed ${show(bq['counts'])} → ${show(aq['counts'])}`, [op]));
    }
  }

  // x-requires-recent-authentication (per operation) and x-recent-authentication (document):
  // a sudo-mode requirement added, or its window shortened, refuses requests that passed before.
  for (const [op, [b, a]] of operations) {
    const was = b['x-requires-recent-authentication'] === true;
    const now = a['x-requires-recent-authentication'] === true;
    if (!was && now) out.push(change('breaking', 'x-requires-recent-authentication', 'x-requires-recent-authentication', 'now requires recent authentication (a fresh login or the current password)', [op]));
    if (was && !now) out.push(change('non-breaking', 'x-requires-recent-authentication', 'x-requires-recent-authentication', 'no longer requires recent authentication', [op]));
  }
  const bRecent = isObject(before['x-recent-authentication']) ? before['x-recent-authentication']['max_age_seconds'] : undefined;
  const aRecent = isObject(after['x-recent-authentication']) ? after['x-recent-authentication']['max_age_seconds'] : undefined;
  out.push(...lowerIsStricter('x-recent-authentication', 'x-recent-authentication.max_age_seconds', bRecent, aRecent, [], 'recent-authentication window (s)'));

  // ProblemCode: the catalogue clients branch on. A removed value means the situation it named
  // now answers something else: breaking. (An added value is classified per response by the
  // core rules: see the enum policy in the README.)
  const bCodes = enumOf(before);
  const aCodes = enumOf(after);
  if (bCodes && aCodes) {
    for (const code of bCodes.filter((c) => !aCodes.includes(c))) {
      out.push(change('breaking', 'problem-code', 'schema ProblemCode', `problem code \`${code}\` removed: clients branching on it lose that case`, [], 'response'));
    }
  }
  return out;
}

// ---------------------------------------------------------------- security requirements

type Requirement = Map<string, string[]>; // scheme → scopes (AND)

function requirements(doc: Json, op: Json): Requirement[] {
  const raw = Array.isArray(op['security']) ? op['security'] : Array.isArray(doc['security']) ? doc['security'] : [];
  const list = (raw as unknown[]).filter(isObject).map((r) => new Map(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : []])));
  return list.length ? list : [new Map()]; // no requirement at all: anonymous
}

/** A client able to satisfy `have` can satisfy `need` (need's schemes and scopes ⊆ have's). */
const covers = (have: Requirement, need: Requirement): boolean =>
  [...need].every(([scheme, scopes]) => have.has(scheme) && scopes.every((s) => have.get(scheme)!.includes(s)));

const label = (r: Requirement): string =>
  r.size === 0 ? 'anonymous' : [...r].map(([s, scopes]) => (scopes.length ? `${s}(${scopes.join(',')})` : s)).join(' + ');

/** Per operation: an accepted credential set no longer enough (tightened: breaking), or a new
 * way in (loosened: non-breaking). Alternatives are OR, schemes in one requirement AND. */
export function securityChanges(before: Json, after: Json): Change[] {
  const out: Change[] = [];
  for (const [op, [b, a]] of commonOperations(before, after)) {
    const was = requirements(before, b);
    const now = requirements(after, a);
    const lost = was.filter((w) => !now.some((n) => covers(w, n)));
    const gained = now.filter((n) => !was.some((w) => covers(n, w)));
    if (lost.length) {
      out.push(change('breaking', 'security', 'security', `tightened: ${lost.map(label).join(', ')} no longer enough (now: ${now.map(label).join(' or ')})`, [op]));
    }
    if (gained.length) {
      out.push(change('non-breaking', 'security', 'security', `loosened: now also accepts ${gained.map(label).join(', ')}`, [op]));
    }
  }
  return out;
}
