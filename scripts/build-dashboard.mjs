// Builds the dashboard (issue 18): dashboard/src/main.ts and the typed client it imports are
// bundled by esbuild into one script, dashboard/styles.css into one style sheet, and
// dashboard/index.html is written with both addressed by a digest of their bytes — three files
// in dist/dashboard/, so a page load fits the static budget. No network: esbuild is local.
// Plain JavaScript so that `npm start` runs it without a TypeScript loader.
//   node scripts/build-dashboard.mjs             build
//   node scripts/build-dashboard.mjs --if-stale  build only when an input is newer than the output
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT_DIR = path.join(root, 'dist', 'dashboard');
const INPUTS = ['dashboard', 'client', 'generated/api.d.ts', 'package.json'];

function newestInput() {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else if (!/\.test\.ts$/.test(p)) newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of INPUTS) {
    const full = path.join(root, p);
    if (existsSync(full)) visit(full);
  }
  return newest;
}

export function dashboardIsStale(outDir = DEFAULT_OUT_DIR) {
  const page = path.join(outDir, 'index.html');
  return !existsSync(page) || statSync(page).mtimeMs < newestInput();
}

const digest = (bytes) => createHash('sha256').update(bytes).digest('base64url').slice(0, 16);

/** Builds into outDir (created); returns the sizes written, in bytes. */
export async function buildDashboard(outDir = DEFAULT_OUT_DIR) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'dashboard/src/main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const js = Buffer.from(result.outputFiles[0].contents);
  const css = readFileSync(path.join(root, 'dashboard/styles.css'));
  const html = readFileSync(path.join(root, 'dashboard/index.html'), 'utf8')
    .replace('{{APP_JS}}', `app.js?v=${digest(js)}`)
    .replace('{{APP_CSS}}', `app.css?v=${digest(css)}`);
  mkdirSync(outDir, { recursive: true });
  // Each file is written whole then renamed: a running server never reads half a file.
  const put = (name, bytes) => {
    const tmp = path.join(outDir, `.${name}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, path.join(outDir, name));
  };
  put('app.js', js);
  put('app.css', css);
  put('index.html', html); // last: its mtime marks the build as fresh
  return { 'app.js': js.length, 'app.css': css.length, 'index.html': Buffer.byteLength(html) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // An API-only deployment (DASHBOARD=false) serves no dashboard, so `npm start` builds none.
  const off = ['false', '0', 'no'].includes((process.env.DASHBOARD ?? '').trim().toLowerCase());
  if (process.argv.includes('--if-stale') && (off || !dashboardIsStale())) process.exit(0);
  process.stderr.write('building the dashboard (dist/dashboard/)…\n');
  try {
    const sizes = await buildDashboard();
    process.stderr.write(`dashboard built: ${Object.entries(sizes).map(([n, s]) => `${n} ${s} B`).join(', ')}\n`);
  } catch (err) {
    process.stderr.write(`the dashboard build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
