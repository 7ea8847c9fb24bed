// The classifier behind `npm run contract:diff`, `npm run contract:release` and the CI guard.
// api-smart-diff compares the two bundled documents and classifies the OpenAPI core (paths,
// parameters, bodies, responses, schemas, with $refs resolved); this module tunes its output
// where our policy differs (README "Changing the contract safely") and adds our extension rules
// (extensions.ts). Every change ends up as one row: breaking, non-breaking or informational, on
// the request side, the response side or the document.
import { apiCompare, type Diff } from 'api-smart-diff';
import { extensionChanges, HANDLED_EXTENSIONS, securityChanges } from './extensions.ts';

export type Severity = 'breaking' | 'non-breaking' | 'informational';
export type Side = 'request' | 'response' | 'document';

export interface Change {
  severity: Severity;
  side: Side;
  /** The rule that classified it: `core` (api-smart-diff) or one of ours (`x-rate-limit`, …). */
  rule: string;
  /** Where, without the operation: `schema ProblemCode enum`, `response 401 body`, `x-rate-limit.limit`. */
  where: string;
  /** What happened, in words, values included. */
  message: string;
  /** The operations it affects (`POST /auth/login`); empty for document-wide changes. */
  operations: string[];
}

export interface DiffResult {
  before: { version: string };
  after: { version: string };
  changes: Change[];
  /** The semver verdict: see versionVerdict(). */
  verdict: VersionVerdict;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

export const show = (value: unknown): string => {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text.length > 80 ? `${text.slice(0, 77)}...` : text}\``;
};

// ---------------------------------------------------------------- semver policy

export interface VersionVerdict {
  /** true when the change set may ship with this version (no breaking change, or major raised). */
  ok: boolean;
  breaking: number;
  majorRaised: boolean;
  /** The smallest version that would announce the changes correctly. */
  suggested: string;
  message: string;
}

export function parseSemver(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/u.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Breaking changes need a higher major than the base's; other changes need no bump to pass
 * (the release script asks for minor/patch). See README "Changing the contract safely". */
export function versionVerdict(before: string, after: string, changes: Change[]): VersionVerdict {
  const b = parseSemver(before);
  const a = parseSemver(after);
  const breaking = changes.filter((c) => c.severity === 'breaking').length;
  const nonBreaking = changes.filter((c) => c.severity === 'non-breaking').length;
  const majorRaised = !!a && !!b && a[0] > b[0];
  const base = b ?? [0, 0, 0];
  const suggested = breaking
    ? `${base[0] + 1}.0.0`
    : nonBreaking
      ? `${base[0]}.${base[1] + 1}.0`
      : changes.length
        ? `${base[0]}.${base[1]}.${base[2] + 1}`
        : `${base[0]}.${base[1]}.${base[2]}`;
  if (!a) return { ok: false, breaking, majorRaised, suggested, message: `info.version ${show(after)} is not semver (MAJOR.MINOR.PATCH)` };
  if (breaking === 0) return { ok: true, breaking, majorRaised, suggested, message: 'no breaking change' };
  if (majorRaised) return { ok: true, breaking, majorRaised, suggested, message: `${breaking} breaking change(s), announced by the major version ${before} → ${after}` };
  return {
    ok: false,
    breaking,
    majorRaised,
    suggested,
    message:
      `${breaking} breaking change(s) but info.version's major was not raised (${before} → ${after}): ` +
      `raise info.version's major to ${suggested} in openapi/openapi.yaml, run npm run generate and npm run contract:release, or revert the change(s)`,
  };
}

// ---------------------------------------------------------------- core (api-smart-diff)

/** `['paths', '/auth/login', 'post', …]` → `POST /auth/login` (undefined outside an operation). */
export function operationOf(path: readonly (string | number)[]): string | undefined {
  if (path[0] !== 'paths' || typeof path[1] !== 'string') return undefined;
  const method = path[2];
  return typeof method === 'string' && METHODS.has(method) ? `${method.toUpperCase()} ${path[1]}` : `* ${path[1]}`;
}

function sideOf(path: readonly (string | number)[]): Side {
  if (path[0] !== 'paths') return 'document';
  if (path.includes('responses')) return 'response';
  return 'request';
}

/** Follows `path` through `doc`, jumping through local $refs; returns the last $ref target
 * passed (e.g. `#/components/schemas/ProblemCode`) and the segments after it. */
export function originOf(doc: unknown, path: readonly (string | number)[], passed: string[] = []): { ref: string; rest: (string | number)[] } | undefined {
  let node: unknown = doc;
  let origin: { ref: string; rest: (string | number)[] } | undefined;
  const deref = (): void => {
    for (let i = 0; i < 20 && isObject(node) && typeof node['$ref'] === 'string' && node['$ref'].startsWith('#/'); i += 1) {
      const ref = node['$ref'];
      origin = { ref, rest: [] };
      passed.push(ref);
      node = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, seg) => (isObject(at) ? at[seg.replace(/~1/gu, '/').replace(/~0/gu, '~')] : undefined), doc);
    }
  };
  for (const segment of path) {
    deref();
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isObject(node)) node = node[String(segment)];
    else return origin; // the diff points into a merged (allOf) view: stop at what we know
    origin?.rest.push(segment);
  }
  // the node itself may be a $ref (a response or schema added whole): the component is used
  if (isObject(node) && typeof node['$ref'] === 'string') passed.push(node['$ref']);
  return origin;
}

