import { jsonOf, withJson } from '../broken-proxy.ts';
import { isOp, LOGIN, problemCode, type BrokenVariant } from './helpers.ts';

// Deployments that slipped through the first edition's checks (issue 11's verification gaps).

export const gapVariants: BrokenVariant[] = [
  {
    name: 'account lock announced with Retry-After: 1 (the window lasts an hour)',
    breaks: 'Retry-After lower bound',
    only: ['RATE-04'],
    catches: ['RATE-04'],
    mutation: () => ({
      onResponse: (req, res) =>
        isOp(req, 'POST', LOGIN) && res.status === 429 ? { ...res, headers: { ...res.headers, 'retry-after': '1' } } : res,
    }),
  },
  {
    name: 'problem type not ending with its code',
    breaks: 'problem type',
    only: ['ERRORS-01'],
    catches: ['CONTRACT-PROBLEM'],
    mutation: () => ({
      onResponse: (_req, res) => {
        const body = jsonOf(res);
        return res.status >= 400 && body?.code ? withJson(res, { ...body, type: 'https://app.quazzar.space/problems/error' }) : res;
      },
    }),
  },
  {
    name: 'validation_failed without errors[]',
    breaks: 'validation errors name no field',
    only: ['NEGATIVE-04'],
    catches: ['CONTRACT-PROBLEM', 'CONTRACT-SCHEMA'],
    mutation: () => ({
      onResponse: (_req, res) => {
        if (problemCode(res) !== 'validation_failed') return res;
        const { errors: _dropped, ...rest } = jsonOf(res);
        return withJson(res, rest);
      },
    }),
  },
  {
    name: 'profile update accepts any invalid body (422 turned into 200)',
    breaks: 'input validation on one operation',
    only: ['GEN-01'],
    catches: ['GEN-01'],
    mutation: () => ({
      onResponse: (req, res) =>
        req.method === 'PATCH' && req.path === '/users/me' && problemCode(res) === 'validation_failed'
          ? withJson({ ...res, status: 200 }, { id: '00000000-0000-4000-8000-000000000000', email: 'a@example.com', full_name: 'x', is_active: true, totp_enabled: false, created_at: new Date().toISOString() }, 'application/json')
          : res,
    }),
  },
];
