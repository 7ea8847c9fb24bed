import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { coverageMatrix } from '../framework/coverage.ts';
import { requirementResults } from '../framework/requirements.ts';
import type { Contract, Exchange, RunResult, Violation } from '../framework/types.ts';
import { harLog } from '../report/har.ts';
import { maskText } from '../report/mask.ts';
import { writeReports } from '../report/write.ts';
import { areaOf, judge, levelOf, routeOf, RULES, type JudgeOptions } from './rules.ts';

// What the proxy and check-har share: every exchange is judged as it arrives, its violations
// printed (one line each) and appended to violations.jsonl; at the end, the suite's own
// reports (HTML, JSON, JUnit) over the traffic seen, with its coverage matrix. Every line,
// file and report is masked.

export type FailOn = 'must' | 'should' | 'none';

/** Exchanges kept whole for the reports besides the violating ones (memory stays bounded
 * on a long-running proxy; the coverage matrix counts every exchange). */
const KEPT_CLEAN_EXCHANGES = 200;
const KEPT_VIOLATING_EXCHANGES = 2000;

export interface TrafficOptions {
  contract: Contract;
  /** Where violations.jsonl and the reports go; undefined writes no file. */
  outDir?: string;
  /** Keep every exchange (for a HAR of the traffic). */
  keepAll?: boolean;
  /** One line per violation, as it happens (default: stdout). */
  log?: (line: string) => void;
  /** What the traffic went to (report title). */
  baseUrl: string;
  /** `proxy` or `har`: the exchanges' checkId. */
  source: string;
}

export interface JudgedExchange extends Exchange {
  level: 'MUST' | 'SHOULD' | 'none';
}

export class Traffic {
  private readonly kept: Exchange[] = [];
  /** operationId and status of every exchange (for the coverage matrix). */
  private readonly seen: Array<Pick<Exchange, 'operationId' | 'status'>> = [];
  private clean = 0;
  private violating = 0;
  private keptViolating = 0;
  private outside = 0;
  private counts = { must: 0, should: 0 };
  private nextId = 1;
  readonly runId = randomBytes(4).toString('hex');
  readonly startedAt = new Date();
  private readonly jsonl: string | undefined;
  /** Appended without blocking the proxy's event loop; ended by finish(). */
  private readonly jsonlStream: WriteStream | undefined;

  constructor(private readonly opts: TrafficOptions) {
    if (opts.outDir) {
      mkdirSync(opts.outDir, { recursive: true });
      this.jsonl = join(opts.outDir, 'violations.jsonl');
      this.jsonlStream = createWriteStream(this.jsonl, { flags: 'w' });
      this.jsonlStream.on('error', (error) => console.error(`quazzar-conformance: cannot write ${this.jsonl}: ${error.message}`));
    }
  }

  get exchangeCount(): number {
    return this.seen.length;
  }

  /** Judges one exchange (without id, violations, checkId), records and reports it. */
  add(draft: Omit<Exchange, 'id' | 'violations' | 'checkId' | 'operationId'>, judging: JudgeOptions = {}): Exchange {
    const { contract } = this.opts;
    const route = routeOf(contract, draft.request.method, draft.request.url);
    const ex: Exchange = { ...draft, id: this.nextId++, checkId: this.opts.source, ...(route.op ? { operationId: route.op.operationId } : {}), violations: [] };
    if (ex.status > 0 && !route.known && ex.status !== 404) this.outside += 1;
    ex.violations = judge(contract, route, ex, judging).map((v) => ({ requirement: v.requirement, message: maskText(v.message) }));
    this.seen.push({ ...(ex.operationId ? { operationId: ex.operationId } : {}), status: ex.status });
    if (ex.violations.length) {
      this.violating += 1;
      for (const v of ex.violations) {
        if (levelOf(v.requirement) === 'MUST') this.counts.must += 1;
        else this.counts.should += 1;
        this.report(ex, v);
      }
      if (this.opts.keepAll || this.keptViolating < KEPT_VIOLATING_EXCHANGES) {
        this.kept.push(ex);
        this.keptViolating += 1;
      }
    } else if (this.opts.keepAll || this.clean < KEPT_CLEAN_EXCHANGES) {
      this.kept.push(ex);
      this.clean += 1;
    }
    return ex;
  }

