import type { components } from '../../generated/api.d.ts';
import type { components as HarnessComponents } from '../../generated/harness.d.ts';

/** Every stable problem code: the API contract's enum plus the harness contract's. */
export type ProblemCode =
  | components['schemas']['ProblemCode']
  | HarnessComponents['schemas']['HarnessProblemCode'];

export interface FieldError {
  pointer: string;
  detail: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_TYPE_BASE = 'https://app.quazzar.space/problems/';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * An RFC 9457 problem. Thrown anywhere; rendered in exactly one place (the error
 * middleware). `detail` is public: never put a password, token, code or secret in it.
 */
export class Problem extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ProblemCode,
    detail: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(`${status} ${code}: ${detail}`);
    this.name = 'Problem';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
  }

  toBody(): ProblemBody {
    const body: ProblemBody = {
      type: PROBLEM_TYPE_BASE + this.code,
      title: titleOf(this.code),
      status: this.status,
      detail: this.detail,
      code: this.code,
    };
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

/** `authentication_required` → "Authentication required": one stable title per problem type. */
export function titleOf(code: ProblemCode): string {
  const words = code.split('_').map((w) => ACRONYMS[w] ?? w).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const ACRONYMS: Record<string, string> = { json: 'JSON', totp: 'TOTP', api: 'API' };

export function isProblem(err: unknown): err is Problem {
  return err instanceof Problem;
}
