import { decodeJwt, signHs256 } from '../../lib/jwt-forge.ts';
import { timeStepAt, totpForStep } from '../../lib/totp.ts';
import { jsonOf, withJson, type ProxiedRequest, type ProxiedResponse } from '../broken-proxy.ts';
import { bearer, isOp, LOGIN, problemCode, serverNow, type BrokenVariant, type VariantEnv } from './helpers.ts';

// Deployments that slipped through the TOTP and token checks before issue 11's follow-up.

const VERIFY = /^\/auth\/totp\/verify$/u;
const PROVISION = /^\/auth\/totp\/provision$/u;
const DISABLE = /^\/auth\/totp$/u;

/** Remembers the pending secret of each session token (from provisionTotp answers). */
function secretsByToken() {
  const secrets = new Map<string, string>();
  return {
    seen(req: ProxiedRequest, res: ProxiedResponse) {
      const token = bearer(req);
      const secret = jsonOf(res)?.secret;
      if (isOp(req, 'POST', PROVISION) && res.status === 200 && token && typeof secret === 'string') secrets.set(token, secret);
    },
    of: (req: ProxiedRequest) => secrets.get(bearer(req) ?? ''),
  };
}

/** The codes of the server's current step and its neighbours (`spread` steps each side). */
async function codesNear(env: VariantEnv, secret: string, spread: number): Promise<Set<string>> {
  const step = timeStepAt(await serverNow(env));
  const codes = new Set<string>();
  for (let d = -spread; d <= spread; d += 1) codes.add(totpForStep(secret, step + d));
  return codes;
}

function problem(res: ProxiedResponse, status: number, code: string, title: string, extra: Record<string, string> = {}): ProxiedResponse {
  const body = { type: `https://app.quazzar.space/problems/${code}`, title, status, detail: title, code };
  return withJson({ ...res, status, headers: { ...res.headers, ...extra } }, body, 'application/problem+json');
}

/** Re-signs `token` with the deployment's key after `change` (header and payload, in place). */
function resign(env: VariantEnv, token: string, change: (h: Record<string, unknown>, p: Record<string, unknown>) => void): string {
  const { header, payload } = decodeJwt(token);
  change(header, payload);
  return signHs256(header, payload, Buffer.from(env.tokenSigningKey, 'utf8'));
}

function withBearer(req: ProxiedRequest, token: string): void {
  req.headers.authorization = `Bearer ${token}`;
}

export const gapVariants2: BrokenVariant[] = [
  {
    name: 'session tokens accepted whatever their iss, aud and typ',
    breaks: 'token claims not verified',
    only: ['SESSIONS-08'],
    catches: ['SESSIONS-08'],
    mutation: (env) => ({
      onRequest(req) {
        const token = bearer(req);
        if (!token || token.split('.').length !== 3) return;
        try {
          // The server behind only sees the claims it issued: any iss/aud/typ gets through.
          withBearer(req, resign(env, token, (h, p) => {
            h.typ = 'at+jwt';
            p.iss = 'https://app.quazzar.space';
            p.aud = 'quazzar-api';
          }));
        } catch {
          /* not a JWT: forwarded as is */
        }
      },
    }),
  },
  {
    name: 'issued session tokens carry another audience',
    breaks: 'token aud',
    only: ['SESSIONS-08'],
    catches: ['SESSIONS-08'],
    mutation: (env) => {
      const originals = new Map<string, string>();
      return {
        onRequest(req) {
          const original = originals.get(bearer(req) ?? '');
          if (original) withBearer(req, original);
        },
        onResponse(req, res) {
          const body = jsonOf(res);
          if (!isOp(req, 'POST', LOGIN) || res.status !== 200 || typeof body?.access_token !== 'string') return res;
          const issued = resign(env, body.access_token, (_h, p) => {
            p.aud = 'quazzar';
          });
          originals.set(issued, body.access_token);
          return withJson(res, { ...body, access_token: issued });
        },
      };
    },
  },
  {
    name: 'TOTP accepts the current time step only (no ±1 tolerance)',
    breaks: 'codes one step early or late refused',
    only: ['TOTP-12'],
    catches: ['TOTP-12'],
    mutation: (env) => {
      const secrets = secretsByToken();
      return {
        async onRequest(req) {
          const secret = secrets.of(req);
          if (!isOp(req, 'POST', VERIFY) || !secret) return;
          const code = String(jsonOf(req)?.code ?? '');
          // Anything but the current step's code becomes a code the server refuses.
          if (!(await codesNear(env, secret, 0)).has(code)) req.body = Buffer.from(JSON.stringify({ code: '000000' }));
        },
        onResponse(req, res) {
          secrets.seen(req, res);
          return res;
        },
      };
    },
  },
  {
    name: 'a right TOTP code does not reset the failure count',
    breaks: 'TOTP failure count never reset',
    only: ['TOTP-13'],
    catches: ['TOTP-13'],
    mutation: () => {
      // One count per user over login and disable, as the contract has it, never reset.
      const failures = new Map<string, number>();
      const emailOf = new Map<string, string>();
      return {
        onResponse(req, res) {
          const body = jsonOf(req);
          let email: string | undefined;
          if (isOp(req, 'POST', LOGIN)) {
            const answer = jsonOf(res);
            if (res.status === 200 && typeof answer?.access_token === 'string') emailOf.set(answer.access_token, String(body?.email ?? '').toLowerCase());
            if (typeof body?.totp_code === 'string') email = String(body?.email ?? '').toLowerCase();
          } else if (isOp(req, 'DELETE', DISABLE)) email = emailOf.get(bearer(req) ?? '');
          if (!email) return res;
          const count = failures.get(email) ?? 0;
          if (count >= 5) return problem(res, 429, 'totp_locked', 'Too many wrong TOTP codes', { 'retry-after': '900' });
          if (problemCode(res) === 'invalid_totp_code') failures.set(email, count + 1);
          return res;
        },
      };
    },
  },
  {
    name: 'wrong codes at verify do not count towards the TOTP lockout',
    breaks: 'failed verifies not counted',
    only: ['TOTP-14'],
    catches: ['TOTP-14'],
    mutation: (env) => {
      const secrets = secretsByToken();
      return {
        async onRequest(req) {
          const secret = secrets.of(req);
          if (!isOp(req, 'POST', VERIFY) || !secret) return;
          const code = String(jsonOf(req)?.code ?? '');
          if ((await codesNear(env, secret, 1)).has(code)) return;
          // A malformed code is refused before any TOTP logic (nothing counted); its answer is
          // rewritten below into the invalid_totp_code the suite expects.
          req.body = Buffer.from(JSON.stringify({ code: 'uncounted' }));
          req.headers['x-variant-uncounted'] = '1';
        },
        onResponse(req, res) {
          secrets.seen(req, res);
          if (req.headers['x-variant-uncounted'] === '1') return problem(res, 422, 'invalid_totp_code', 'The TOTP code is not valid');
          return res;
        },
      };
    },
  },
];