  private report(ex: Exchange, v: Violation): void {
    const url = new URL(maskText(ex.request.url), 'http://x');
    const where = `${ex.request.method} ${url.pathname}${url.search}`;
    const line = `✗ #${ex.id} ${ex.operationId ?? '-'} ${where} → ${ex.status} ${v.requirement} [${levelOf(v.requirement)}]: ${v.message}`;
    (this.opts.log ?? console.log)(line);
    if (this.jsonlStream) {
      const record = { at: new Date().toISOString(), exchange: ex.id, operationId: ex.operationId ?? null, method: ex.request.method, url: `${url.pathname}${url.search}`, status: ex.status, client: ex.client, rule: v.requirement, level: levelOf(v.requirement), message: v.message };
      this.jsonlStream.write(`${JSON.stringify(record)}\n`);
    }
  }

  exitCode(failOn: FailOn): 0 | 1 {
    if (failOn === 'none') return 0;
    return this.counts.must > 0 || (failOn === 'should' && this.counts.should > 0) ? 1 : 0;
  }

  result(failOn: FailOn): RunResult {
    const { contract } = this.opts;
    const requirements = requirementResults(this.kept, RULES, { area: areaOf, level: levelOf });
    for (const r of requirements) r.notes.unshift(`${this.seen.length} exchanges judged (${this.outside} outside the contract's paths: URL and security-header rules only), ${this.violating} with a violation`);
    const { cells, undocumented } = coverageMatrix(contract, this.seen as Exchange[]);
    const summary = {
      pass: requirements.filter((r) => r.outcome === 'pass').length,
      fail: requirements.filter((r) => r.outcome === 'fail').length,
      warn: requirements.filter((r) => r.outcome === 'warn').length,
      skip: 0,
      mustFailed: requirements.filter((r) => r.outcome === 'fail' && r.level === 'MUST').length,
    };
    return {
      runId: this.runId,
      baseUrl: this.opts.baseUrl,
      startedAt: this.startedAt.toISOString(),
      durationMs: Date.now() - this.startedAt.getTime(),
      estimatedMs: 0,
      capabilities: { smtp: false, harness: false, clientIp: false },
      checks: [],
      requirements,
      exchanges: this.kept,
      coverage: cells,
      undocumented,
      unplanned429: 0,
      leftBehind: [],
      summary,
      exitCode: this.exitCode(failOn),
    };
  }

  /** Writes report.html, report.json, junit.xml (and traffic.har when every exchange was
   * kept) into the out dir; returns the paths. */
  async finish(failOn: FailOn): Promise<{ result: RunResult; files: string[] }> {
    const result = this.result(failOn);
    const files: string[] = [];
    const stream = this.jsonlStream;
    if (stream && !stream.writableEnded) await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    if (this.opts.outDir) {
      files.push(...(await writeReports(result, this.opts.outDir)));
      if (this.opts.keepAll) {
        const har = join(this.opts.outDir, 'traffic.har');
        writeFileSync(har, `${JSON.stringify(harLog(result), null, 1)}\n`);
        files.push(har);
      }
      files.push(this.jsonl!);
    }
    return { result, files };
  }

  /** The end-of-run lines: counts, coverage, where the files are. */
  summaryLines(result: RunResult, files: string[]): string[] {
    const exercised = result.coverage.filter((c) => c.exercised > 0).length;
    return [
      `${this.seen.length} exchanges judged, ${this.violating} with a violation (${this.counts.must} MUST, ${this.counts.should} SHOULD), ${this.outside} outside the contract's paths`,
      ...result.requirements.filter((r) => r.outcome !== 'pass').map((r) => `  ${r.outcome.toUpperCase()} ${r.id} [${r.level}] ${r.findings.length} finding(s)`),
      `Coverage: ${exercised}/${result.coverage.length} documented (operation, status) pairs seen`,
      ...(result.undocumented.length ? [`Undocumented answers: ${result.undocumented.join(', ')}`] : []),
      ...files.map((f) => `  wrote ${f}`),
    ];
  }
}
