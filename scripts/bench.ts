// `npm run bench`: the benchmark suite. Every server runs in its own child process (the compiled
// reference server, as `npm start` runs it; bare Koa as plain JavaScript), the load generator
// (autocannon) in this one; each scenario is a table row whose ratio compares it with a
// baseline measured in the same run — compare ratios, not absolute numbers, which depend on the
// machine and its load. Writes reports/bench.json and reports/bench.svg.
//
// Options: --duration <s> per measurement (default 5), --connections <n> (default 10),
// --rounds <n> (default 3: comparisons with bare Koa alternate baseline and subjects in n rounds
// of about duration/n seconds each and report the median per-round ratio with its range),
// --only <scenario ids, comma separated>, --out <dir> (default reports).
// PostgreSQL rows run when BENCH_DATABASE_URL or TEST_DATABASE_URL is set; the rate-limit store
// rows (scripts/bench-stores.ts) when one of them is set and redis-server is installed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startBare, type ServerProcess } from './bench/lib.ts';
import { markdownTable, svgChart } from './bench/report.ts';
import { scenarios, type BenchContext, type Row } from './bench/scenarios.ts';
// @ts-expect-error plain-JS module without types (npm start's build step)
import { buildIfStale } from './start.mjs';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' },
      only: { type: 'string' }, out: { type: 'string', default: 'reports' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  if (!(duration > 0) || !(connections > 0) || !(rounds >= 1)) throw new Error('--duration, --connections and --rounds must be positive numbers');
  // Comparisons with bare Koa run in interleaved rounds; together they last about --duration.
  const roundSeconds = Math.max(1, Math.round(duration / rounds));
  (buildIfStale as () => boolean)(); // the scenarios run the compiled server

  const tmp = mkdtempSync(path.join(tmpdir(), 'quazzar-bench-'));
  let bare: ServerProcess | undefined;
  const ctx: BenchContext = {
    duration, connections, tmp, rounds, roundSeconds,
    pgUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL,
    async bare() {
      if (bare === undefined) {
        bare = await startBare();
        bare.resetPeak();
      }
      return bare;
    },
    peakRss: {},
  };
  const only = values.only?.split(',');
  const rows: Row[] = [];
  const startedAt = new Date();
  try {
    for (const s of scenarios) {
      if (only !== undefined && !only.includes(s.id)) continue;
      process.stderr.write(`▶ ${s.title}\n`);
      rows.push(...(await s.run(ctx)));
    }
  } finally {
    await bare?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
  console.log(`\nnpm run bench — ${duration} s per measurement (comparisons with bare Koa: ${rounds} interleaved rounds of ${roundSeconds} s, median ratio and range), ${connections} connections, ${machine}\n`);
  console.log(markdownTable(rows));
  console.log('\nDetails:');
  for (const r of rows) console.log(`- ${r.id}: ${r.skipped ?? r.detail}`);

  const out = path.resolve(ROOT, values.out!);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'bench.json'), JSON.stringify({ startedAt: startedAt.toISOString(), duration, connections, machine, rows }, null, 2) + '\n');
  writeFileSync(path.join(out, 'bench.svg'), svgChart(rows, `npm run bench, ${startedAt.toISOString().slice(0, 16)}Z — ratio vs a baseline measured in the same run`));
  console.log(`\nwrote ${path.relative(ROOT, out)}/bench.json and bench.svg`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
