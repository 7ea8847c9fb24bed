import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { feature } from '../framework/features.ts';
import { NotImplemented } from '../framework/profiles.ts';
import { expectProblem } from '../lib/problems.ts';

// The error model (RFC 9457, SECURITY.md 25–26). Some checks provoke errors; the others judge
// EVERY exchange the run made so far (they run last), so an error met anywhere counts.

const area = 'errors';

/** Exchanges of the run so far, made by other checks or this one. */
function runSoFar(ctx: CheckContext): readonly Exchange[] {
  return ctx.exchanges();
}

const where = (ex: Exchange): string => `${ex.request.method} ${new URL(ex.request.url).pathname} → ${ex.status} (${ex.checkId})`;

const unknownPath: CheckDef = {
  id: 'ERRORS-01',
  area,
  level: 'MUST',
  title: 'An unknown path answers 404 not_found as problem+json, whatever the method',
  async run(ctx: CheckContext) {
    for (const [method, path] of [
      ['GET', `/no-such-resource-${ctx.runId}`],
      ['POST', '/auth/no-such-operation'],
      ['DELETE', `/users/me/nothing/${ctx.runId}`],
    ] as const) {
      const ex = await ctx.request(method, path);
      expectProblem(ctx, ex, 404, 'not_found', `${method} ${path}`);
    }
  },
};

const wrongMethod: CheckDef = {
  id: 'ERRORS-02',
  area,
  level: 'MUST',
  title: 'A documented path with an undocumented method answers 405 method_not_allowed with an Allow header listing the documented methods',
  async run(ctx: CheckContext) {
    const byPath = new Map<string, string[]>();
    for (const op of ctx.contract.operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op.method]);
    for (const [template, methods] of byPath) {
      const method = ['PUT', 'PATCH', 'DELETE', 'POST', 'GET'].find((m) => !methods.includes(m));
      if (!method) continue;
      const path = template.replace(/\{[^}]+\}/gu, '00000000-0000-4000-8000-000000000000');
      let ex;
      try {
        ex = await ctx.request(method, path);
      } catch (error) {
        if (!(error instanceof NotImplemented)) throw error;
        ctx.note(`${template}: ${error.message} — its methods cannot be judged`);
        continue;
      }
      // Allow is validated for every 405 by the client (CONTRACT-ALLOW); the code is checked here.
      expectProblem(ctx, ex, 405, 'method_not_allowed', `${method} ${template} (documented: ${methods.join(', ')})`);
    }
  },
};

