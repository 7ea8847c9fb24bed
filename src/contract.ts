import { readFileSync } from 'node:fs';
import { fromRoot } from './project-root.ts';

/** `x-rate-limit` / `x-rate-limit-failures` of an operation (DECISIONS.md §5). */
export interface RateLimitSpec {
  policy: string;
  limit: number;
  window_seconds: number;
  key: 'ip' | 'token' | 'account';
}

export interface OperationSpec {
  operationId: string;
  method: string;
  path: string;
  security: Record<string, string[]>[] | undefined;
  rateLimit: RateLimitSpec;
  failureRateLimit: RateLimitSpec | undefined;
  raw: Record<string, unknown>;
}

/** The bundled contract and the facts the server reads from it (never copied into code). */
export interface Contract {
  document: Record<string, any>;
  operations: Map<string, OperationSpec>;
  operation(operationId: string): OperationSpec;
  /** Request body limit, from `x-request-body-limit-bytes`. */
  bodyLimitBytes: number;
}

export const CONTRACT_PATH = fromRoot('generated', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

let cached: Contract | undefined;

/** Loaded once per process: the file is the build output of `npm run generate`. */
export function loadContract(path = CONTRACT_PATH): Contract {
  if (cached !== undefined && path === CONTRACT_PATH) return cached;
  const document = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  const contract = parseContract(document);
  if (path === CONTRACT_PATH) cached = contract;
  return contract;
}

export function parseContract(document: Record<string, any>): Contract {
  const operations = new Map<string, OperationSpec>();
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as Record<string, any> | undefined;
      if (op === undefined) continue;
      const operationId = op.operationId as string | undefined;
      if (operationId === undefined) throw new Error(`contract: ${method.toUpperCase()} ${path} has no operationId`);
      operations.set(operationId, {
        operationId,
        method,
        path,
        security: op.security ?? document.security,
        rateLimit: rateLimitOf(op['x-rate-limit'], `${operationId} x-rate-limit`),
        failureRateLimit: op['x-rate-limit-failures'] === undefined
          ? undefined
          : rateLimitOf(op['x-rate-limit-failures'], `${operationId} x-rate-limit-failures`),
        raw: op,
      });
    }
  }
  const bodyLimitBytes = bodyLimitOf(document);
  return {
    document,
    operations,
    bodyLimitBytes,
    operation(operationId) {
      const op = operations.get(operationId);
      if (op === undefined) throw new Error(`contract: no operation ${operationId}`);
      return op;
    },
  };
}

function rateLimitOf(value: unknown, where: string): RateLimitSpec {
  const v = value as Partial<RateLimitSpec> | undefined;
  if (
    v === undefined || typeof v.policy !== 'string' || !Number.isInteger(v.limit) ||
    !Number.isInteger(v.window_seconds) || !['ip', 'token', 'account'].includes(v.key as string)
  ) {
    throw new Error(`contract: ${where} is missing or malformed`);
  }
  return v as RateLimitSpec;
}

/** The limit may sit at the root or in `info`; every operation shares it. */
function bodyLimitOf(document: Record<string, any>): number {
  const value = document['x-request-body-limit-bytes'] ?? document.info?.['x-request-body-limit-bytes'];
  if (!Number.isInteger(value) || value <= 0) throw new Error('contract: x-request-body-limit-bytes is missing');
  return value as number;
}

/** TOTP lockout of the API contract (`x-totp-lockout`): wrong codes in a row, and the lock's length. */
export function totpLockoutOf(document: Record<string, any>): { maxFailures: number; lockMs: number } {
  const v = document['x-totp-lockout'] as { max_failures?: unknown; lock_seconds?: unknown } | undefined;
  const maxFailures = v?.max_failures;
  const lockSeconds = v?.lock_seconds;
  if (!Number.isInteger(maxFailures) || (maxFailures as number) < 1 || !Number.isInteger(lockSeconds) || (lockSeconds as number) < 1) {
    throw new Error('contract: x-totp-lockout must be {max_failures: integer >= 1, lock_seconds: integer >= 1}');
  }
  return { maxFailures: maxFailures as number, lockMs: (lockSeconds as number) * 1000 };
}

/**
 * Whether the served contract's `status` answer of an operation (application/json) declares
 * `property` — through `$ref`s and `allOf` parts. A server built from an older release (the
 * self-test's 1.0.0, `CONTRACT_VERSION`) leaves out what that release's schema does not allow.
 */
export function answerDeclares(contract: Contract, operationId: string, status: number, property: string): boolean {
  const op = contract.operations.get(operationId);
  const resolve = (node: any, depth = 0): any => {
    if (depth > 20 || node === null || typeof node !== 'object' || typeof node.$ref !== 'string') return node;
    const target = (node.$ref as string).replace(/^#\//u, '').split('/').reduce<any>((at, key) => at?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], contract.document);
    return resolve(target, depth + 1);
  };
  const declares = (schema: any, depth = 0): boolean => {
    const s = resolve(schema);
    if (depth > 20 || s === null || typeof s !== 'object') return false;
    if (s.properties !== undefined && Object.hasOwn(s.properties, property)) return true;
    return Array.isArray(s.allOf) && s.allOf.some((part: unknown) => declares(part, depth + 1));
  };
  const answer = resolve((op?.raw.responses as Record<string, unknown> | undefined)?.[String(status)]);
  return declares(answer?.content?.['application/json']?.schema);
}
