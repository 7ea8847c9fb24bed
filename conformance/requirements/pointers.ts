import type { CheckResult, Contract, ContractOperation, Exchange, RunResult } from '../framework/types.ts';
import { CONTRACT_REQUIREMENTS } from '../framework/validate-exchange.ts';
import { securityOf } from './evidence.ts';

// Which places of the contract a result enforced, as RFC 6901 JSON pointers into the bundled
// document (generated/openapi.json) written the way `$ref`s and linters write them (`#` + the
// pointer, `~1` for `/`, not percent-encoded), derived from the exchanges the result judged —
// never listed by hand per check:
// - every check: the response object each of its answers matched, where the contract declares
//   it (`#/paths/~1auth~1login/post/responses/401`; a `4XX` or `default` key when that is how
//   the status is documented; `#/x-global-responses/404` for an unknown path);
// - CONTRACT-* requirements (judged on every exchange of the run): besides the responses, the
//   header, media type and schema objects they validate, at the place they are declared (a
//   response that is a `$ref` is followed to its definition, since a pointer does not follow
//   references).

declare module '../framework/types.ts' {
  interface CheckResult {
    /** RFC 6901 pointers (URI fragment form) into the contract: what this result enforced. */
    contractPointers?: string[];
  }
}

type Json = Record<string, unknown>;

const escapeSegment = (segment: string): string => segment.replace(/~/gu, '~0').replace(/\//gu, '~1');
const unescapeSegment = (segment: string): string => segment.replace(/~1/gu, '/').replace(/~0/gu, '~');

/** The node at a `#/…` pointer, or undefined. */
export function nodeAt(document: unknown, pointer: string): unknown {
  if (pointer === '#') return document;
  return pointer
    .slice(2)
    .split('/')
    .reduce<unknown>((at, seg) => (at && typeof at === 'object' ? (at as Json)[unescapeSegment(seg)] : undefined), document);
}

/** Follows `$ref`s from a pointer to the place the object is defined. */
function definitionOf(document: unknown, pointer: string): string {
  let at = pointer;
  for (let depth = 0; depth < 20; depth += 1) {
    const ref = (nodeAt(document, at) as Json | undefined)?.['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith('#/')) break;
    at = ref;
  }
  return at;
}

/** The responses key a status matched: exact, then `4XX`-style range, then `default`
 * (the order framework/validate-exchange.ts judges by). */
export function matchedStatusKey(op: ContractOperation, status: number): string | undefined {
  return [String(status), `${String(status)[0]}XX`, 'default'].find((key) => op.responses[key] !== undefined);
}

/** Where the response an exchange was judged against is declared, or undefined (no answer,
 * an undocumented status, an operation of another contract such as the harness). */
export function responsePointer(contract: Contract, ex: Exchange, ops = operationsById(contract)): string | undefined {
  if (ex.status === 0) return undefined;
  if (ex.operationId) {
    const op = ops.get(ex.operationId);
    const key = op && matchedStatusKey(op, ex.status);
    return op && key ? `#/paths/${escapeSegment(op.path)}/${op.method.toLowerCase()}/responses/${escapeSegment(key)}` : undefined;
  }
  const global = `#/x-global-responses/${ex.status}`;
  return nodeAt(contract.document, global) !== undefined ? global : undefined;
}

/** What each CONTRACT-* requirement validated on one exchange, as pointers. */
function requirementPointers(contract: Contract, ex: Exchange, response: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (id: string, pointer: string | undefined): void => {
    if (pointer && nodeAt(contract.document, pointer) !== undefined) (out[id] ??= []).push(pointer);
  };
  if (ex.status === 0) return out;
  add('CONTRACT-STATUS', response);
  if (ex.status >= 400) add('CONTRACT-PROBLEM', '#/components/schemas/Problem');
  if (!response) return out;
  const defined = definitionOf(contract.document, response);
  const node = (nodeAt(contract.document, defined) ?? {}) as Json;
  const type = (ex.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const content = (node['content'] ?? {}) as Json;
  if (content[type] !== undefined) {
    add('CONTRACT-MEDIA-TYPE', `${defined}/content/${escapeSegment(type)}`);
    add('CONTRACT-SCHEMA', `${defined}/content/${escapeSegment(type)}/schema`);
  } else if (Object.keys(content).length) add('CONTRACT-MEDIA-TYPE', `${defined}/content`);
  for (const [name, raw] of Object.entries((node['headers'] ?? {}) as Json)) {
    const header = nodeAt(contract.document, definitionOf(contract.document, `${defined}/headers/${escapeSegment(name)}`)) as Json | undefined;
    // Validated when required, or when the answer carries it (framework/validate-exchange.ts).
    if (header?.['required'] === true || ex.headers[name.toLowerCase()] !== undefined || (raw as Json)['required'] === true) {
      add(ex.status === 405 && name.toLowerCase() === 'allow' ? 'CONTRACT-ALLOW' : 'CONTRACT-HEADERS', `${defined}/headers/${escapeSegment(name)}`);
    }
  }
  return out;
}

function operationsById(contract: Contract): Map<string, ContractOperation> {
  return new Map(contract.operations.map((op) => [op.operationId, op]));
}

const unique = (list: Array<string | undefined>): string[] => [...new Set(list.filter((p): p is string => p !== undefined))];

/**
 * Sets `security` (cited SEC texts) and `contractPointers` on every result of the run. A check's
 * pointers are the responses its own exchanges matched; a CONTRACT-* requirement's are what it
 * validated over the whole run (the exchanges that violated it first).
 */
export function annotateEvidence(result: RunResult, contract: Contract): void {
  const ops = operationsById(contract);
  const responses = new Map(result.exchanges.map((ex) => [ex.id, responsePointer(contract, ex, ops)]));
  for (const check of result.checks) {
    check.security = securityOf(check);
    check.contractPointers = unique(check.exchangeIds.map((id) => responses.get(id)));
  }
  const perExchange = new Map(result.exchanges.map((ex) => [ex.id, requirementPointers(contract, ex, responses.get(ex.id))]));
  for (const requirement of result.requirements) {
    requirement.security = securityOf(requirement);
    if (!(requirement.id in CONTRACT_REQUIREMENTS)) continue;
    const first = new Set(requirement.exchangeIds);
    const ordered = [...result.exchanges.filter((ex) => first.has(ex.id)), ...result.exchanges.filter((ex) => !first.has(ex.id))];
    requirement.contractPointers = unique(ordered.flatMap((ex) => perExchange.get(ex.id)?.[requirement.id] ?? []));
  }
}

/** A check result's pointers, when the run computed them. */
export function pointersOf(result: Pick<CheckResult, 'contractPointers'>): string[] {
  return result.contractPointers ?? [];
}
