// quazzar-client — a typed client for the Quazzar Space auth API. openapi-fetch over the
// types generated from the contract (generated/api.d.ts): no request or response type is
// written here, so regenerating the contract changes the client's types with it. Runs in
// Node 20+ and browsers (only `fetch`, `Request`, `Response`, `Headers`, `setTimeout`).
import createFetchClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from '../generated/api.d.ts';
import { clientSideError, problemError, type ClientError } from './errors.ts';
import { readRateLimit, type RateLimitInfo } from './rate-limit.ts';
import { retryingFetch, type FetchLike, type RetryOptions } from './retry.ts';

export type { paths, components, operations } from '../generated/api.d.ts';
export { fieldError, type ClientError, type ClientSideCode, type ErrorCode, type FieldError, type Problem, type ProblemCode } from './errors.ts';
export { parseRetryAfter, parseSfList, readRateLimit, type RateLimitInfo, type RateLimitPolicy, type RateLimitState } from './rate-limit.ts';
export { IDEMPOTENT_METHODS, type RetryOptions } from './retry.ts';

export type Schemas = components['schemas'];

/** A session token (from `login`) or an API key (`qzk_…`); both are sent as `Authorization: Bearer`. */
export type Credential = { sessionToken: string } | { apiKey: string };

export interface QuazzarClientOptions {
  /** Where the API is, e.g. `https://auth.example.com` (no trailing path needed). */
  baseUrl: string;
  /** The credential to send; `login` sets a session token, `logout` clears it. */
  credential?: Credential;
  /** Retry idempotent calls answered 429/503 with `Retry-After` (off by default). */
  retry?: boolean | RetryOptions;
  /** Called when the server refuses the session token (401: expired, revoked, logged out elsewhere); the token is forgotten first. */
  onSessionEnded?: (error: ClientError) => void;
  /** A `fetch` of your own (default `globalThis.fetch`). */
  fetch?: FetchLike;
}

interface Outcome {
  status: number;
  rateLimit: RateLimitInfo;
  /** The answer (undefined when there was none: `network_error`). */
  response: Response | undefined;
}
export interface Success<T> extends Outcome {
  ok: true;
  data: T;
  response: Response;
}
export interface Failure extends Outcome {
  ok: false;
  error: ClientError;
}
/** What every call gives: never throws for an HTTP or network failure. */
export type Result<T> = Success<T> | Failure;

/** The answer of an operation that needs a recent login (`x-requires-recent-authentication`). */
export type ReauthResult<T> =
  | Success<T>
  | (Failure & { reauthenticationRequired: false })
  | ReauthenticationRequired<T>;
/** 403 `reauthentication_required`: the session's login is too old; send the password to go on. */
export interface ReauthenticationRequired<T> extends Failure {
  reauthenticationRequired: true;
  /** Sends the same request again with the account's current password (`current_password`). */
  retryWithPassword(currentPassword: string): Promise<ReauthResult<T>>;
}

export type LoginOutcome =
  | (Success<Schemas['LoginResponse']> & { kind: 'signed_in' })
  | (Failure & {
      kind: 'totp_required';
      /** Logs in again with the same e-mail and password plus this TOTP or backup code (can be called again after `invalid_totp_code`). */
      withTotpCode(code: string): Promise<LoginOutcome>;
    })
  | (Failure & { kind: 'failed' });

export type TotpEnrolment =
  | Failure
  | (Success<Schemas['TotpProvisioning']> & {
      /** Confirms the enrolment with a code from the app; the answer holds the backup codes (shown once). */
      verify(code: string, currentPassword?: string): Promise<ReauthResult<Schemas['TotpEnabled']>>;
    });

type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

type PathParams<P extends keyof paths> = paths[P]['parameters'] extends { path: infer T } ? T : never;

type Pending<D> = Promise<{ data?: D; error?: unknown; response: Response }>;

/** The token of a reset link (`…/reset-password?token=…`, or `#token=…`). */
export function resetTokenFromLink(link: string): string | undefined {
  const url = new URL(link, 'http://localhost');
  return url.searchParams.get('token') ?? (new URLSearchParams(url.hash.slice(1)).get('token') ?? undefined);
}

