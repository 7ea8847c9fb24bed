// `npm run bench:proxy`: the latency the validating proxy (`quazzar-conformance proxy`) adds.
// The compiled reference server (as `npm start` runs it, limits multiplied for load) and the
// proxy each run in their own child process; this process sends an open-loop load at a fixed
// rate (default 500 req/s, `GET /users/me` with a session token: routing, auth, a database
// read) alternately straight to the server and through the proxy, in interleaved rounds, and
// reports the median latency of each and their difference, measured in the same run.
//
// Options: --rate <req/s> (default 500), --seconds <s> per round (default 4), --rounds <n>
// (default 3), --out <dir> (default reports: writes bench-proxy.json).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, freePort, median, ROOT, startReference } from './bench/lib.ts';
// @ts-expect-error plain-JS module without types (npm start's build step)
import { buildIfStale } from './start.mjs';

/** What scripts/bench/lib.ts startReference sets (RATE_LIMIT_MULTIPLIER). */
const RATE_LIMIT_MULTIPLIER = 1_000_000;

interface Round {
  latenciesMs: number[];
  errors: number;
  non200: number;
}

/** Sends `rate` requests per second for `seconds` (open loop: a slow answer does not delay the next request). */
async function openLoop(base: string, token: string, rate: number, seconds: number, agent: Agent): Promise<Round> {
  const url = new URL('/users/me', base);
  const total = Math.round(rate * seconds);
  const round: Round = { latenciesMs: [], errors: 0, non200: 0 };
  let sent = 0;
  let done = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const fire = (): void => {
      const t0 = performance.now();
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer ${token}` }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          round.latenciesMs.push(performance.now() - t0);
          if (res.statusCode !== 200) round.non200 += 1;
          if (++done === total) resolve();
        });
      });
      req.on('error', () => {
        round.errors += 1;
        if (++done === total) resolve();
      });
      req.end();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        sent += 1;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return round;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' }, out: { type: 'string', default: 'reports' } },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(rate > 0) || !(seconds > 0) || !(rounds >= 1)) throw new Error('--rate, --seconds and --rounds must be positive numbers');
  (buildIfStale as () => boolean)();
  const tmp = mkdtempSync(path.join(tmpdir(), 'quazzar-bench-proxy-'));
  const ref = await startReference('reference', { databaseUrl: `sqlite:${path.join(tmp, 'db.sqlite')}`, outbox: path.join(tmp, 'outbox') });
  const port = await freePort();
  const proxyOut = path.join(tmp, 'proxy');
  // The server runs with RATE_LIMIT_MULTIPLIER (load): the proxy judges it against the contract
  // with the same multiplied budgets, so the bench measures the path of traffic that conforms.
  const contract = JSON.parse(readFileSync(path.join(ROOT, 'generated/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, Record<string, { limit?: number } | undefined>>> };
  for (const item of Object.values(contract.paths)) {
    for (const op of Object.values(item)) for (const ext of ['x-rate-limit', 'x-rate-limit-failures']) if (op?.[ext]?.limit) op[ext].limit *= RATE_LIMIT_MULTIPLIER;
  }
  const contractPath = path.join(tmp, 'openapi-multiplied.json');
  writeFileSync(contractPath, JSON.stringify(contract));
  const proxy = spawn(process.execPath, ['--import', 'tsx', 'conformance/cli.ts', 'proxy', '--target', ref.base, '--listen', String(port), '--out', proxyOut, '--fail-on', 'none', '--contract', contractPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let proxyLog = '';
  proxy.stdout.on('data', (d: Buffer) => (proxyLog += d.toString()));
  const proxied = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (/proxy: http/u.test(proxyLog)) break;
      if (i > 600) throw new Error(`the proxy did not start: ${proxyLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { token } = await credentials(ref.base);
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    // Warm-up (JIT, connections, the proxy's compiled schemas), not measured.
    await openLoop(ref.base, token, rate, 1, agent);
    await openLoop(proxied, token, rate, 1, agent);
    const direct: Round[] = [];
    const through: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so a drift of the machine's load does not favour one.
      if (r % 2 === 0) {
        direct.push(await openLoop(ref.base, token, rate, seconds, agent));
        through.push(await openLoop(proxied, token, rate, seconds, agent));
      } else {
        through.push(await openLoop(proxied, token, rate, seconds, agent));
        direct.push(await openLoop(ref.base, token, rate, seconds, agent));
      }
      process.stderr.write(`round ${r + 1}/${rounds}: direct p50 ${quantile(direct[r]!.latenciesMs, 0.5).toFixed(3)} ms, through the proxy p50 ${quantile(through[r]!.latenciesMs, 0.5).toFixed(3)} ms\n`);
    }
    agent.destroy();
    const all = (rs: Round[]): number[] => rs.flatMap((r) => r.latenciesMs);
    const d = all(direct);
    const t = all(through);
    const perRound = direct.map((r, i) => quantile(through[i]!.latenciesMs, 0.5) - quantile(r.latenciesMs, 0.5));
    const result = {
      rate,
      secondsPerRound: seconds,
      rounds,
      machine: `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`,
      direct: { requests: d.length, p50Ms: quantile(d, 0.5), p99Ms: quantile(d, 0.99), errors: direct.reduce((n, r) => n + r.errors, 0), non200: direct.reduce((n, r) => n + r.non200, 0) },
      proxied: { requests: t.length, p50Ms: quantile(t, 0.5), p99Ms: quantile(t, 0.99), errors: through.reduce((n, r) => n + r.errors, 0), non200: through.reduce((n, r) => n + r.non200, 0) },
      addedP50Ms: quantile(t, 0.5) - quantile(d, 0.5),
      addedP50MsPerRound: perRound,
      addedP50MsMedianOfRounds: median(perRound),
      targetMs: 1,
    };
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
    const judged = /(\d+) exchanges judged, (\d+) with a violation/u.exec(proxyLog);
    console.log(`\nnpm run bench:proxy — ${rate} req/s open loop, GET /users/me, ${rounds} interleaved rounds of ${seconds} s, ${result.machine}\n`);
    console.log('| path | requests | p50 ms | p99 ms | errors | non-200 |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, m] of [['direct', result.direct], ['through the proxy', result.proxied]] as const) {
      console.log(`| ${name} | ${m.requests} | ${m.p50Ms.toFixed(3)} | ${m.p99Ms.toFixed(3)} | ${m.errors} | ${m.non200} |`);
    }
    console.log(`\nadded at the median: ${result.addedP50Ms.toFixed(3)} ms (per round: ${perRound.map((x) => x.toFixed(3)).join(', ')}; target under ${result.targetMs} ms)`);
    if (judged) console.log(`the proxy judged ${judged[1]} exchanges, ${judged[2]} with a violation`);
    const out = path.resolve(ROOT, values.out!);
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'bench-proxy.json'), `${JSON.stringify({ startedAt: new Date().toISOString(), ...result, proxyJudged: judged ? Number(judged[1]) : null, proxyViolating: judged ? Number(judged[2]) : null }, null, 2)}\n`);
    console.log(`wrote ${path.relative(ROOT, out)}/bench-proxy.json`);
  } finally {
    if (proxy.exitCode === null) proxy.kill('SIGTERM');
    await ref.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
