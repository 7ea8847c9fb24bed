import { randomBytes } from 'node:crypto';
import { decodeJwt } from '../../lib/jwt-forge.ts';
import { jsonOf, jsonResponse, withJson, type Mutation } from '../broken-proxy.ts';
import { CLIENT_IP_HEADER } from '../reference-server.ts';
import { bearer, isOp, LOGIN, registeredAddresses, type BrokenVariant } from './helpers.ts';

// Deployments whose login, sessions, profile or rate limits are broken (C1's areas).

export const sessionVariants: BrokenVariant[] = [
  {
    name: 'logout answers 200 without revoking the session',
    breaks: 'unrevoked logout',
    only: ['SESSIONS-03'],
    catches: ['SESSIONS-03'],
    mutation: () => ({
      onRequest: (req) =>
        isOp(req, 'POST', /^\/auth\/logout$/u) && bearer(req) ? jsonResponse(200, { message: 'Successfully logged out' }) : undefined,
    }),
  },
  {
    name: 'login tells unknown e-mails apart',
    breaks: 'enumeration',
    only: ['LOGIN-02'],
    catches: ['LOGIN-02'],
    mutation: () => {
      const registered = registeredAddresses();
      return {
        onResponse: (req, res) => {
          const email = String(jsonOf(req)?.email ?? '').toLowerCase();
          registered.seen(req, res);
          if (isOp(req, 'POST', LOGIN) && res.status === 401 && !registered.has(email)) {
            return withJson(res, { ...jsonOf(res), detail: 'No account uses this e-mail address.' });
          }
          return res;
        },
      };
    },
  },
  {
    name: 'JWT signature not verified (any token naming a known user works)',
    breaks: 'alg none / bad signature accepted',
    only: ['SESSIONS-01'],
    catches: ['SESSIONS-01'],
    mutation: () => {
      const realBySub = new Map<string, string>();
      const real = new Set<string>();
      return {
        onRequest: (req) => {
          const token = bearer(req);
          if (!token || real.has(token) || token.split('.').length !== 3) return;
          try {
            const sub = String(decodeJwt(token).payload.sub);
            const swap = realBySub.get(sub);
            if (swap) req.headers.authorization = `Bearer ${swap}`;
          } catch {
            /* not a JWT: leave it */
          }
        },
        onResponse: (req, res) => {
          if (isOp(req, 'POST', LOGIN) && res.status === 200) {
            const body = jsonOf(res);
            real.add(body.access_token);
            realBySub.set(String(body.user.id), body.access_token);
          }
          return res;
        },
      };
    },
  },
  {
    name: 'access token accepted from the query string',
    breaks: 'token outside the Authorization header',
    only: ['SESSIONS-05'],
    catches: ['SESSIONS-05'],
    mutation: () => ({
      onRequest: (req) => {
        const query = new URLSearchParams(req.url.split('?')[1] ?? '');
        const token = query.get('access_token') ?? query.get('token');
        if (token && !req.headers.authorization) req.headers.authorization = `Bearer ${token}`;
      },
    }),
  },
  {
    name: 'PATCH /users/me silently drops fields it does not document',
    breaks: 'mass assignment not refused',
    only: ['USERS-03'],
    catches: ['USERS-03'],
    mutation: () => ({
      onRequest: (req) => {
        if (req.method !== 'PATCH' || req.path !== '/users/me') return;
        const body = jsonOf(req);
        if (!body || typeof body !== 'object') return;
        const kept = Object.fromEntries(Object.entries(body).filter(([k]) => ['full_name', 'company_name', 'phone'].includes(k)));
        req.body = Buffer.from(JSON.stringify(Object.keys(kept).length ? kept : { full_name: 'unchanged' }));
      },
    }),
  },
  {
    name: 'login answers unknown e-mails faster (no dummy hash)',
    breaks: 'timing enumeration (a MUST since issue 19: a large significant difference fails)',
    only: ['LOGIN-03'],
    catches: ['LOGIN-03'],
    mutation: () => {
      const registered = registeredAddresses();
      return {
        onResponse: async (req, res) => {
          const email = String(jsonOf(req)?.email ?? '').toLowerCase();
          registered.seen(req, res);
          if (isOp(req, 'POST', LOGIN) && registered.has(email)) await new Promise((r) => setTimeout(r, 150));
          return res;
        },
      };
    },
  },
  {
    name: 'rate limits never bind (client address rewritten per request)',
    breaks: 'absent rate limit',
    only: ['RATE-01'],
    catches: ['RATE-01'],
    mutation: () => rotatingClientIp(CLIENT_IP_HEADER),
  },
];

/** A fresh random address per request: the server's IP budgets never bind. */
function rotatingClientIp(header: string): Mutation {
  return {
    onRequest: (req) => {
      const b = randomBytes(2);
      req.headers[header] = `198.19.${b[0]}.${b[1]}`;
    },
  };
}
