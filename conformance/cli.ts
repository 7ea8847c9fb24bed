import { HELP, parseCli } from './cli-args.ts';
import { describeContract } from './framework/contract-version.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONTRACT, planRun, runConformance, selects } from './run.ts';

// `quazzar-conformance` / `npm run conformance -- …`. Exit 0 when no MUST requirement failed,
// 1 when one did, 2 on a usage error (or when the suite itself could not run).

// `quazzar-conformance --list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

async function main(): Promise<number> {
  // Subcommands over real traffic (conformance/proxy/): their own options and help.
  const [subcommand, ...rest] = process.argv.slice(2);
  if (subcommand === 'proxy') return (await import('./proxy/cli.ts')).proxyMain(rest);
  if (subcommand === 'check-har') return (await import('./proxy/cli.ts')).checkHarMain(rest);
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`quazzar-conformance: ${(error as Error).message}\nTry --help.`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(HELP(DEFAULT_CONTRACT));
    return 0;
  }
  if (parsed === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(`quazzar-conformance ${pkg.version}`);
    return 0;
  }
  if (parsed === 'list') {
    const { allChecks } = await import('./checks/index.ts');
    for (const c of allChecks) console.log(`${c.id.padEnd(12)} ${c.level.padEnd(6)} ${c.area.padEnd(15)} ${c.title}${c.needs?.length ? ` [needs ${c.needs.join(', ')}]` : ''}`);
    return 0;
  }
  if (parsed.only || parsed.skip) {
    const { allChecks } = await import('./checks/index.ts');
    const unknown = [...(parsed.only ?? []), ...(parsed.skip ?? [])].filter((x) => !allChecks.some((c) => selects(x, c)));
    if (unknown.length) {
      console.error(`quazzar-conformance: unknown area or requirement id: ${unknown.join(', ')}\nTry --list.`);
      return 2;
    }
  }
  if (parsed.profiles) {
    const { loadContract } = await import('./framework/contract.ts');
    const { profilesOf } = await import('./framework/profiles.ts');
    const names = profilesOf(loadContract(parsed.contractPath ?? DEFAULT_CONTRACT)).map((p) => p.name);
    const unknown = parsed.profiles.filter((p) => !names.includes(p.toLowerCase()));
    if (unknown.length) {
      console.error(`quazzar-conformance: unknown profile: ${unknown.join(', ')} (profiles: ${names.join(', ')})`);
      return 2;
    }
  }
  if (parsed.stateful) {
    // Model-based sequences instead of the checks (conformance/stateful/).
    const { runStateful, statefulPlan } = await import('./stateful/run.ts');
    if (parsed.dryRun) {
      for (const line of statefulPlan(parsed)) console.log(line);
      return 0;
    }
    try {
      return (await runStateful(parsed)).exitCode;
    } catch (error) {
      console.error(`quazzar-conformance --stateful: could not run: ${(error as Error).message ?? String(error)}`);
      return 2;
    }
  }
  if (parsed.dryRun) {
    for (const line of planRun(parsed)) console.log(line);
    return 0;
  }
  // Ctrl-C once: finish the current check, skip the rest, clean up and write the reports
  // (a run against a real deployment should not leave its sessions and keys behind).
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    console.error('\ninterrupted: finishing the current check, then cleaning up (Ctrl-C again to quit at once)');
    interrupt.abort();
  });
  console.log(`quazzar-conformance: checking against ${describeContract(parsed.contractPath ?? DEFAULT_CONTRACT)}`);
  try {
    const result = await runConformance({ ...parsed, interrupt: interrupt.signal });
    if (interrupt.signal.aborted) return 130;
    return result.exitCode;
  } catch (error) {
    console.error(`quazzar-conformance: the suite could not run: ${(error as Error).message ?? String(error)}`);
    return 2;
  }
}

process.exitCode = await main();
