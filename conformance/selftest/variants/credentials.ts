import QRCode from 'qrcode';
import { timeStepAt, totpForStep } from '../../lib/totp.ts';
import { jsonOf, jsonResponse, withJson, type ProxiedResponse } from '../broken-proxy.ts';
import { bearer, isOp, LOGIN, problemCode, serverNow, registeredAddresses, type BrokenVariant } from './helpers.ts';

// Deployments whose TOTP, password reset, API keys or object access are broken: the
// behavioural checks (TOTP-*, RESET-*, KEYS-*, ACCESS-*) must fail.

export const credentialVariants: BrokenVariant[] = [
  {
    name: 'reset request tells unknown addresses apart',
    breaks: 'enumeration',
    only: ['RESET-01'],
    catches: ['RESET-01'],
    mutation: () => {
      const registered = registeredAddresses();
      return {
        onResponse: (req, res) => {
          const email = String(jsonOf(req)?.email ?? '').toLowerCase();
          registered.seen(req, res);
          if (req.path === '/auth/password-reset/request' && res.status === 200 && !registered.has(email)) {
            return withJson(res, { message: 'If that address is registered, a link is on its way.' });
          }
          return res;
        },
      };
    },
  },
  {
    name: 'reset token accepted twice',
    breaks: 'reset token reuse',
    only: ['RESET-04', 'RESET-06'],
    catches: ['RESET-04', 'RESET-06'],
    mutation: () => {
      const used = new Set<string>();
      return {
        onResponse: (req, res) => {
          if (req.path !== '/auth/password-reset/confirm') return res;
          const token = String(jsonOf(req)?.token ?? '');
          if (res.status === 200) used.add(token);
          else if (res.status === 400 && used.has(token)) return jsonResponse(200, { message: 'Password has been reset' });
          return res;
        },
      };
    },
  },
  {
    name: 'backup code accepted twice',
    breaks: 'backup code reuse',
    only: ['TOTP-07', 'TOTP-08'],
    catches: ['TOTP-07', 'TOTP-08'],
    mutation: () => {
      const wins = new Map<string, ProxiedResponse>();
      return {
        onResponse: (req, res) => {
          if (!isOp(req, 'POST', LOGIN)) return res;
          const body = jsonOf(req);
          if (!/^[a-z0-9]{8}$/u.test(String(body?.totp_code ?? ''))) return res;
          const key = `${String(body.email).toLowerCase()}|${String(body.totp_code)}`;
          if (res.status === 200) wins.set(key, res);
          else if (res.status === 401 && wins.has(key)) return wins.get(key)!;
          return res;
        },
      };
    },
  },
  {
    name: 'API key scope ignored',
    breaks: 'scope not enforced',
    only: ['KEYS-02'],
    catches: ['KEYS-02'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (req.method === 'GET' && /^\/projects\/[^/]+$/u.test(req.path) && res.status === 403 && problemCode(res) === 'insufficient_scope') {
          return jsonResponse(200, { id: req.path.split('/')[2], name: 'out of scope', created_at: new Date().toISOString() });
        }
        return res;
      },
    }),
  },
  {
    name: "another user's project served",
    breaks: 'cross-account access',
    only: ['ACCESS-01'],
    catches: ['ACCESS-01'],
    mutation: () => {
      const owners = new Map<string, string>(); // projectId → the token that created it
      return {
        onResponse: (req, res) => {
          if (req.method === 'POST' && req.path === '/projects' && res.status === 201) owners.set(jsonOf(res).id, bearer(req) ?? '');
          const id = req.path.split('/')[2] ?? '';
          if (req.method === 'GET' && /^\/projects\/[^/]+$/u.test(req.path) && res.status === 404 && owners.has(id)) {
            return jsonResponse(200, { id, name: 'owner only', created_at: new Date().toISOString() });
          }
          return res;
        },
      };
    },
  },
  {
    name: 'revoked API key still served (cached)',
    breaks: 'revocation not immediate',
    only: ['KEYS-03'],
    catches: ['KEYS-03'],
    mutation: () => {
      const profiles = new Map<string, ProxiedResponse>();
      return {
        onResponse: (req, res) => {
          const token = bearer(req);
          if (!token?.startsWith('qzk_') || req.path !== '/users/me' || req.method !== 'GET') return res;
          if (res.status === 200) profiles.set(token, res);
          else if (res.status === 401 && profiles.has(token)) return profiles.get(token)!;
          return res;
        },
      };
    },
  },
  {
    name: 'TOTP lock reported as a wrong code',
    breaks: 'no TOTP lockout',
    only: ['TOTP-06'],
    catches: ['TOTP-06'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (res.status !== 429 || problemCode(res) !== 'totp_locked') return res;
        const status = isOp(req, 'POST', LOGIN) ? 401 : 422;
        return jsonResponse(
          status,
          { type: 'https://app.quazzar.space/problems/invalid_totp_code', title: 'Invalid TOTP code', status, detail: 'The code is not valid.', code: 'invalid_totp_code' },
          'application/problem+json',
        );
      },
    }),
  },
  {
    name: 'QR code encodes another URI',
    breaks: 'QR does not match the otpauth URI',
    only: ['TOTP-01'],
    catches: ['TOTP-01'],
    mutation: () => ({
      onResponse: async (req, res) => {
        if (req.path !== '/auth/totp/provision' || res.status !== 200) return res;
        const body = jsonOf(res);
        body.qr_code = await QRCode.toDataURL(String(body.uri).replace('issuer=Quazzar', 'issuer=Other'));
        return withJson(res, body);
      },
    }),
  },
  {
    name: 'only four backup codes',
    breaks: 'backup code count',
    only: ['TOTP-02'],
    catches: ['TOTP-02', 'CONTRACT-SCHEMA'],
    mutation: () => ({
      onResponse: (req, res) => {
        if (req.path !== '/auth/totp/verify' || res.status !== 200) return res;
        const body = jsonOf(res);
        body.backup_codes = body.backup_codes.slice(0, 4);
        return withJson(res, body);
      },
    }),
  },
  {
    name: 'API key allowed to manage keys',
    breaks: 'key can manage credentials',
    only: ['KEYS-04'],
    catches: ['KEYS-04'],
    mutation: () => ({
      onResponse: (req, res) =>
        req.method === 'GET' && req.path === '/users/me/api-keys' && res.status === 403 && problemCode(res) === 'session_required'
          ? jsonResponse(200, { api_keys: [] })
          : res,
    }),
  },
  {
    name: 'TOTP codes accepted ±3 time steps',
    breaks: 'TOTP window too wide',
    only: ['TOTP-11'],
    catches: ['TOTP-11'],
    mutation: (env) => {
      const secrets = new Map<string, string>(); // bearer token → provisioned secret
      return {
        onRequest: async (req) => {
          const token = bearer(req);
          const secret = token ? secrets.get(token) : undefined;
          if (!secret || req.path !== '/auth/totp/verify') return;
          const sent = String(jsonOf(req)?.code ?? '');
          const step = timeStepAt(await serverNow(env));
          for (let d = -3; d <= 3; d += 1) {
            if (totpForStep(secret, step + d) === sent) {
              req.body = Buffer.from(JSON.stringify({ code: totpForStep(secret, step) }));
              return;
            }
          }
        },
        onResponse: (req, res) => {
          const token = bearer(req);
          if (token && req.path === '/auth/totp/provision' && res.status === 200) secrets.set(token, String(jsonOf(res).secret));
          return res;
        },
      };
    },
  },
  {
    name: 'reset request waits for mail delivery (slower for registered addresses)',
    breaks: 'timing enumeration (a MUST since issue 19: a large significant difference fails)',
    only: ['RESET-11'],
    catches: ['RESET-11'],
    mutation: () => {
      const registered = registeredAddresses();
      return {
        onResponse: async (req, res) => {
          const email = String(jsonOf(req)?.email ?? '').toLowerCase();
          registered.seen(req, res);
          if (req.path === '/auth/password-reset/request' && registered.has(email)) await new Promise((r) => setTimeout(r, 500));
          return res;
        },
      };
    },
  },
  {
    name: 'revoked sessions still served (enabling TOTP or a reset leaves other sessions alive)',
    breaks: 'sessions not revoked',
    only: ['TOTP-10', 'RESET-09'],
    catches: ['TOTP-10', 'RESET-09'],
    mutation: () => {
      const profiles = new Map<string, ProxiedResponse>(); // session token → its last profile
      return {
        onResponse: (req, res) => {
          const token = bearer(req);
          if (!token || token.startsWith('qzk_') || req.method !== 'GET' || req.path !== '/users/me') return res;
          if (res.status === 200) profiles.set(token, res);
          else if (res.status === 401 && profiles.has(token)) return profiles.get(token)!;
          return res;
        },
      };
    },
  },
];
