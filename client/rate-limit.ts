// Rate-limit information read from an answer's headers: the IETF RateLimit header fields draft
// (`RateLimit-Policy: "login";q=10;w=60`, `RateLimit: "login";r=3;t=42`, both Structured Field
// Lists, RFC 9651) and RFC 9110 `Retry-After`. Runs in browsers and Node alike: no Node import.

/** One item of `RateLimit-Policy`: the policy's name, its quota `q` and window `w` (seconds). */
export interface RateLimitPolicy {
  name: string;
  quota: number | undefined;
  windowSeconds: number | undefined;
}

/** One item of `RateLimit`: what is left of a policy, `r` requests, reset in `t` seconds. */
export interface RateLimitState {
  name: string;
  remaining: number | undefined;
  resetSeconds: number | undefined;
}

/** What an answer says about the caller's budget. Absent headers give empty lists and `undefined`. */
export interface RateLimitInfo {
  policies: RateLimitPolicy[];
  limits: RateLimitState[];
  /** The smallest `r` over the `RateLimit` items (the budget that runs out first). */
  remaining: number | undefined;
  /** The `t` of that item: seconds until it resets. */
  resetSeconds: number | undefined;
  /** `Retry-After` in seconds (an HTTP-date is turned into seconds from `now`), else undefined. */
  retryAfterSeconds: number | undefined;
}

type BareItem = string | number | boolean;
interface Item {
  value: BareItem;
  params: Map<string, BareItem>;
}

/**
 * Parses a Structured Field List of items with parameters (RFC 9651 §4.2.1): strings, tokens,
 * integers, decimals, booleans and byte sequences (as their base64 text); inner lists, dates
 * and display strings are not used by these headers and make the field unparseable.
 * A field that does not parse is ignored as a whole, as §4.2 asks: the answer is `[]`.
 */
export function parseSfList(field: string): Item[] {
  const s = field;
  let i = 0;
  const items: Item[] = [];
  const ows = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const sp = () => {
    while (s[i] === ' ') i++;
  };
  const fail = (): never => {
    throw new SyntaxError(`not a structured field list at ${i}`);
  };
  const key = (): string => {
    const m = /^[a-z*][a-z0-9_.*-]*/u.exec(s.slice(i));
    if (m === null) return fail();
    i += m[0].length;
    return m[0];
  };
  const bare = (): BareItem => {
    const c = s[i];
    if (c === '"') {
      let out = '';
      i++;
      for (;;) {
        const ch = s[i++];
        if (ch === undefined) return fail();
        if (ch === '\\') {
          const next = s[i++];
          if (next !== '"' && next !== '\\') return fail();
          out += next;
        } else if (ch === '"') return out;
        else if (ch < ' ' || ch > '~') return fail();
        else out += ch;
      }
    }
    if (c === ':') {
      // a byte sequence (e.g. the draft's partition key `pk`): kept as its base64 text
      const m = /^:([A-Za-z0-9+/=]*):/u.exec(s.slice(i));
      if (m === null) return fail();
      i += m[0].length;
      return m[1]!;
    }
    if (c === '?') {
      const b = s[i + 1];
      if (b !== '0' && b !== '1') return fail();
      i += 2;
      return b === '1';
    }
    const num = /^-?\d{1,15}(\.\d{1,3})?/u.exec(s.slice(i));
    if (num !== null) {
      i += num[0].length;
      return Number(num[0]);
    }
    const token = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/u.exec(s.slice(i));
    if (token !== null) {
      i += token[0].length;
      return token[0];
    }
    return fail();
  };
  const params = (): Map<string, BareItem> => {
    const out = new Map<string, BareItem>();
    while (s[i] === ';') {
      i++;
      sp();
      const k = key();
      let v: BareItem = true;
      if (s[i] === '=') {
        i++;
        v = bare();
      }
      out.set(k, v);
    }
    return out;
  };
  try {
    sp();
    if (i === s.length) return [];
    for (;;) {
      const value = bare();
      items.push({ value, params: params() });
      ows();
      if (i === s.length) return items;
      if (s[i] !== ',') fail();
      i++;
      ows();
      if (i === s.length) fail();
    }
  } catch {
    return [];
  }
}

const num = (v: BareItem | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const name = (v: BareItem): string => String(v);

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date turned into seconds from `nowMs`. */
export function parseRetryAfter(field: string | null, nowMs: number = Date.now()): number | undefined {
  if (field === null) return undefined;
  const text = field.trim();
  if (/^\d+$/u.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** Reads `RateLimit-Policy`, `RateLimit` and `Retry-After` from an answer's headers. */
export function readRateLimit(headers: Headers, nowMs?: number): RateLimitInfo {
  const policies = parseSfList(headers.get('RateLimit-Policy') ?? '').map((it) => ({
    name: name(it.value),
    quota: num(it.params.get('q')),
    windowSeconds: num(it.params.get('w')),
  }));
  const limits = parseSfList(headers.get('RateLimit') ?? '').map((it) => ({
    name: name(it.value),
    remaining: num(it.params.get('r')),
    resetSeconds: num(it.params.get('t')),
  }));
  let first: RateLimitState | undefined;
  for (const l of limits) {
    if (l.remaining !== undefined && (first?.remaining === undefined || l.remaining < first.remaining)) first = l;
  }
  return {
    policies,
    limits,
    remaining: first?.remaining,
    resetSeconds: first?.resetSeconds,
    retryAfterSeconds: parseRetryAfter(headers.get('Retry-After'), nowMs),
  };
}
