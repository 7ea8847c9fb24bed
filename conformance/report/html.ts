import { formatDuration } from '../framework/estimate.ts';
import './contract-info.ts';
import type { CheckResult, Exchange, RunResult } from '../framework/types.ts';
import { securityOf } from '../requirements/evidence.ts';
import { pointersOf } from '../requirements/pointers.ts';
import { resultCounts } from './console.ts';
import { curlFor } from './curl.ts';
import { verdictOf } from './verdict.ts';
import { maskExchange } from './mask.ts';

// One self-contained page (inline CSS, no script, no external resource): summary, every
// requirement's outcome (with the SEC texts it cites and the contract locations it enforced),
// the coverage matrix, each failure with its request, response (secrets masked) and a curl
// command that reproduces it, and the evidence of every passing and partial check: its
// exchanges, collapsed, at most MAX_EVIDENCE_PER_CHECK of them (the HAR export has them all).

const esc = (s: unknown): string =>
  String(s).replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');

const MAX_BODY_CHARS = 4000;
const MAX_EXCHANGES_PER_RESULT = 5;
/** Exchanges shown per passing or partial check (one per operation and status first). */
export const MAX_EVIDENCE_PER_CHECK = 20;
const MAX_EVIDENCE_BODY_CHARS = 1500;

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #d7dbe3;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d7dbe3;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f9}.pass{color:#17663a}.fail{color:#b3261e;font-weight:600}.warn{color:#8a5a00;font-weight:600}.skip{color:#5d6475}.partial{color:#8a5a00}
td.hit{background:#e3f5e9;text-align:center}td.miss{background:#fde7e5;text-align:center}td.none{background:#fafafa}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.75rem;color:#fff;font-weight:600}
.ok{background:#17663a}.ko{background:#b3261e}.subset{background:#5d6475}details{margin:.5rem 0}summary{cursor:pointer}
details.sec,details.ptr{margin:.2rem 0;font-size:.9em}details.sec p{margin:.2rem 0 .2rem 1rem}details.ptr ul{margin:.2rem 0}
`;

export function htmlReport(result: RunResult): string {
  const byId = new Map(result.exchanges.map((ex) => [ex.id, ex]));
  const all = [...result.checks, ...result.requirements];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Quazzar conformance — ${esc(result.baseUrl)}</title><style>${CSS}</style></head><body>
<h1>Quazzar Space auth API conformance report</h1>
<p><span class="badge ${verdictBadge(result)}</span>
 ${esc(result.baseUrl)} — run <code>${esc(result.runId)}</code> started ${esc(result.startedAt)}, took ${esc(formatDuration(result.durationMs))}
 (estimated ${esc(formatDuration(result.estimatedMs))}), ${result.exchanges.length} requests.</p>
${result.contract ? `<p>Contract checked: <b>${esc(`${result.contract.title} ${result.contract.version}`)}</b>, ${result.contract.released ? 'released snapshot' : '<b>not a released snapshot</b>'}; sha256 <code>${esc(result.contract.sha256)}</code> (${esc(result.contract.source)}).</p>` : ''}
${result.subset ? `<p><b>A subset:</b> ${result.subset.run} of ${result.subset.of} checks selected (--only, --skip or --profile): not a conformance verdict.</p>` : ''}
<p>${esc(resultCounts(result))}.
 Capabilities: ${Object.entries(result.capabilities).map(([k, v]) => `${esc(k)} ${v ? 'yes' : 'no'}`).join(', ')}.
 Unplanned 429 answers: ${result.unplanned429}.${result.seed !== undefined ? ` Seed: <code>${result.seed}</code> (--seed).` : ''}</p>
${profilesSection(result)}
<h2>Requirements</h2>
<table><tr><th>outcome</th><th>id</th><th>level</th><th>requirement</th><th>reason</th></tr>
${all.map((r) => `<tr><td class="${r.outcome}">${r.outcome.toUpperCase()}</td><td><a href="#${esc(r.id)}">${esc(r.id)}</a></td><td>${r.level}</td><td>${esc(r.title)}${securityDetails(r)}${pointersDetails(r)}</td><td>${esc(r.reason ?? '')}</td></tr>`).join('\n')}
</table>
<h2>Coverage matrix</h2>
${coverageTable(result)}
${result.undocumented.length ? `<p class="fail">Answered but not documented: ${esc(result.undocumented.join(', '))}</p>` : ''}
<h2>Failures and warnings</h2>
${all.filter((r) => r.outcome === 'fail' || r.outcome === 'warn').map((r) => failureSection(r, byId)).join('\n') || '<p>None.</p>'}
<h2>Partial</h2>
${all.filter((r) => r.outcome === 'partial').map((r) => `<p><a href="#${esc(r.id)}"><b>${esc(r.id)}</b></a> ${esc(r.title)} — not verified: ${esc((r.notVerified ?? []).join('; '))}</p>`).join('\n') || '<p>None.</p>'}
<h2>Evidence of passing and partial checks</h2>
<p>Each check's exchanges (secrets masked), at most ${MAX_EVIDENCE_PER_CHECK} per check, one per operation and status first; <code>--har FILE</code> exports every exchange of the run.</p>
${all.filter((r) => r.outcome === 'pass' || r.outcome === 'partial').map((r) => evidenceSection(r, byId)).join('\n') || '<p>None.</p>'}
<h2>Skipped</h2>
${all.filter((r) => r.outcome === 'skip').map((r) => `<p id="${esc(r.id)}"><b>${esc(r.id)}</b> ${esc(r.title)} — ${esc(r.reason ?? '')}</p>`).join('\n') || '<p>None.</p>'}
<h2>Left behind on the deployment</h2>
${result.leftBehind.length ? `<ul>${result.leftBehind.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : '<p>Nothing.</p>'}
</body></html>
`;
}

function verdictBadge(result: RunResult): string {
  const verdict = verdictOf(result);
  return `${verdict === 'CONFORMANT' ? 'ok' : verdict === 'SUBSET PASSED' ? 'subset' : 'ko'}">${verdict}`;
}

/** The SECURITY.md requirements the title cites, each text in a details element. */
function securityDetails(r: CheckResult): string {
  return securityOf(r)
    .map((sec) => `<details class="sec"><summary>${esc(sec.id)} — ${esc(sec.title)}</summary><p>${esc(sec.text)}</p></details>`)
    .join('');
}

/** The contract locations (JSON pointers into generated/openapi.json) the result enforced. */
function pointersDetails(r: CheckResult): string {
  const pointers = pointersOf(r);
  if (!pointers.length) return '';
  return `<details class="ptr"><summary>enforces ${pointers.length} contract location${pointers.length === 1 ? '' : 's'}</summary><ul>${pointers.map((p) => `<li><code>${esc(p)}</code></li>`).join('')}</ul></details>`;
}

function profilesSection(result: RunResult): string {
  if (!result.profiles) return '';
  const rows = result.profiles
    .map((r) => {
      const state = r.profile === 'harness' ? (r.implemented ? 'offered' : 'not offered') : r.implemented ? 'implemented' : `NOT IMPLEMENTED (${r.missing.join(', ')} answer the global 404)`;
      return `<tr><td>${esc(r.profile)}</td><td>${esc(r.title)}</td><td class="pass">${r.pass}</td><td class="fail">${r.fail}</td><td class="warn">${r.warn}</td><td class="partial">${r.partial}</td><td class="skip">${r.skip}</td><td class="skip">${r.notImplemented}</td><td class="${r.implemented ? 'pass' : 'warn'}">${esc(state)}</td></tr>`;
    })
    .join('\n');
  return `<h2>Profiles</h2>
<table><tr><th>profile</th><th>feature</th><th>pass</th><th>fail</th><th>warn</th><th>partial</th><th>skip</th><th>not implemented</th><th>state</th></tr>
${rows}
</table>`;
}

function coverageTable(result: RunResult): string {
  const statuses = [...new Set(result.coverage.map((c) => c.status))].sort((a, b) => a - b);
  const ops = [...new Set(result.coverage.map((c) => c.operationId))];
  const exercised = result.coverage.filter((c) => c.exercised > 0).length;
  const rows = ops.map((opId) => {
    const cells = result.coverage.filter((c) => c.operationId === opId);
    const first = cells[0]!;
    const tds = statuses.map((status) => {
      const cell = cells.find((c) => c.status === status);
      if (!cell) return '<td class="none"></td>';
      return cell.exercised ? `<td class="hit" title="${cell.exercised} exchange(s)">✓ ${cell.exercised}</td>` : '<td class="miss" title="documented, never exercised">✗</td>';
    });
    return `<tr><th>${esc(opId)}<br><small>${esc(first.method)} ${esc(first.path)}</small></th>${tds.join('')}</tr>`;
  });
  return `<p>${exercised} of ${result.coverage.length} documented (operation, status) pairs exercised.</p>
<table><tr><th>operation</th>${statuses.map((s) => `<th>${s}</th>`).join('')}</tr>
${rows.join('\n')}</table>`;
}

function failureSection(r: CheckResult, byId: Map<number, Exchange>): string {
  const exchangeIds = [...new Set(r.findings.map((f) => f.exchangeId).filter((id): id is number => id !== undefined))].slice(0, MAX_EXCHANGES_PER_RESULT);
  return `<section id="${esc(r.id)}"><h3 class="${r.outcome}">${r.outcome.toUpperCase()} ${esc(r.id)} [${r.level}] ${esc(r.title)}</h3>
<ul>${r.findings.map((f) => `<li>${esc(f.message)}${f.exchangeId ? ` <small>(exchange #${f.exchangeId})</small>` : ''}</li>`).join('')}</ul>
${r.notes.length ? `<p><small>${r.notes.map(esc).join('<br>')}</small></p>` : ''}
${exchangeIds.map((id) => exchangeBlock(byId.get(id))).join('\n')}</section>`;
}

/** A passing or partial check: what it did, collapsed. */
function evidenceSection(r: CheckResult, byId: Map<number, Exchange>): string {
  const { shown, more } = evidenceExchanges(r.exchangeIds.map((id) => byId.get(id)).filter((ex): ex is Exchange => ex !== undefined));
  const total = shown.length + more;
  return `<section id="${esc(r.id)}"><h3 class="${r.outcome}">${r.outcome.toUpperCase()} ${esc(r.id)} [${r.level}] ${esc(r.title)}</h3>
${r.notVerified?.length ? `<p class="partial">Not verified: ${esc(r.notVerified.join('; '))}</p>` : ''}${r.notes.length ? `<p><small>${r.notes.map(esc).join('<br>')}</small></p>` : ''}
${total ? `<details><summary>${total} exchange${total === 1 ? '' : 's'}${more ? `, ${shown.length} shown` : ''}</summary>
${shown.map((ex) => exchangeBlock(ex, false)).join('\n')}
${more ? `<p>… and ${more} more (the HAR export, <code>--har FILE</code>, has every exchange).</p>` : ''}</details>` : '<p><small>No exchange of its own (it judged the run\'s exchanges).</small></p>'}</section>`;
}

/** At most MAX_EVIDENCE_PER_CHECK exchanges, one per (operation or path, status) first, in run order. */
export function evidenceExchanges(exchanges: Exchange[]): { shown: Exchange[]; more: number } {
  if (exchanges.length <= MAX_EVIDENCE_PER_CHECK) return { shown: exchanges, more: 0 };
  const picked = new Set<Exchange>();
  const seen = new Set<string>();
  for (const ex of exchanges) {
    const key = `${ex.operationId ?? `${ex.request.method} ${ex.request.url.split('?')[0]}`} ${ex.status}`;
    if (picked.size < MAX_EVIDENCE_PER_CHECK && !seen.has(key)) {
      seen.add(key);
      picked.add(ex);
    }
  }
  for (const ex of exchanges) if (picked.size < MAX_EVIDENCE_PER_CHECK) picked.add(ex);
  return { shown: exchanges.filter((ex) => picked.has(ex)), more: exchanges.length - picked.size };
}

function exchangeBlock(ex: Exchange | undefined, open = true): string {
  if (!ex) return '';
  const m = maskExchange(ex);
  const head = (h: Record<string, string>): string => Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\n');
  const limit = open ? MAX_BODY_CHARS : MAX_EVIDENCE_BODY_CHARS;
  const cut = (t: string): string => (t.length > limit ? `${t.slice(0, limit)}\n… (${t.length} chars)` : t);
  return `<details${open ? ' open' : ''}><summary>exchange #${ex.id}: ${esc(m.request.method)} ${esc(m.request.url)} → ${ex.status || esc(ex.error ?? 'no answer')} (${ex.durationMs} ms, client ${esc(ex.client)}, check ${esc(ex.checkId)})</summary>
<p><b>Request</b></p><pre>${esc(`${m.request.method} ${m.request.url}\n${head(m.request.headers)}${m.request.body !== undefined ? `\n\n${cut(m.request.body)}` : ''}`)}</pre>
<p><b>Response</b></p><pre>${esc(`${ex.status}\n${head(m.headers)}\n\n${cut(m.text)}`)}</pre>
<p><b>Reproduce</b></p><pre>${esc(curlFor(ex))}</pre>
${ex.violations.length ? `<p><b>Contract violations</b></p><ul>${ex.violations.map((v) => `<li>${esc(v.requirement)}: ${esc(v.message)}</li>`).join('')}</ul>` : ''}
</details>`;
}
