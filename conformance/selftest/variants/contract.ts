import { jsonOf, withJson, withoutHeader } from '../broken-proxy.ts';
import { isOp, LOGIN, REGISTER, type BrokenVariant } from './helpers.ts';

// Deployments that break the contract's shapes: statuses, media types, headers, fields,
// problem details. The automatic exchange validation (CONTRACT-*) or ERRORS-* must fail.

export const contractVariants: BrokenVariant[] = [
  {
    name: 'register answers 200 instead of 201',
    breaks: 'wrong status',
    only: ['ACCESS-01'],
    catches: ['CONTRACT-STATUS'],
    mutation: () => ({
      onResponse: (req, res) => (isOp(req, 'POST', REGISTER) && res.status === 201 ? { ...res, status: 200 } : res),
    }),
  },
  {
    name: '429 without Retry-After',
    breaks: 'missing header',
    only: ['KEYS-06'],
    catches: ['CONTRACT-HEADERS', 'KEYS-06'],
    mutation: () => ({ onResponse: (_req, res) => (res.status === 429 ? withoutHeader(res, 'retry-after') : res) }),
  },
  {
    name: '401 without WWW-Authenticate',
    breaks: 'missing header',
    only: ['KEYS-03'],
    catches: ['CONTRACT-HEADERS'],
    mutation: () => ({ onResponse: (_req, res) => (res.status === 401 ? withoutHeader(res, 'www-authenticate') : res) }),
  },
  {
    name: 'login response without token_type',
    breaks: 'missing field',
    only: ['ACCESS-01'],
    catches: ['CONTRACT-SCHEMA'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (!isOp(req, 'POST', LOGIN) || res.status !== 200) return res;
        const { token_type: _dropped, ...rest } = jsonOf(res);
        return withJson(res, rest);
      },
    }),
  },
  {
    name: 'login response user without totp_enabled',
    breaks: 'missing field',
    only: ['KEYS-01'],
    catches: ['CONTRACT-SCHEMA'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (!isOp(req, 'POST', LOGIN) || res.status !== 200) return res;
        const body = jsonOf(res);
        delete body.user.totp_enabled;
        return withJson(res, body);
      },
    }),
  },
  {
    name: 'errors as application/json instead of problem+json',
    breaks: 'wrong media type',
    only: ['RESET-10'],
    catches: ['CONTRACT-MEDIA-TYPE', 'CONTRACT-PROBLEM'],
    mutation: () => ({
      onResponse: (_req, res) => (res.status >= 400 ? { ...res, headers: { ...res.headers, 'content-type': 'application/json' } } : res),
    }),
  },
  {
    name: '500 with a stack trace for a malformed reset token',
    breaks: '5xx leak with stack',
    only: ['RESET-10'],
    catches: ['CONTRACT-NO-5XX', 'RESET-10'],
    mutation: () => ({
      onResponse: (req, res) =>
        req.path === '/auth/password-reset/confirm' && res.status === 422
          ? {
              status: 500,
              headers: { 'content-type': 'text/plain' },
              body: Buffer.from('TypeError: Cannot read properties of undefined\n    at confirm (/srv/app/src/reset.ts:42:7)'),
            }
          : res,
    }),
  },
  {
    name: '405 without an Allow header',
    breaks: 'missing header',
    only: ['ERRORS-02'],
    catches: ['ERRORS-02', 'CONTRACT-ALLOW', 'CONTRACT-HEADERS'],
    mutation: () => ({ onResponse: (_req, res) => (res.status === 405 ? withoutHeader(res, 'allow') : res) }),
  },
  {
    name: 'no X-Content-Type-Options: nosniff',
    breaks: 'missing security header',
    only: ['ACCESS-02', 'ERRORS-05'],
    catches: ['ERRORS-05', 'CONTRACT-HEADERS'],
    mutation: () => ({ onResponse: (_req, res) => withoutHeader(res, 'x-content-type-options') }),
  },
  {
    name: 'a new API key served cacheable',
    breaks: 'secret without Cache-Control: no-store',
    only: ['KEYS-01', 'ERRORS-05'],
    catches: ['ERRORS-05', 'CONTRACT-HEADERS'],
    mutation: () => ({
      onResponse: (req, res) =>
        req.method === 'POST' && req.path === '/users/me/api-keys' && res.status === 201
          ? { ...res, headers: { ...res.headers, 'cache-control': 'public, max-age=600' } }
          : res,
    }),
  },
  {
    name: 'problem status differs from the HTTP status',
    breaks: 'problem+json status mismatch',
    only: ['RESET-10', 'ERRORS-03'],
    catches: ['ERRORS-03', 'CONTRACT-PROBLEM', 'CONTRACT-SCHEMA'],
    mutation: () => ({
      onResponse: (_req, res) => {
        const body = res.status >= 400 ? jsonOf(res) : undefined;
        return body && typeof body === 'object' ? withJson(res, { ...body, status: 400 + ((body.status + 1) % 100) }) : res;
      },
    }),
  },
  {
    name: 'error detail echoes the password sent',
    breaks: 'secret echoed in a problem',
    only: ['ACCOUNTS-03', 'ERRORS-06'],
    catches: ['ERRORS-06'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (!isOp(req, 'POST', REGISTER) || res.status !== 422) return res;
        return withJson(res, { ...jsonOf(res), detail: `The password "${String(jsonOf(req)?.password)}" is too common.` });
      },
    }),
  },
];
