import type { Exchange } from '../framework/types.ts';

// Reports are shared (CI artefacts, tickets): no credential, password, code or secret the run
// used may appear in them. Masking is by field name and by shape (JWTs, API keys, otpauth
// secrets), so a secret in an unexpected place is still caught.

const SECRET_FIELDS = new Set([
  'password', 'new_password', 'current_password', 'token', 'code', 'totp_code', 'key', 'secret',
  'access_token', 'backup_codes', 'refresh_token',
]);
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);

export const MASK = '***';

export function maskText(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/gu, 'eyJ***')
    .replace(/qzk_[A-Za-z0-9_-]+/gu, `qzk_${MASK}`)
    .replace(/([?&](?:secret|token|access_token|code|key)=)[^&\s"'<>]+/giu, `$1${MASK}`)
    .replace(/("(?:password|new_password|current_password|token|code|totp_code|key|secret|access_token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gu, `$1"${MASK}"`);
}

export function maskValue(value: unknown, field?: string): unknown {
  if (field && SECRET_FIELDS.has(field) && value !== null && value !== undefined) {
    return Array.isArray(value) ? value.map(() => MASK) : MASK;
  }
  if (typeof value === 'string') return field === 'qr_code' && value.length > 64 ? `${value.slice(0, 40)}… (${value.length} chars)` : maskText(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v));
  if (value && typeof value === 'object') {
    // An RFC 9457 problem's `code` is the documented error code (evidence), not a TOTP code.
    const record = value as Record<string, unknown>;
    const problem = typeof record['type'] === 'string' && typeof record['title'] === 'string' && typeof record['code'] === 'string';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, problem && k === 'code' ? maskText(v as string) : maskValue(v, k)]));
  }
  return value;
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? maskCredential(v) : maskText(v)]),
  );
}

/** `Bearer xyz` → `Bearer ***` (the scheme says what was sent); anything else wholly masked. */
function maskCredential(value: string): string {
  return /^[A-Za-z]+ \S/u.test(value) ? value.replace(/^([A-Za-z]+ ).*$/su, `$1${MASK}`) : MASK;
}

/** A body as stored text: masked as JSON when it parses, by shape otherwise. */
export function maskBody(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.stringify(maskValue(JSON.parse(text)), null, 2);
  } catch {
    return maskText(text);
  }
}

export function maskExchange(ex: Exchange): Exchange {
  const requestBody = maskBody(ex.request.body);
  return {
    ...ex,
    request: { ...ex.request, url: maskText(ex.request.url), headers: maskHeaders(ex.request.headers), ...(requestBody !== undefined ? { body: requestBody } : {}) },
    headers: maskHeaders(ex.headers),
    text: maskBody(ex.text) ?? '',
    body: ex.body === undefined ? undefined : maskValue(ex.body),
  };
}
