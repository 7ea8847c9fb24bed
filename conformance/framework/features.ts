import type { CallOptions, CheckDef, Contract, Exchange } from './types.ts';

// A released contract is a promise the suite keeps: a check verifies only what the chosen
// contract (`--contract`) documents. Each check declares the contract features it relies on
// (`requires`: an operation, an extension, a request field, a documented response header, a
// rule the contract states) and the runner SKIPS it with "not in contract <version>: <feature>"
// when the chosen contract lacks one — never a FAIL for a rule another version added. Requests
// are built from the chosen contract too (`withCurrentPassword`).

declare module './types.ts' {
  interface CheckDef {
    /** Contract features the check relies on; one missing from the chosen contract → SKIPPED. */
    requires?: Feature[];
  }
}

type Json = Record<string, any>;
type ContractView = Pick<Contract, 'document' | 'operations'> & Partial<Pick<Contract, 'resolve' | 'validate'>>;

export interface Feature {
  /** How the report names it: `x-quota on createApiKey`, `current_password in disableTotp`. */
  label: string;
  present(contract: ContractView): boolean;
}

const opOf = (contract: ContractView, operationId: string) => contract.operations.find((op) => op.operationId === operationId);
/** The raw operation object of the document (its extensions and description). */
const rawOp = (contract: ContractView, operationId: string): Json | undefined => {
  const op = opOf(contract, operationId);
  return op ? (contract.document?.paths?.[op.path]?.[op.method.toLowerCase()] as Json | undefined) : undefined;
};
const resolved = (contract: ContractView, node: unknown): Json | undefined => (contract.resolve ? contract.resolve(node) : node) as Json | undefined;

export const feature = {
  operation(operationId: string): Feature {
    return { label: `operation ${operationId}`, present: (c) => !!opOf(c, operationId) };
  },
  /** A document-level extension (`x-recent-authentication`), or one on an operation. */
  extension(name: string, operationId?: string): Feature {
    if (!operationId) return { label: name, present: (c) => c.document?.[name] !== undefined };
    return { label: `${name} on ${operationId}`, present: (c) => rawOp(c, operationId)?.[name] !== undefined };
  },
  /** A top-level property of the operation's JSON request body. */
  requestField(operationId: string, field: string): Feature {
    return { label: `${field} in the ${operationId} request`, present: (c) => hasRequestField(c, operationId, field) };
  },
  /** A header documented on one response of an operation. */
  responseHeader(operationId: string, status: number, header: string): Feature {
    return {
      label: `${header} on ${operationId} ${status}`,
      present: (c) => header.toLowerCase() in (opOf(c, operationId)?.responses[String(status)]?.headers ?? {}),
    };
  },
  /** A rule the contract states in prose or structure, told by `present`. */
  rule(label: string, present: (contract: ContractView) => boolean): Feature {
    return { label, present };
  },
};

/** Rules stated only in prose, recognised in the operation's description. */
export const rules = {
  /** 2.1.0 (SEC 30): deactivating the account voids its live reset token. */
  deactivationVoidsResetToken: feature.rule('deactivating an account voids its reset token (confirmPasswordReset)', (c) =>
    /deactivating\s+the account voids it/iu.test(String(rawOp(c, 'confirmPasswordReset')?.['description'] ?? ''))),
  /** 2.0.0: "every session and every API key of the user is revoked" on confirmPasswordReset. */
  resetRevokesApiKeys: feature.rule('a password reset revokes API keys (confirmPasswordReset)', (c) => {
    const description = String(rawOp(c, 'confirmPasswordReset')?.['description'] ?? '').replace(/\s+/gu, ' ');
    return /API keys?\b[^.]*\brevoked|\brevokes?\b[^.]*\bAPI keys?/iu.test(description);
  }),
};

/** Issue 17 (2.1.0): a credential change answers `revoked` (its API keys end too, SEC 34). */
const answerHasRevoked = (c: ContractView, operationId: string): boolean => {
  const schema = resolved(c, opOf(c, operationId)?.responses['200']?.schemas['application/json']);
  const properties = resolved(c, schema?.['properties']) as Json | undefined;
  return !!properties && Object.prototype.hasOwnProperty.call(properties, 'revoked');
};
export const credentialRules = {
  passwordChangeRevokes: feature.rule('`revoked` in the changePassword answer (a password change revokes API keys, SEC 34)', (c) => answerHasRevoked(c, 'changePassword')),
  totpEnrolmentRevokes: feature.rule('`revoked` in the verifyTotp answer (TOTP enrolment revokes API keys, SEC 34)', (c) => answerHasRevoked(c, 'verifyTotp')),
  /** NewPassword's description cites the breached-password blocklist (SECURITY.md 35). */
  breachedBlocklist: feature.rule('the breached-password blocklist (NewPassword cites SEC 35)', (c) =>
    /SECURITY\.md 35/u.test(String(resolved(c, c.document?.components?.schemas?.NewPassword)?.['description'] ?? ''))),
};