const withoutHeaders = (res: ProxiedResponse, ...names: string[]): ProxiedResponse => {
  const headers = { ...res.headers };
  for (const name of names) delete headers[name];
  return { ...res, headers };
};

export const gapVariants3: BrokenVariant[] = [
  {
    name: 'reset page served without Referrer-Policy (the token in its URL may leak)',
    breaks: 'Referrer-Policy on the reset page',
    only: ['ERRORS-08'],
    catches: ['ERRORS-08'],
    mutation: () => ({
      onResponse: (req, res) => (req.path === '/reset-password' ? withoutHeaders(res, 'referrer-policy') : res),
    }),
  },
  {
    name: 'API answers without X-Frame-Options',
    breaks: 'X-Frame-Options',
    only: ['USERS-01', 'ERRORS-08'],
    catches: ['ERRORS-08', 'CONTRACT-HEADERS'],
    mutation: () => ({ onResponse: (_req, res) => withoutHeaders(res, 'x-frame-options') }),
  },
  {
    name: 'a per-token rate-limit window never reopens',
    breaks: 'token-policy windows reopening',
    only: ['RATE-08'],
    catches: ['RATE-08'],
    mutation: () => {
      // The first answer after a 429 for the same token and operation is that 429 again (only
      // once: the suite's cleanup must still be able to use the session afterwards).
      const limited = new Map<string, ProxiedResponse | 'replayed'>();
      return {
        onResponse(req, res) {
          const token = bearer(req);
          if (!token) return res;
          const key = `${req.method} ${req.path} ${token}`;
          const seen = limited.get(key);
          if (res.status === 429) {
            if (seen === undefined) limited.set(key, res);
            return res;
          }
          if (seen !== undefined && seen !== 'replayed') {
            limited.set(key, 'replayed');
            // Retry-After: 1 keeps the suite's pacer from waiting a whole window at cleanup.
            return { ...seen, headers: { ...seen.headers, 'retry-after': '1' } };
          }
          return res;
        },
      };
    },
  },
];

export const gapVariants4: BrokenVariant[] = [
  {
    name: 'profile update refuses valid names beyond plain ASCII letters (422 validation_failed)',
    breaks: 'valid input refused',
    only: ['GEN-02'],
    catches: ['GEN-02'],
    mutation: () => ({
      onRequest(req) {
        if (req.method !== 'PATCH' || req.path !== '/users/me') return;
        const body = jsonOf(req);
        if (typeof body?.full_name !== 'string' || /^[A-Za-z0-9 ]*$/u.test(body.full_name)) return;
        // Turned into a name the server refuses, so the 422 it answers is a genuine one.
        req.body = Buffer.from(JSON.stringify({ ...body, full_name: '\u0001' }));
      },
    }),
  },  {
    name: 'health 503 whose detail does not name the dependency that is down',
    breaks: '503 detail names no dependency (issue 20)',
    only: ['ERRORS-07'],
    catches: ['ERRORS-07'],
    mutation: () => ({
      onResponse(req, res) {
        if (req.method !== 'GET' || req.path !== '/health' || res.status !== 503) return res;
        return problem(res, 503, 'service_unavailable', 'Service unavailable', { 'retry-after': res.headers['retry-after'] ?? '5' });
      },
    }),
  },
];
