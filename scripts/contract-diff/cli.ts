// `npm run contract:diff -- [--base <git-ref> | --base-file <path>] [--format table|markdown|json]`
// Compares the contract at the base (default: the merge base with main) with the working tree's
// openapi/, classifies every change, and exits 1 on a breaking change unless info.version's
// major was raised (README "Changing the contract safely"). Exit 2 on a usage error.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleAtRef, bundleFile, bundleWorkingTree, defaultBaseRef } from './bundle.ts';
import { diffContracts } from './diff.ts';
import { formatJson, formatMarkdown, formatTable } from './format.ts';

const USAGE = `usage: npm run contract:diff -- [--base <git-ref> | --base-file <bundled.json|root.yaml>] [--format table|markdown|json]
  --base REF        compare with openapi/ at this git ref (default: the merge base with main)
  --base-file PATH  compare with this file (a bundled contract, e.g. openapi/releases/1.0.0.json)
  --head-file PATH  the other side (default: the working tree's openapi/)
  --format F        table (default), markdown (a pull-request comment) or json
Exit status: 0 no breaking change (or info.version's major raised), 1 breaking change, 2 usage error.`;

export async function main(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        base: { type: 'string' },
        'base-file': { type: 'string' },
        'head-file': { type: 'string' },
        format: { type: 'string', default: 'table' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    write(`${USAGE}\n`);
    return 0;
  }
  const format = values.format!;
  if (!['table', 'markdown', 'json'].includes(format) || (values.base && values['base-file'])) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let label: string;
  let before;
  try {
    if (values['base-file']) {
      label = values['base-file'];
      before = await bundleFile(values['base-file']);
    } else {
      const ref = values.base ?? defaultBaseRef();
      label = values.base ?? `merge-base ${ref.slice(0, 10)}`;
      before = await bundleAtRef(ref);
    }
  } catch (error) {
    process.stderr.write(`contract:diff: ${(error as Error).message}\n`);
    return 2;
  }
  const after = values['head-file'] ? await bundleFile(values['head-file']) : await bundleWorkingTree();
  const result = diffContracts(before, after);
  write(format === 'json' ? formatJson(result, label) : format === 'markdown' ? formatMarkdown(result, label) : formatTable(result, label));
  return result.verdict.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