const problemEverywhere: CheckDef = {
  id: 'ERRORS-03',
  area,
  level: 'MUST',
  title: 'Every error answer of the whole run is application/problem+json whose status equals the HTTP status (SEC 25)',
  async run(ctx: CheckContext) {
    const errors = runSoFar(ctx).filter((ex) => ex.status >= 400);
    ctx.require(errors.length > 0, 'the run met no error answer at all: nothing to judge');
    ctx.note(`${errors.length} error answers judged`);
    let reported = 0;
    for (const ex of errors) {
      const type = (ex.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const ok = type === 'application/problem+json' && ex.body?.status === ex.status && typeof ex.body?.title === 'string' && typeof ex.body?.type === 'string';
      if (!ok && reported++ < 20) ctx.expect(false, `${where(ex)}: ${type || 'no media type'}, body status ${JSON.stringify(ex.body?.status)}`, ex);
    }
  },
};

const no5xx: CheckDef = {
  id: 'ERRORS-04',
  area,
  level: 'MUST',
  title: 'No request of the whole run — valid, invalid or hostile — was answered 5xx, and no answer leaked a stack trace (SEC 25)',
  async run(ctx: CheckContext) {
    const all = runSoFar(ctx);
    ctx.note(`${all.length} answers judged`);
    const stack = /\n\s+at\s+\S+\s+\(|\bat\s+[\w.<>]+\s+\((?:file:\/\/)?\/[^)]+:\d+:\d+\)|node_modules\//u;
    let reported = 0;
    for (const ex of all) {
      if (ex.status >= 500 && !ex.provoked5xx && reported++ < 20) ctx.expect(false, `${where(ex)}`, ex);
      else if (stack.test(ex.text) && reported++ < 20) ctx.expect(false, `${where(ex)}: the body looks like a stack trace`, ex);
    }
  },
};

const securityHeaders: CheckDef = {
  id: 'ERRORS-05',
  area,
  level: 'MUST',
  title: 'Every answer carries X-Content-Type-Options: nosniff; every answer carrying a secret is Cache-Control: no-store (SEC 26)',
  async run(ctx: CheckContext) {
    const all = runSoFar(ctx).filter((ex) => ex.status > 0 && ex.operationId);
    let reported = 0;
    for (const ex of all) {
      if ((ex.headers['x-content-type-options'] ?? '').toLowerCase() !== 'nosniff' && reported++ < 10) {
        ctx.expect(false, `${where(ex)}: X-Content-Type-Options is ${JSON.stringify(ex.headers['x-content-type-options'] ?? null)}`, ex);
      }
    }
    const secretBearing = all.filter((ex) => ex.status < 300 && /"(access_token|key|secret|backup_codes)"\s*:/u.test(ex.text));
    for (const ex of secretBearing) {
      if (!/no-store/iu.test(ex.headers['cache-control'] ?? '') && reported++ < 20) {
        ctx.expect(false, `${where(ex)} carries a secret with Cache-Control ${JSON.stringify(ex.headers['cache-control'] ?? null)}`, ex);
      }
    }
    ctx.note(`${all.length} answers judged, ${secretBearing.length} of them carrying a secret`);
  },
};

const noEcho: CheckDef = {
  id: 'ERRORS-06',
  area,
  level: 'MUST',
  title: 'No answer of the whole run echoes a password, token or code the suite sent (problem details included)',
  async run(ctx: CheckContext) {
    // Long secrets are looked for in the whole answer; 6–8 character codes only in the
    // problem's text (a short digit run may occur by chance inside an id).
    const fields = ['password', 'new_password', 'current_password', 'token'];
    const codeFields = ['totp_code', 'code'];
    let judged = 0;
    let reported = 0;
    for (const ex of runSoFar(ctx)) {
      let sent: Record<string, unknown> | undefined;
      try {
        sent = ex.request.body ? (JSON.parse(ex.request.body) as Record<string, unknown>) : undefined;
      } catch {
        continue;
      }
      const secrets = fields.map((f) => sent?.[f]).filter((v): v is string => typeof v === 'string' && v.length >= 6);
      const bearer = /^Bearer (.{16,})$/u.exec(ex.request.headers['authorization'] ?? '')?.[1];
      if (bearer) secrets.push(bearer);
      const codes = codeFields.map((f) => sent?.[f]).filter((v): v is string => typeof v === 'string' && v.length >= 6);
      if (!secrets.length && !codes.length) continue;
      judged += 1;
      const problemText = `${String(ex.body?.detail ?? '')} ${String(ex.body?.title ?? '')} ${JSON.stringify(ex.body?.errors ?? '')}`;
      const leaked =
        secrets.find((s) => ex.text.includes(s) || ex.text.includes(JSON.stringify(s).slice(1, -1))) ??
        (ex.status >= 400 ? codes.find((c) => problemText.includes(c)) : undefined);
      if (leaked && reported++ < 20) ctx.expect(false, `${where(ex)} echoes a secret it was sent`, ex);
    }
    ctx.note(`${judged} requests carrying a secret judged`);
  },
};

const health: CheckDef = {
  id: 'ERRORS-07',
  area,
  level: 'MUST',
  title: 'getHealth answers 200 {"status":"ok"}, and 503 service_unavailable as problem+json (generic, no internals) with Retry-After while the database is unreachable (harness fault)',
  needs: ['harness'],
  async run(ctx: CheckContext) {
    const ok = await ctx.call('getHealth');
    ctx.expectStatus(ok, 200);
    ctx.expect(ok.body?.status === 'ok', `getHealth answered ${JSON.stringify(ok.body)}`, ok);
    await ctx.harness!.setDatabaseFault(60);
    try {
      const down = await ctx.call('getHealth', { expect: 503 });
      expectProblem(ctx, down, 503, 'service_unavailable', 'getHealth with the database unreachable');
      const retryAfter = down.headers['retry-after'] ?? '';
      // Retry-After on the 503 is 2.0.0's promise; 1.0.0 documents the 503 without it.
      if (feature.responseHeader('getHealth', 503, 'Retry-After').present(ctx.contract)) ctx.expect(/^\d+$/u.test(retryAfter) && Number(retryAfter) >= 1, `getHealth 503 without an integer Retry-After ≥ 1 (got ${JSON.stringify(retryAfter || null)})`, down);
      // A documented rule since issue 20: the detail names the dependency that is down. Checked
      // only when the chosen contract states it (released contracts before it do not).
      const healthText = String(ctx.contract.document?.paths?.['/health']?.get?.description ?? '');
      if (/`detail`\s+names the dependency/u.test(healthText)) {
        const detail = String(down.body?.detail ?? '');
        ctx.expect(/database/iu.test(detail), `getHealth 503 with the database unreachable: the detail ${JSON.stringify(detail)} does not name the database (the contract: "detail names the dependency that is down")`, down);
      }
    } finally {
      await ctx.harness!.setDatabaseFault(0);
    }
    ctx.expectStatus(await ctx.call('getHealth'), 200, 'getHealth once the database is back');
  },
};

export const errorsChecks: CheckDef[] = [unknownPath, wrongMethod, health, problemEverywhere, no5xx, securityHeaders, noEcho];
