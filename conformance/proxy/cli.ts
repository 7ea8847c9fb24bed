import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadContract } from '../framework/contract.ts';
import { describeContract, resolveContract } from '../framework/contract-version.ts';
import { DEFAULT_CONTRACT } from '../run.ts';
import { readHar } from './har-read.ts';
import { startValidatingProxy } from './server.ts';
import { Traffic, type FailOn } from './traffic.ts';

// `quazzar-conformance proxy …` and `quazzar-conformance check-har FILE …`. Exit 0 when the
// `--fail-on` level found nothing, 1 when it did, 2 on a usage error.

export const PROXY_HELP = `quazzar-conformance proxy — a validating reverse proxy: real traffic checked against the contract

  quazzar-conformance proxy --target URL --listen PORT [options]

  --target URL              the deployment the traffic goes to (http or https)
  --listen PORT             the port to listen on (127.0.0.1 unless --host)
  --host ADDRESS            the address to listen on (0.0.0.0: every interface)
  --contract PATH|VERSION   the bundled OpenAPI document, or a released version (default: generated/openapi.json)
  --out DIR                 violations.jsonl and, on exit, report.html, report.json, junit.xml (default: conformance-proxy)
  --har                     also keep every exchange and write DIR/traffic.har on exit (memory grows with the traffic)
  --fail-on must|should|none  exit 1 when a violation of that level was seen (default: must)
  --client-ip-header NAME   send the client's address in NAME (when the request lacks it), as a trusted proxy would
  --body-cap BYTES          bytes of each body kept for judging (default 262144); larger bodies: headers only
  --duration SECONDS        stop after this long (default: until SIGINT or SIGTERM)
  --max-exchanges N         stop after N exchanges

Every exchange is forwarded unchanged (the Host header names the target) and judged after its
answer was sent; each violation prints one line and is appended to DIR/violations.jsonl.
Secrets (Authorization, passwords, tokens, codes, keys) are masked in every line and file.`;

export const CHECK_HAR_HELP = `quazzar-conformance check-har — the proxy's rules over a recorded HTTP Archive

  quazzar-conformance check-har FILE [--contract PATH|VERSION] [--out DIR] [--fail-on must|should|none] [--origin URL]…

  FILE            a HAR 1.2: a browser's export, the suite's --har, or the proxy's traffic.har
  --origin URL    the API's origin (repeatable); default: every origin that answered a contract operation
  --out DIR       violations.jsonl, report.html, report.json, junit.xml (default: none written)
  --fail-on       exit 1 when a violation of that level was found (default: must)`;

const FAIL_ON = ['must', 'should', 'none'];

function contractOf(value: string | undefined): string {
  return value ? resolveContract(value) : DEFAULT_CONTRACT;
}

function failOnOf(value: string | undefined): FailOn {
  const v = (value ?? 'must').toLowerCase();
  if (!FAIL_ON.includes(v)) throw new Error(`--fail-on must be one of ${FAIL_ON.join(', ')} (got ${JSON.stringify(value)})`);
  return v as FailOn;
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/u.test(value) || Number(value) <= 0) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

