import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';

// The contract's "Response headers" section (info.description): every answer carries
// Referrer-Policy: no-referrer and X-Frame-Options: DENY (a reset link's token must not leak
// through the Referer header, nor the reset page be framed). Judged over the whole run.

const where = (ex: Exchange): string => `${ex.request.method} ${new URL(ex.request.url).pathname} → ${ex.status} (${ex.checkId})`;

/** The value the contract documents for `name` ("`Name: value`" in info.description). */
export function documentedHeader(description: string, name: string): string | undefined {
  return new RegExp(`\`${name}:\\s*([^\`]+)\``, 'iu').exec(description)?.[1]?.trim();
}

const framingAndReferrer: CheckDef = {
  id: 'ERRORS-08',
  area: 'errors',
  level: 'MUST',
  title: 'Every answer of the run (the reset page included) carries the documented Referrer-Policy and X-Frame-Options (contract "Response headers", SEC 26)',
  async run(ctx: CheckContext) {
    const description = String(ctx.contract.document?.info?.description ?? '');
    const wanted = (['Referrer-Policy', 'X-Frame-Options'] as const)
      .map((name) => ({ name, value: documentedHeader(description, name) }))
      .filter((h): h is { name: 'Referrer-Policy' | 'X-Frame-Options'; value: string } => h.value !== undefined);
    if (wanted.length === 0) ctx.skip('the contract documents neither Referrer-Policy nor X-Frame-Options');
    // The page a reset mail links to (served by the reference server; any answer counts: a
    // deployment without it answers 404, which carries the headers too).
    const page = await ctx.request('GET', `/reset-password?token=conformance-probe-${ctx.runId}`, { unvalidated: true });
    ctx.note(`GET /reset-password answered ${page.status}`);
    const all = ctx.exchanges().filter((ex) => ex.status > 0 && (ex.operationId || ex.status === 200));
    let reported = 0;
    for (const ex of all) {
      for (const { name, value } of wanted) {
        const got = ex.headers[name.toLowerCase()];
        if ((got ?? '').toLowerCase() !== value.toLowerCase() && reported++ < 20) ctx.expect(false, `${where(ex)}: ${name} is ${JSON.stringify(got ?? null)}, expected ${value}`, ex);
      }
    }
    const pages = all.filter((ex) => !ex.operationId).length;
    ctx.note(`${all.length} answers judged (${pages} outside the documented operations, e.g. the reset page) for ${wanted.map((h) => `${h.name}: ${h.value}`).join(', ')}`);
  },
};

export const responseHeaderChecks: CheckDef[] = [framingAndReferrer];
