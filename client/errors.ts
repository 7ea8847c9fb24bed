// Errors as values: every failed call gives a `ClientError` whose `code` is the contract's
// `ProblemCode` union (from generated/api.d.ts, never written by hand) or one of the two
// codes the client itself produces when there is no problem document to read.
import type { components } from '../generated/api.d.ts';

/** The contract's problem codes (generated from openapi/openapi.yaml). */
export type ProblemCode = components['schemas']['ProblemCode'];
/** An RFC 9457 problem document as the contract describes it. */
export type Problem = components['schemas']['Problem'];
/** One field error of a 422 (`validation_failed`, `weak_password`): a JSON pointer and what is wrong. */
export type FieldError = components['schemas']['ProblemError'];

/**
 * Codes the client produces itself: `network_error` (no answer: refused connection, DNS, CORS,
 * abort) and `unexpected_response` (an answer that is not a problem document, e.g. an HTML page
 * from a proxy, or a success body that is not JSON). They are never contract codes (a
 * type-level test fails if the contract ever defines them).
 */
export type ClientSideCode = 'network_error' | 'unexpected_response';
export type ErrorCode = ProblemCode | ClientSideCode;

export interface ClientError {
  /** Branch on this (never on `title` or `detail`): `switch (error.code)` is checked by the compiler. */
  code: ErrorCode;
  /** The HTTP status, or 0 when there was no answer (or a 2xx body could not be read). */
  status: number;
  title: string;
  detail: string;
  /** The field errors of 422 `validation_failed` / `weak_password` (`[]` otherwise). */
  errors: FieldError[];
  /** The problem document as received, when there was one. */
  problem: Problem | undefined;
  /** The thrown value behind `network_error` / `unexpected_response`. */
  cause?: unknown;
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b.code === 'string' && typeof b.status === 'number';
}

/**
 * The error of an answer that is not 2xx. A code the client does not know (a newer server) is
 * passed on as sent: an exhaustive `switch` sends it to its `default` branch at run time.
 */
export function problemError(status: number, body: unknown): ClientError {
  if (!isProblem(body)) {
    return {
      code: 'unexpected_response',
      status,
      title: 'Unexpected response',
      detail: `The server answered ${status} without a problem document.`,
      errors: [],
      problem: undefined,
      cause: body,
    };
  }
  const errors = Array.isArray(body.errors)
    ? body.errors.filter((e): e is FieldError => typeof e?.pointer === 'string' && typeof e?.detail === 'string')
    : [];
  return {
    code: body.code,
    status,
    title: typeof body.title === 'string' ? body.title : '',
    detail: typeof body.detail === 'string' ? body.detail : '',
    errors,
    problem: body,
  };
}

export function clientSideError(code: ClientSideCode, status: number, cause: unknown): ClientError {
  const detail = code === 'network_error'
    ? `No answer from the server: ${cause instanceof Error ? cause.message : String(cause)}`
    : `The server's answer could not be read: ${cause instanceof Error ? cause.message : String(cause)}`;
  return { code, status, title: code === 'network_error' ? 'Network error' : 'Unexpected response', detail, errors: [], problem: undefined, cause };
}

/** The field error at `pointer` (e.g. `/email`), for showing next to its form field. */
export function fieldError(error: ClientError, pointer: string): string | undefined {
  return error.errors.find((e) => e.pointer === pointer)?.detail;
}
