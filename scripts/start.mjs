// `npm start`: run the compiled server (dist/server/), building it first when it is missing or
// older than any source file. Plain JavaScript on purpose: no TypeScript loader at run time.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist/server/.tsbuildinfo');
const entry = path.join(root, 'dist/server/src/server.js');

/** Newest modification time among the inputs of the build. */
function newestInput() {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else if (/\.(ts|json)$/.test(p)) newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'generated', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    const full = path.join(root, p);
    if (existsSync(full)) visit(full);
  }
  return newest;
}

export function buildIfStale() {
  const stale = !existsSync(entry) || !existsSync(stamp) || statSync(stamp).mtimeMs < newestInput();
  if (!stale) return false;
  process.stderr.write('building the server (npm run build)…\n');
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    process.stderr.write('the build failed: fix the errors above (npx tsc -p tsconfig.build.json), then npm start again\n');
    process.exit(r.status ?? 1);
  }
  // An incremental build with nothing to emit leaves its .tsbuildinfo untouched: mark it fresh.
  const now = new Date();
  utimesSync(stamp, now, now);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildIfStale();
  if (!process.argv.includes('--build-only')) await import(pathToFileURL(entry).href);
}