/** Rules stated in the document's `info.description`. */
const infoSays = (pattern: RegExp) => (c: ContractView): boolean => pattern.test(String(c.document?.info?.description ?? '').replace(/\s+/gu, ' '));
export const infoRules = {
  /** 2.0.0 "Text fields": undeclared query parameters are ignored (1.0.0 says nothing of them). */
  undeclaredQueryIgnored: feature.rule('undeclared query parameters are ignored (info "Text fields")', infoSays(/query parameters that an operation does not declare are ignored/iu)),
  /** 2.1.0 "Rate limits": a client IP is canonical, an IPv6 client its /64 (SEC 28). */
  clientIsItsPrefix: feature.rule('a client IP is one canonical address, an IPv6 client its /64 (info "Rate limits")', infoSays(/an IPv6 client is its \/64/iu)),
};

export function contractVersion(contract: Pick<Contract, 'document'>): string {
  return String(contract.document?.info?.version ?? 'unversioned');
}

/** Thrown by the client when a check calls an operation the chosen contract lacks: the
 * runner reports the check SKIPPED with this message, like a declared feature. */
export class NotInContract extends Error {}

/** Labels of the features `check` requires that `contract` lacks. */
export function missingFeatures(check: Pick<CheckDef, 'requires'>, contract: ContractView): string[] {
  return (check.requires ?? []).filter((f) => !f.present(contract)).map((f) => f.label);
}

/** The skip reason for a check whose features the contract lacks (undefined when none). */
export function notInContract(check: Pick<CheckDef, 'requires'>, contract: ContractView): string | undefined {
  const missing = missingFeatures(check, contract);
  return missing.length ? `not in contract ${contractVersion(contract)}: ${missing.join('; ')}` : undefined;
}

export function hasRequestField(contract: ContractView, operationId: string, field: string): boolean {
  const schema = resolved(contract, opOf(contract, operationId)?.requestSchema);
  const properties = resolved(contract, schema?.['properties']) as Json | undefined;
  return !!properties && Object.prototype.hasOwnProperty.call(properties, field);
}

/**
 * `body` plus the account's `current_password` when the chosen contract's request schema of
 * `operationId` has that field (2.0.0's recent authentication); the body as it is otherwise
 * (1.0.0 refuses the unknown property with 422).
 */
export function withCurrentPassword<T extends Record<string, unknown>>(contract: ContractView, operationId: string, body: T, password: string | undefined): T {
  return password !== undefined && hasRequestField(contract, operationId, 'current_password') ? { ...body, current_password: password } : body;
}

/**
 * Turns TOTP off — an undo, not a check: disableTotp with a body built from the chosen contract
 * (2.0.0: current_password, as the session may be older than x-recent-authentication). A
 * deployment of another version than the one checked says so — 422 for a current_password it
 * does not know (1.0.0), 403 reauthentication_required for one it needs (2.0.0) — and is asked
 * again its way: neither refusal spends the code (both come before the code is checked).
 */
export async function disableTotpAnyVersion(
  call: (operationId: string, opts: CallOptions) => Promise<Exchange>,
  contract: ContractView | undefined,
  opts: { token: string; code: string; password: string | undefined } & Omit<CallOptions, 'body' | 'token'>,
): Promise<Exchange> {
  const { token, code, password, ...rest } = opts;
  const body = contract ? withCurrentPassword(contract, 'disableTotp', { code }, password) : { code };
  const expect = [200, 403, 422, 429];
  const ex = await call('disableTotp', { ...rest, token, body, expect });
  if (ex.status === 422 && 'current_password' in body) return call('disableTotp', { ...rest, token, body: { code }, expect });
  if (ex.status === 403 && ex.body?.code === 'reauthentication_required' && password !== undefined && !('current_password' in body)) {
    return call('disableTotp', { ...rest, token, body: { code, current_password: password }, expect });
  }
  return ex;
}
