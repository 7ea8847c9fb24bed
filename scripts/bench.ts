// `npm run bench`: the benchmark suite. Every server runs in its own child process (the compiled
// reference server, as `npm start` runs it; bare Koa as plain JavaScript), the load generator
// (autocannon) in this one; each scenario is a table row whose ratio compares it with a
// baseline measured in the same run — compare ratios, not absolute numbers, which depend on the
// machine and its load. Writes reports/bench.json and reports/bench.svg.
//
// Options: --duration <s> per measurement (default 5), --connections <n> (default 10),
// --only <scenario ids, comma separated>, --out <dir> (default reports).
// PostgreSQL rows run when BENCH_DATABASE_URL or TEST_DATABASE_URL is set.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, measure, startBare, type Measured, type ServerProcess } from './bench/lib.ts';
import { markdownTable, svgChart } from './bench/report.ts';
import { scenarios, type BenchContext, type Row } from './bench/scenarios.ts';
// @ts-expect-error plain-JS module without types (npm start's build step)
import { buildIfStale } from './start.mjs';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' },
      only: { type: 'string' }, out: { type: 'string', default: 'reports' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  if (!(duration > 0) || !(connections > 0)) throw new Error('--duration and --connections must be positive numbers');
  (buildIfStale as () => boolean)(); // the scenarios run the compiled server

  const tmp = mkdtempSync(path.join(tmpdir(), 'quazzar-bench-'));
  let bare: { server: ServerProcess; result: Measured } | undefined;
  const ctx: BenchContext = {
    duration, connections, tmp,
    pgUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL,
    async bare() {
      if (bare === undefined) {
        const server = await startBare();
        server.resetPeak();
        bare = { server, result: await measure('bare Koa', { url: `${server.base}/users/me`, connections, duration }) };
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
    await bare?.server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
  console.log(`\nnpm run bench — ${duration} s per measurement, ${connections} connections, ${machine}\n`);
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
