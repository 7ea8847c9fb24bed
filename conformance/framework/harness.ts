import type { Pacer } from './pacer.ts';
import type { Tracker } from './tracker.ts';
import { send } from './transport.ts';
import type { Contract, Exchange, Harness, HarnessClock } from './types.ts';

// The optional conformance harness (openapi/harness.yaml, DECISIONS.md §9). It is test
// infrastructure, not the API under test: its calls are not part of the coverage matrix, but
// each one throws on an unexpected answer so a check relying on it fails loudly. The pacer
// hears of every clock move and budget reset, so its model of the budgets stays right.

export class HarnessError extends Error {}

export function createHarness(opts: {
  url: string;
  token: string;
  timeoutMs: number;
  pacer: Pacer;
  tracker: Tracker;
  /** The harness contract (generated/harness.json): its answers are validated against it. */
  contract?: Contract;
}): Harness {
  const base = opts.url.replace(/\/+$/u, '');
  let offsetSeconds = 0;

  const post = async (path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const raw = await send({
      method: path === '/clock' ? 'GET' : 'POST',
      url: `${base}${path}`,
      headers: {
        authorization: `Bearer ${opts.token}`,
        accept: 'application/json',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
      ...(payload ? { body: payload } : {}),
      timeoutMs: opts.timeoutMs,
    });
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(raw.text) as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    if (raw.status !== 200) {
      throw new HarnessError(`harness ${path} answered ${raw.status || raw.error}: ${raw.text.slice(0, 200)}`);
    }
    const op = opts.contract?.operations.find((o) => o.path === path);
    const schema = op?.responses['200']?.schemas['application/json'];
    if (op && schema) {
      const result = opts.contract!.validate(schema, json);
      if (!result.valid) throw new HarnessError(`harness ${path} answered outside its contract: ${result.errors.join('; ')}`);
    }
    return { status: raw.status, json, text: raw.text };
  };

  const clock = (json: Record<string, unknown>): HarnessClock => {
    offsetSeconds = Number(json['offset_seconds'] ?? offsetSeconds);
    return { now: String(json['now']), offset_seconds: offsetSeconds };
  };

  // The interface promises an Exchange for (de)activation: a minimal record of the call.
  const asExchange = (path: string, r: { status: number; json: Record<string, unknown>; text: string }): Exchange => ({
    id: -1,
    checkId: 'harness',
    client: 'harness',
    request: { method: 'POST', url: `${base}${path}`, headers: {}, bodyBytes: 0 },
    status: r.status,
    headers: {},
    text: r.text,
    body: r.json,
    durationMs: 0,
    violations: [],
  });

  return {
    async deactivateAccount(email) {
      const r = await post('/accounts/deactivate', { email });
      opts.tracker.deactivated.add(email.toLowerCase());
      return asExchange('/accounts/deactivate', r);
    },
    async activateAccount(email) {
      const r = await post('/accounts/activate', { email });
      opts.tracker.deactivated.delete(email.toLowerCase());
      return asExchange('/accounts/activate', r);
    },
    async getClock() {
      return clock((await post('/clock')).json);
    },
    async now() {
      return Date.parse((await this.getClock()).now);
    },
    async advanceClock(seconds) {
      const whole = Math.max(1, Math.ceil(seconds));
      const result = clock((await post('/clock/advance', { seconds: whole })).json);
      opts.pacer.clockAdvanced(whole);
      const now = Date.parse(result.now);
      if (!Number.isNaN(now)) opts.tracker.expireBefore(now / 1000);
      return result;
    },
    async resetClock() {
      const before = offsetSeconds;
      const result = clock((await post('/clock/reset')).json);
      if (before > 0) opts.pacer.clockWentBack(before);
      return result;
    },
    async setPasswordHash(email, password, logN) {
      await post('/accounts/password-hash', { email, password, log_n: logN });
    },
    async setDatabaseFault(seconds) {
      await post('/faults/database', { unavailable_seconds: Math.max(0, Math.ceil(seconds)) });
    },
    async resetRateLimits(target) {
      const r = await post('/rate-limits/reset', target);
      if (target.ip) opts.pacer.forget((id) => id.endsWith(`|ip:${target.ip}`));
      if (target.email) opts.pacer.forget((id) => id.endsWith(`|account:${target.email!.toLowerCase()}`));
      return Number(r.json['reset'] ?? 0);
    },
  };
}