export function createQuazzarClient(options: QuazzarClientOptions) {
  let credential: Credential | undefined = options.credential;
  const baseFetch: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const retry = options.retry === true ? {} : options.retry === false ? undefined : options.retry;
  const fetch = retry === undefined ? baseFetch : retryingFetch(baseFetch, retry);

  const auth: Middleware = {
    onRequest({ request }) {
      if (credential === undefined) return undefined;
      request.headers.set('Authorization', `Bearer ${'sessionToken' in credential ? credential.sessionToken : credential.apiKey}`);
      return request;
    },
  };
  /** The openapi-fetch client itself (typed by the contract, credential middleware installed): for calls the helpers do not cover; wrap its promise in `call`. */
  const api: Client<paths> = createFetchClient<paths>({ baseUrl: options.baseUrl, fetch });
  api.use(auth);

  /** Turns an openapi-fetch call into a `Result`: the data, or the error as a value, with the rate-limit information either way. */
  async function call<D>(pending: Pending<D>): Promise<Result<D>> {
    const used = credential;
    let answer: Awaited<Pending<D>>;
    try {
      answer = await pending;
    } catch (cause) {
      // openapi-fetch throws when there is no answer, or when a 2xx body is not JSON.
      const code = cause instanceof SyntaxError ? 'unexpected_response' : 'network_error';
      return { ok: false, error: clientSideError(code, 0, cause), status: 0, rateLimit: readRateLimit(new Headers()), response: undefined };
    }
    const { response } = answer;
    const rateLimit = readRateLimit(response.headers);
    if (response.ok) return { ok: true, data: answer.data as D, status: response.status, rateLimit, response };
    const error = problemError(response.status, answer.error);
    if (response.status === 401 && (error.code === 'invalid_token' || error.code === 'authentication_required') && used !== undefined && 'sessionToken' in used && credential === used) {
      credential = undefined;
      options.onSessionEnded?.(error);
    }
    return { ok: false, error, status: response.status, rateLimit, response };
  }

  async function reauth<B extends { current_password?: string }, D>(send: (body: B) => Promise<Result<D>>, body: B): Promise<ReauthResult<D>> {
    const r = await send(body);
    if (r.ok) return r;
    if (r.error.code !== 'reauthentication_required') return { ...r, reauthenticationRequired: false };
    return { ...r, reauthenticationRequired: true, retryWithPassword: (current_password) => reauth(send, { ...body, current_password }) };
  }

  async function login(body: JsonBody<'/auth/login', 'post'>): Promise<LoginOutcome> {
    const r = await call(api.POST('/auth/login', { body }));
    if (r.ok) {
      credential = { sessionToken: r.data.access_token };
      return { ...r, kind: 'signed_in' };
    }
    if (r.error.code === 'totp_required') {
      return { ...r, kind: 'totp_required', withTotpCode: (totp_code) => login({ email: body.email, password: body.password, totp_code }) };
    }
    return { ...r, kind: 'failed' };
  }

  const verifyTotp = (body: JsonBody<'/auth/totp/verify', 'post'>) => reauth((b: typeof body) => call(api.POST('/auth/totp/verify', { body: b })), body);

  return {
    api,
    call,
    /** Sets the credential sent from now on (replaces any other). */
    setCredential(next: Credential | undefined): void {
      credential = next;
    },
    /** The credential's kind, never its value. */
    get credentialKind(): 'session' | 'api_key' | undefined {
      return credential === undefined ? undefined : 'sessionToken' in credential ? 'session' : 'api_key';
    },

    register: (body: JsonBody<'/auth/register', 'post'>) => call(api.POST('/auth/register', { body })),
    /** Logs in; a `signed_in` outcome also makes the client send the new session token from now on. */
    login,
    /** Ends the session on the server and forgets the token (also when the server already forgot it). */
    async logout() {
      const r = await call(api.POST('/auth/logout'));
      if (r.ok || r.status === 401) credential = undefined;
      return r;
    },
    changePassword: (body: JsonBody<'/auth/password/change', 'post'>) => call(api.POST('/auth/password/change', { body })),
    requestPasswordReset: (body: JsonBody<'/auth/password-reset/request', 'post'>) => call(api.POST('/auth/password-reset/request', { body })),
    /** Sets a new password with the token of the reset link (see `resetTokenFromLink`); every session and API key of the account is revoked. */
    confirmPasswordReset: (body: JsonBody<'/auth/password-reset/confirm', 'post'>) => call(api.POST('/auth/password-reset/confirm', { body })),

    provisionTotp: () => call(api.POST('/auth/totp/provision')),
    verifyTotp,
    /** Provision → show `data.qr_code` / `data.secret` → `verify(code)` → `data.backup_codes`. */
    async startTotpEnrolment(): Promise<TotpEnrolment> {
      const r = await call(api.POST('/auth/totp/provision'));
      if (!r.ok) return r;
      return { ...r, verify: (code, current_password) => verifyTotp(current_password === undefined ? { code } : { code, current_password }) };
    },
    disableTotp: (body: JsonBody<'/auth/totp', 'delete'>) => reauth((b: typeof body) => call(api.DELETE('/auth/totp', { body: b })), body),

    getCurrentUser: () => call(api.GET('/users/me')),
    updateCurrentUser: (body: JsonBody<'/users/me', 'patch'>) => call(api.PATCH('/users/me', { body })),

    listApiKeys: () => call(api.GET('/users/me/api-keys')),
    createApiKey: (body: JsonBody<'/users/me/api-keys', 'post'>) => reauth((b: typeof body) => call(api.POST('/users/me/api-keys', { body: b })), body),
    revokeApiKey: (keyId: PathParams<'/users/me/api-keys/{keyId}'>['keyId']) => call(api.DELETE('/users/me/api-keys/{keyId}', { params: { path: { keyId } } })),

    listProjects: () => call(api.GET('/projects')),
    createProject: (body: JsonBody<'/projects', 'post'>) => call(api.POST('/projects', { body })),
    getProject: (projectId: PathParams<'/projects/{projectId}'>['projectId']) => call(api.GET('/projects/{projectId}', { params: { path: { projectId } } })),

    getHealth: () => call(api.GET('/health')),
  };
}

export type QuazzarClient = ReturnType<typeof createQuazzarClient>;
