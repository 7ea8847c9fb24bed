// `npm run pack:conformance`: packs the conformance suite alone as `quazzar-conformance-<v>.tgz`,
// with only the dependencies the suite imports at run time, so an implementer's CI installs it
// in seconds (the toolkit's own tarball also carries the server's native SQLite driver, which
// compiles from source). The suite and the bundled contracts are copied as they are: nothing
// about the API is written here.
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, packStaged, rootManifest } from './pack-helpers.ts';

/** What the suite imports at run time (checked by scripts/pack-conformance.test.ts). */
export const RUNTIME_DEPENDENCIES = ['ajv', 'ajv-formats', 'fast-check', 'jsqr', 'mailparser', 'pngjs', 'smtp-server', 'tsx'];
/** The bundled contracts, and every released one (openapi/releases/<v>.json: `--contract 1.0.0`). */
const CONTRACTS = [
  'generated/openapi.json',
  'generated/harness.json',
  ...readdirSync(join(ROOT, 'openapi/releases')).filter((f) => /^\d+\.\d+\.\d+\.json$/u.test(f)).map((f) => `openapi/releases/${f}`),
];

/** The suite's files: everything under conformance/ but its own tests and self-tests, with the
 * data it reads at run time (conformance/requirements/security.json). */
export function suiteFiles(dir = join(ROOT, 'conformance')): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'selftest') files.push(...suiteFiles(path));
    } else if ((entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) || entry.name.endsWith('.json') || entry.name === 'bin.js') {
      files.push(relative(ROOT, path));
    }
  }
  return files.sort();
}

export function conformanceManifest(): Record<string, unknown> {
  const root = rootManifest();
  const dependencies = Object.fromEntries(
    RUNTIME_DEPENDENCIES.map((name) => {
      const range = root.dependencies[name];
      if (range === undefined) throw new Error(`package.json has no dependency ${name}, which the suite imports`);
      return [name, range];
    }),
  );
  return {
    name: 'quazzar-conformance',
    version: root.version,
    description: 'Conformance suite for the Quazzar Space authentication API: proves any deployment against the contract.',
    type: 'module',
    license: root.license,
    engines: root.engines,
    bin: { 'quazzar-conformance': 'conformance/bin.js' },
    dependencies,
  };
}

/** Stages the package in a temporary folder and packs it into `outDir`; returns the tarball path. */
export function packConformance(outDir: string): string {
  return packStaged(
    {
      files: [...suiteFiles(), ...CONTRACTS],
      manifest: conformanceManifest(),
      readme:
        '# quazzar-conformance\n\nRun `npx quazzar-conformance --help`. The full guide is the section ' +
        '"Run the conformance suite against your deployment" of the Quazzar auth toolkit README.\n',
    },
    outDir,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } });
  const tarball = packConformance(resolve(values.out!));
  console.log(`packed ${relative(process.cwd(), tarball)} (${suiteFiles().length} suite files + ${CONTRACTS.length} contracts)`);
  console.log(`install it anywhere: npm i -D ${tarball} && npx quazzar-conformance --help`);
}