export async function proxyMain(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  let o: {
    target: URL;
    port: number;
    host?: string;
    contractPath: string;
    out: string;
    har: boolean;
    failOn: FailOn;
    clientIpHeader?: string;
    bodyCap?: number;
    duration?: number;
    maxExchanges?: number;
  };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' },
        listen: { type: 'string' },
        host: { type: 'string' },
        contract: { type: 'string' },
        out: { type: 'string' },
        har: { type: 'boolean' },
        'fail-on': { type: 'string' },
        'client-ip-header': { type: 'string' },
        'body-cap': { type: 'string' },
        duration: { type: 'string' },
        'max-exchanges': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      log(PROXY_HELP);
      return 0;
    }
    if (!values.target) throw new Error('--target URL is required (the deployment to forward to)');
    if (values.listen === undefined) throw new Error('--listen PORT is required');
    const target = new URL(values.target);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`--target must be an http or https URL (got ${values.target})`);
    const port = Number(values.listen);
    if (!/^\d+$/u.test(values.listen) || port > 65535) throw new Error(`--listen must be a port number (got ${JSON.stringify(values.listen)})`);
    o = {
      target,
      port,
      ...(values.host ? { host: values.host } : {}),
      contractPath: contractOf(values.contract),
      out: values.out ?? 'conformance-proxy',
      har: values.har ?? false,
      failOn: failOnOf(values['fail-on']),
      ...(values['client-ip-header'] ? { clientIpHeader: values['client-ip-header'] } : {}),
      ...(values['body-cap'] ? { bodyCap: positiveInt('--body-cap', values['body-cap'])! } : {}),
      ...(values.duration ? { duration: positiveInt('--duration', values.duration)! } : {}),
      ...(values['max-exchanges'] ? { maxExchanges: positiveInt('--max-exchanges', values['max-exchanges'])! } : {}),
    };
  } catch (error) {
    console.error(`quazzar-conformance proxy: ${(error as Error).message}\nTry proxy --help.`);
    return 2;
  }

  const contract = loadContract(o.contractPath);
  const traffic = new Traffic({ contract, outDir: o.out, keepAll: o.har, log, baseUrl: o.target.origin, source: 'proxy' });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let proxy;
  try {
    proxy = await startValidatingProxy({
      target: o.target.href,
      port: o.port,
      ...(o.host ? { host: o.host } : {}),
      traffic,
      ...(o.clientIpHeader ? { clientIpHeader: o.clientIpHeader } : {}),
      ...(o.bodyCap ? { bodyCap: o.bodyCap } : {}),
      onExchange: () => {
        if (o.maxExchanges !== undefined && traffic.exchangeCount >= o.maxExchanges) stop();
      },
    });
  } catch (error) {
    console.error(`quazzar-conformance proxy: cannot listen on port ${o.port}: ${(error as Error).message}`);
    return 2;
  }
  log(`quazzar-conformance proxy: ${proxy.url} → ${o.target.origin}, checking against ${describeContract(o.contractPath)}; violations in ${o.out}/violations.jsonl (Ctrl-C to stop and write the report)`);
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = o.duration ? setTimeout(stop, o.duration * 1000) : undefined;
  await stopped;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await proxy.close();
  // Exchanges whose judging was queued when the proxy closed.
  await new Promise((resolve) => setImmediate(resolve));
  const { result, files } = await traffic.finish(o.failOn);
  for (const line of traffic.summaryLines(result, files)) log(line);
  return result.exitCode;
}

export async function checkHarMain(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  let file: string;
  let contractPath: string;
  let out: string | undefined;
  let failOn: FailOn;
  let origins: string[] | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        contract: { type: 'string' },
        out: { type: 'string' },
        'fail-on': { type: 'string' },
        origin: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      log(CHECK_HAR_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new Error('one HAR file is required');
    file = positionals[0]!;
    contractPath = contractOf(values.contract);
    out = values.out;
    failOn = failOnOf(values['fail-on']);
    origins = values.origin;
  } catch (error) {
    console.error(`quazzar-conformance check-har: ${(error as Error).message}\nTry check-har --help.`);
    return 2;
  }
  const contract = loadContract(contractPath);
  let har;
  try {
    har = readHar(JSON.parse(readFileSync(file, 'utf8')), contract, origins);
  } catch (error) {
    console.error(`quazzar-conformance check-har: cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  log(`quazzar-conformance check-har: ${har.exchanges.length} exchanges of ${har.origins.join(', ') || 'no API origin'}${har.ignored ? ` (${har.ignored} of other origins ignored)` : ''}, checking against ${describeContract(contractPath)}`);
  const traffic = new Traffic({ contract, ...(out ? { outDir: out } : {}), log, baseUrl: har.origins.join(', ') || file, source: 'har' });
  har.exchanges.forEach((ex, i) => traffic.add(ex, { masked: har.masked, truncated: har.bodyMissing[i]! }));
  const { result, files } = await traffic.finish(failOn);
  for (const line of traffic.summaryLines(result, files)) log(line);
  return result.exitCode;
}