const originTarget = (doc: unknown, ref: string): unknown =>
  ref.startsWith('#/')
    ? ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, seg) => (isObject(at) ? at[seg.replace(/~1/gu, '/').replace(/~0/gu, '~')] : undefined), doc)
    : undefined;

const SCHEMA_KEYWORDS = new Set(['enum', 'required', 'type', 'const', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'additionalProperties', 'default', 'nullable', 'uniqueItems', 'multipleOf', 'exclusiveMinimum', 'exclusiveMaximum', 'oneOf', 'anyOf', 'not', 'readOnly', 'writeOnly', 'deprecated', 'description', 'title', 'examples', 'example']);

/** A readable location: `response 401 application/problem+json body code enum`. */
export function humanize(segments: readonly (string | number)[]): string {
  const out: string[] = [];
  const fields: string[] = [];
  let inSchema = false;
  for (let i = 0; i < segments.length; i += 1) {
    const s = segments[i]!;
    const next = segments[i + 1];
    if (!inSchema) {
      if (s === 'requestBody') out.push('request body');
      else if (s === 'responses' && next !== undefined) (out.push(`response ${next}`), (i += 1));
      else if (s === 'content' && next !== undefined) (out.push(String(next)), (i += 1));
      else if (s === 'headers' && next !== undefined) (out.push(`header ${next}`), (i += 1));
      else if (s === 'parameters' && next !== undefined) (out.push(`parameter ${typeof next === 'number' ? `#${next}` : `\`${next}\``}`), (i += 1));
      else if (s === 'schema') (out.push(segments[i - 2] === 'content' ? 'body' : 'schema'), (inSchema = true));
      else if (s === 'components' && next !== undefined) {
        const name = segments[i + 2];
        out.push(name === undefined ? String(next) : `${String(next).replace(/s$/u, '')} ${name}`);
        i += 2;
        if (next === 'schemas') inSchema = true;
      } else out.push(String(s));
      continue;
    }
    if (s === 'properties' && next !== undefined) (fields.push(String(next)), (i += 1));
    else if (s === 'items') fields.push('[]');
    else if ((s === 'allOf' || s === 'oneOf' || s === 'anyOf') && typeof next === 'number') i += 1;
    else if (SCHEMA_KEYWORDS.has(String(s)) || String(s).startsWith('x-')) {
      if (fields.length) out.push(`field \`${fields.join('.').replace(/\.\[\]/gu, '[]')}\``);
      fields.length = 0;
      out.push(String(s));
      break; // enum/0, required/2: the value is in the message
    } else fields.push(String(s));
  }
  if (fields.length) out.push(`field \`${fields.join('.').replace(/\.\[\]/gu, '[]')}\``);
  return out.join(' ').replace(/ body$/u, ' body');
}

/** Two long texts that differ somewhere: show the words around the first difference. */
export function textChange(before: string, after: string): string {
  let start = 0;
  while (start < before.length && before[start] === after[start]) start += 1;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end += 1;
  const from = Math.max(0, before.lastIndexOf(' ', Math.max(0, start - 20)));
  const excerpt = (text: string): string => {
    const stop = Math.min(text.length, Math.max(text.length - end, start) + 20);
    return `${from > 0 ? '…' : ''}${text.slice(from, stop).trim()}${stop < text.length ? '…' : ''}`.replace(/\s+/gu, ' ');
  };
  return `${show(excerpt(before))} → ${show(excerpt(after))}`;
}

function describeCore(diff: Diff): string {
  const last = diff.path[diff.path.length - 1];
  const parent = diff.path[diff.path.length - 2];
  const verb = { add: 'added', remove: 'removed', replace: 'changed', rename: 'renamed' }[diff.action];
  if (parent === 'enum') {
    if (diff.action === 'add') return `enum value ${show(diff.after)} added`;
    if (diff.action === 'remove') return `enum value ${show(diff.before)} removed`;
    return `enum value ${show(diff.before)} replaced by ${show(diff.after)}`;
  }
  if (parent === 'required' && typeof last === 'number') {
    if (diff.action === 'add') return `field ${show(diff.after)} made required`;
    if (diff.action === 'remove') return `field ${show(diff.before)} no longer required`;
    return `required field ${show(diff.before)} replaced by ${show(diff.after)}`;
  }
  if (parent === 'properties') return `field \`${String(last)}\` ${verb}`;
  if (parent === 'responses') return `response ${String(last)} ${verb}`;
  if (parent === 'headers') return `header \`${String(last)}\` ${verb}`;
  if (parent === 'servers' && typeof last === 'number') {
    const url = (v: unknown): string => show(isObject(v) ? v['url'] : v);
    return diff.action === 'add' ? `server ${url(diff.after)} added` : diff.action === 'remove' ? `server ${url(diff.before)} removed` : `server ${url(diff.before)} → ${url(diff.after)}`;
  }
  if (parent === 'paths') return `path ${verb}`;
  if (diff.path.length === 3 && parent !== undefined && diff.path[0] === 'paths') return `operation ${verb}`;
  if ((diff.action === 'replace' || diff.action === 'rename') && typeof diff.before === 'string' && typeof diff.after === 'string' && diff.before.length + diff.after.length > 60) {
    return `\`${String(last)}\` changed: ${textChange(diff.before, diff.after)}`;
  }
  if (diff.action === 'replace' || diff.action === 'rename') return `\`${String(last)}\` ${show(diff.before)} → ${show(diff.after)}`;
  if (diff.action === 'add') return `\`${String(last)}\` ${show(diff.after)} added`;
  return `\`${String(last)}\` ${show(diff.before)} removed`;
}

/** Where a core diff is, relative to its operation (or its component when it came through a $ref). */
function whereOf(diff: Diff, before: unknown, after: unknown): { where: string; refs: string[] } {
  const doc = diff.action === 'remove' ? before : after;
  const refs: string[] = [];
  const origin = originOf(doc, diff.path, refs) ?? (diff.action === 'replace' ? originOf(before, diff.path, refs) : undefined);
  const trim = (segs: (string | number)[]): (string | number)[] => {
    const last = segs[segs.length - 1];
    const parent = segs[segs.length - 2];
    // the item index of enum/required and the key of properties/responses is in the message
    if (typeof last === 'number' && (parent === 'enum' || parent === 'required')) return segs.slice(0, -1);
    if (parent === 'responses') return [...segs.slice(0, -2), 'responses'];
    if (parent === 'headers') return [...segs.slice(0, -2), 'headers'];
    if (parent === 'servers') return [...segs.slice(0, -2), 'servers'];
    if (parent === 'properties') return segs.slice(0, -2);
    return segs.slice(0, -1);
  };
  if (origin && /^#\/components\/schemas\//u.test(origin.ref)) {
    const name = origin.ref.split('/').pop()!;
    return { where: humanize(['components', 'schemas', name, ...trim(origin.rest)]), refs };
  }
  const op = operationOf(diff.path);
  const named = diff.path.map((seg, i) => {
    if (typeof seg !== 'number' || diff.path[i - 1] !== 'parameters') return seg;
    let node: unknown = doc;
    for (const part of diff.path.slice(0, i + 1)) {
      if (isObject(node) && typeof node['$ref'] === 'string') node = originTarget(doc, node['$ref']);
      node = Array.isArray(node) ? node[part as number] : isObject(node) ? node[String(part)] : undefined;
    }
    if (isObject(node) && typeof node['$ref'] === 'string') node = originTarget(doc, node['$ref']);
    return isObject(node) && typeof node['name'] === 'string' ? node['name'] : seg;
  });
  const local = op ? named.slice(diff.path[2] && METHODS.has(String(diff.path[2])) ? 3 : 2) : named;
  return { where: humanize(trim([...local])) || (op ? 'operation' : '(document)'), refs };
}

/** Our policy on top of api-smart-diff's classification. */
function coreSeverity(diff: Diff): Severity | 'skip' {
  const keys = diff.path.map(String);
  // our extensions and security are classified by extensions.ts
  if (keys.some((k) => HANDLED_EXTENSIONS.has(k))) return 'skip';
  if (keys[0] === 'security' || (keys[0] === 'paths' && keys[3] === 'security')) return 'skip';
  // annotations of schemas and unknown extensions: documentation only
  if (keys.some((k) => k.startsWith('x-'))) return 'informational';
  // examples never change what a client sends or receives
  if (keys.includes('examples') || keys.includes('example')) return 'informational';
  // Our policy: a new error status on an operation that existed means a request that succeeded
  // may now be refused (a new 403 requirement, say): breaking. New 2xx/3xx: non-breaking.
  const status = keys[keys.length - 1] ?? '';
  if (diff.action === 'add' && keys[0] === 'paths' && keys[keys.length - 2] === 'responses' && /^[45]/u.test(status)) return 'breaking';
  // A field removed from a response breaks the clients that read it, required or not ("optional"
  // in an answer means "absent in some answers", not "may disappear from the API").
  if (diff.action === 'remove' && keys[0] === 'paths' && keys.includes('responses') && keys[keys.length - 2] === 'properties') return 'breaking';
  // A new security scheme constrains nobody until a requirement names it (securityChanges()).
  if (keys[0] === 'components' && keys[1] === 'securitySchemes' && diff.action === 'add' && keys.length === 3) return 'non-breaking';
  switch (diff.type) {
    case 'breaking':
      return 'breaking';
    case 'non-breaking':
      return 'non-breaking';
    case 'annotation':
    case 'deprecated':
      return 'informational';
    default:
      // "unclassified": the library does not know; a guard must not let it through silently
      return 'breaking';
  }
}

interface Row extends Change {
  key: string;
}

/** The classified changes from `before` to `after` (both bundled OpenAPI 3.1 documents). */
export function diffContracts(beforeDocument: Json, afterDocument: Json): DiffResult {
  // api-smart-diff normalises the documents it is given in place (path-level `parameters` move
  // into each operation): it gets copies, so that a caller's document — the bundle that
  // contract:release snapshots — stays as npm run generate wrote it (DECISIONS, "Designer tooling").
  const before = structuredClone(beforeDocument);
  const after = structuredClone(afterDocument);
  const rows = new Map<string, Row>();
  const add = (change: Change): void => {
    const key = [change.severity, change.side, change.rule, change.where, change.message].join('\u0000');
    const row = rows.get(key);
    if (row) {
      for (const op of change.operations) if (!row.operations.includes(op)) row.operations.push(op);
    } else rows.set(key, { ...change, operations: [...change.operations], key });
  };

  const usageOrigins = new Set<string>();
  const componentDiffs: { diff: Diff; severity: Severity }[] = [];
  const coreDiffs = (b: Json, a: Json, operationName?: string, side?: Side): void => {
    const { diffs } = apiCompare(b, a);
    for (const diff of diffs) {
      if (operationName && diff.path[0] !== 'paths') continue; // the synthetic document's other parts
      const severity = coreSeverity(diff);
      if (severity === 'skip') continue;
      if (diff.path[0] === 'components' && diff.path[1] !== 'securitySchemes') {
        componentDiffs.push({ diff, severity });
        continue;
      }
      const { where, refs } = whereOf(diff, b, a);
      for (const ref of refs) usageOrigins.add(ref);
      // ProblemCode values removed: the problem-code rule (extensions.ts) reports them once
      if (diff.action === 'remove' && refs[refs.length - 1] === '#/components/schemas/ProblemCode' && diff.path[diff.path.length - 2] === 'enum') continue;
      const op = operationName ?? operationOf(diff.path);
      const unclassified = diff.type === 'unclassified' && severity === 'breaking' ? ' (not classified by api-smart-diff: treated as breaking, review it)' : '';
      add({
        severity,
        side: side ?? sideOf(diff.path),
        rule: diff.type === 'deprecated' ? 'core (deprecated)' : 'core',
        where,
        message: describeCore(diff) + unclassified,
        operations: op ? [op] : [],
      });
    }
  };

  coreDiffs(before, after);
  // x-global-responses are responses every operation can give: compare them as the responses
  // of one synthetic operation, with the same library rules.
  const global = (doc: Json): Json => ({
    openapi: doc['openapi'],
    info: doc['info'],
    components: doc['components'],
    paths: { '/{any}': { get: { responses: doc['x-global-responses'] ?? {} } } },
  });
  if (JSON.stringify(before['x-global-responses']) !== JSON.stringify(after['x-global-responses'])) {
    coreDiffs(global(before), global(after), 'any operation (x-global-responses)', 'response');
  }
  // Component diffs are reported where the component is used (the library resolves $refs); one
  // no operation uses is documentation only.
  for (const { diff, severity } of componentDiffs) {
    const component = `#/${diff.path.slice(0, 3).map(String).join('/')}`;
    if (usageOrigins.has(component)) continue;
    add({
      severity: 'informational',
      side: 'document',
      rule: 'core (unused component)',
      where: humanize(diff.path.slice(0, -1)),
      message: `${describeCore(diff)} (no operation uses it${severity !== 'informational' ? `; would be ${severity}` : ''})`,
      operations: [],
    });
  }

  for (const change of [...extensionChanges(before, after), ...securityChanges(before, after)]) add(change);

  const order: Record<Severity, number> = { breaking: 0, 'non-breaking': 1, informational: 2 };
  const changes = [...rows.values()]
    .map(({ key: _key, ...change }) => ({ ...change, operations: [...change.operations].sort() }))
    .sort((x, y) => order[x.severity] - order[y.severity] || x.side.localeCompare(y.side) || x.where.localeCompare(y.where) || x.message.localeCompare(y.message));
  const version = (doc: Json): string => String((doc['info'] as Json | undefined)?.['version'] ?? '');
  return {
    before: { version: version(before) },
    after: { version: version(after) },
    changes,
    verdict: versionVerdict(version(before), version(after), changes),
  };
}
