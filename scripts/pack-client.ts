// `npm run pack:client`: packs the typed client (client/) alone as `quazzar-client-<v>.tgz`:
// ESM .js + .d.ts compiled by tsc (client/tsconfig.build.json), the generated contract types
// its declarations import (generated/api.d.ts), and openapi-fetch as its only dependency.
// Runs in Node 20+ and browsers. Checked by scripts/pack-client.test.ts (installed and
// type-checked in an empty folder).
import { execFileSync } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, packStaged, rootManifest } from './pack-helpers.ts';

/** What the client imports at run time (checked by scripts/pack-client.test.ts). */
export const CLIENT_RUNTIME_DEPENDENCIES = ['openapi-fetch'];
/** The client's runtime sources (the tsconfig's `include`), relative to the root. */
export const CLIENT_BUILD_CONFIG = 'client/tsconfig.build.json';

export function clientManifest(): Record<string, unknown> {
  const root = rootManifest();
  const dependencies = Object.fromEntries(
    CLIENT_RUNTIME_DEPENDENCIES.map((name) => {
      const range = root.dependencies[name] ?? root.devDependencies[name];
      if (range === undefined) throw new Error(`package.json has no dependency ${name}, which the client imports`);
      return [name, range];
    }),
  );
  return {
    name: 'quazzar-client',
    version: root.version,
    description: 'Typed client for the Quazzar Space authentication API (openapi-fetch over the contract types).',
    type: 'module',
    license: root.license,
    engines: { node: '>=20' },
    sideEffects: false,
    exports: { '.': { types: './client/index.d.ts', import: './client/index.js', default: './client/index.js' } },
    types: './client/index.d.ts',
    dependencies,
  };
}

/** Compiles the client into a fresh folder `outDir` (client/*.js, client/*.d.ts). */
export function compileClient(outDir: string): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, CLIENT_BUILD_CONFIG), '--outDir', outDir], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

export function packClient(outDir: string): string {
  return packStaged(
    {
      files: ['generated/api.d.ts'],
      manifest: clientManifest(),
      readme:
        '# quazzar-client\n\nA typed client for the Quazzar Space authentication API: ' +
        '`import { createQuazzarClient } from \'quazzar-client\'`. The guide is the section ' +
        '"For API consumers: the typed client" of the Quazzar auth toolkit README.\n',
      prepare: (stage) => compileClient(stage),
    },
    outDir,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } });
  const tarball = packClient(resolve(values.out!));
  console.log(`packed ${relative(process.cwd(), tarball)}`);
  console.log(`install it anywhere: npm i ${tarball}`);
}
