// `npm run docs`: builds the docs site into dist/docs/ from the bundled contracts —
// generated/openapi.json → index.html and generated/harness.json → harness.html — with Redoc
// (redocly build-docs --inlineBundle), so each page is one self-contained HTML file: no CDN.
// `--if-missing` (npm prestart) skips the build when the pages are newer than the contracts.
//
// Every page is rendered into SITE_TEMPLATE: a bar of links between the pages (API reference,
// Conformance harness, Changes) above Redoc, and the page's Content-Security-Policy.
//
// Rate limits must be visible to a reader, not only in `x-rate-limit`: the operation
// descriptions state them (the contract's job, checked by quazzar/rate-limit-documented), and
// this script adds an overview table generated from the `x-rate-limit` fields of an in-memory
// copy of the contract. The numbers come from the contract, never from this file. The same
// copy gets an "Operations" table (operationId, method, path, summary): Redoc prerenders the
// description into the HTML but renders an operation only once a reader opens it, so this
// table is what a reader sees of the operations before the 2 MB of script has run.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const redoclyCli = path.join(projectRoot, 'node_modules/@redocly/cli/bin/cli.js');

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface RateLimit {
  policy: string;
  limit: number;
  window_seconds: number;
  key: 'ip' | 'token' | 'account';
}
export interface OperationObject {
  operationId?: string;
  summary?: string;
  tags?: string[];
  responses?: Record<string, unknown>;
  'x-rate-limit'?: RateLimit;
  'x-rate-limit-failures'?: RateLimit;
}
export interface OpenApiDocument {
  info: { title: string; description?: string; [key: string]: unknown };
  paths?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}
export interface OperationEntry {
  method: string;
  path: string;
  operation: OperationObject;
}

/** The documents to publish: the API itself, and the optional conformance harness. */
export const PAGES = [
  { source: 'generated/openapi.json', output: 'index.html', label: 'API reference' },
  { source: 'generated/harness.json', output: 'harness.html', label: 'Conformance harness' },
] as const;

/** The "Changes" page: the changelog rendered by Redoc as the description of an
 * operation-less document, so it looks like the rest of the site. Its text is what
 * `npm run contract:release` writes to CHANGELOG.md (renderChangelog), rendered at build time
 * from the snapshots in openapi/releases/ and the contract being published, so its
 * "Unreleased" section is never older than the contract (CHANGELOG.md's is as old as the last
 * release). Stacked layout: with no operations, Redoc's right column (request samples) would
 * stay empty and squeeze the change tables into the middle 40 % of the screen. */
export const CHANGES_PAGE = { source: 'openapi/releases/', output: 'changes.html', label: 'Changes' } as const;

/** Every page of the site, in the order of the link bar. */
export const SITE = [...PAGES, CHANGES_PAGE] as const;
type SiteFile = (typeof SITE)[number]['output'];

/** The document the Changes page is built from: the changelog as its description. */
export function changesDocument(changelog: string, version: string): OpenApiDocument {
  const body = changelog.replace(/^# [^\n]*\n/u, '').trim();
  return {
    openapi: '3.1.0',
    info: { title: 'Quazzar Space API — contract changes', version, description: body },
    paths: {},
  };
}

/**
 * The Changes page's document for the contract being published (generated/openapi.json).
 * Imported when needed: the contract-diff code loads dev dependencies (@redocly/openapi-core),
 * and `npm start`'s `--if-missing` check must not.
 */
export async function changesPageDocument(current: OpenApiDocument): Promise<OpenApiDocument> {
  const { renderChangelog } = await import('./contract-diff/release.ts');
  return changesDocument(renderChangelog(current), String(current.info['version'] ?? ''));
}

/** The released snapshots, openapi/releases/<version>.json. */
function releaseFiles(): string[] {
  const dir = path.join(projectRoot, CHANGES_PAGE.source);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^\d+\.\d+\.\d+\.json$/u.test(name))
    .map((name) => path.join(dir, name));
}

/** The files a page is built from: it is stale when any of them is newer. */
export function pageSources(page: (typeof SITE)[number]): string[] {
  if (page.output !== CHANGES_PAGE.output) return [path.join(projectRoot, page.source)];
  return [path.join(projectRoot, PAGES[0].source), ...releaseFiles()];
}

/**
 * Forbids every fetch but inline code, inline styles and data: images, so the page cannot
 * reach a CDN (Redoc's footer otherwise loads a logo from cdn.redoc.ly: see REDOC_LOGOS).
 */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'";

/** Height of the link bar; Redoc's sticky sidebar starts below it (its --navbar-height). */
const NAV_HEIGHT = 40;

/**
 * The page around Redoc's output (`redocly build-docs --template`; {{title}}, {{{redocHead}}}
 * and {{{redocHTML}}} are filled in by Redocly): a link bar to every page of the site, the
 * current one marked. The links are relative, so they work from dist/docs/ on disk and under
 * /docs/ on a server; the reference server also serves index.html at `/docs` (no slash),
 * where `changes.html` would resolve to `/changes.html`, so a one-line script first gives the
 * address its slash (history.replaceState: no reload, the #fragment Redoc routes by is kept).
 */
export function siteTemplate(current: SiteFile): string {
  const links = SITE.map(
    (page) => `<a href="${page.output}"${page.output === current ? ' aria-current="page"' : ''}>${page.label}</a>`,
  ).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">

<head>
  <meta charset="utf-8" />
  <title>{{title}}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <script>if (!/(\\/|\\.html)$/.test(location.pathname)) history.replaceState(null, '', location.pathname + '/' + location.search + location.hash);</script>
  <style>
    body { padding: 0; margin: 0; }
    .site-nav { position: sticky; top: 0; z-index: 1000; box-sizing: border-box; height: ${NAV_HEIGHT}px; display: flex; align-items: center; gap: 20px; padding: 0 16px; overflow-x: auto; white-space: nowrap; background: #0b1d3a; font: 14px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .site-nav a { color: #fff; text-decoration: none; padding: 4px 0; }
    .site-nav a:hover, .site-nav a:focus-visible { text-decoration: underline; }
    .site-nav a[aria-current="page"] { font-weight: 700; box-shadow: inset 0 -2px 0 #fff; }
    @media (max-width: 480px) { .site-nav { gap: 14px; padding: 0 12px; font-size: 13px; } }
    /* the badge's "Redoc" image (REDOC_LOGOS) is dark blue: lighter on Redoc's dark theme */
    html.dark a[href^="https://redocly.com/redoc"] img { filter: brightness(2.5); }
    /* Redoc lays its sticky sidebar out below a navbar of this height (inline 0px otherwise) */
    #redoc > [style*="--navbar-height"] { --navbar-height: ${NAV_HEIGHT}px !important; --navbar-stack-height: ${NAV_HEIGHT}px !important; }${current === CHANGES_PAGE.output ? `
    /* no operations, so no samples column: the two/three-column switch would only squeeze the tables back */
    [data-component-name="Sidebar/SidebarActions"] > span { display: none; }` : ''}
  </style>
  {{{redocHead}}}
</head>

<body>
  <nav class="site-nav" aria-label="Documentation pages">
    ${links}
  </nav>
  {{{redocHTML}}}
</body>

</html>
`;
}

/**
 * Redoc's "API docs by" badge shows a logo it loads from cdn.redoc.ly, which the CSP blocks (a
 * console error on every page and an empty badge). The inlined bundle's two logo addresses are
 * replaced by data: images of the word "Redoc" (the badge still links to redocly.com/redoc).
 */
const wordmark = (text: string, width: number): string =>
  'data:image/svg+xml,' +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="14" viewBox="0 0 ${width} 14">` +
      `<text x="0" y="11.5" textLength="${width}" lengthAdjust="spacingAndGlyphs" font-family="system-ui,sans-serif" font-size="13" font-weight="700" fill="#0044d4">${text}</text></svg>`,
  );
export const REDOC_LOGOS: Record<string, string> = {
  'https://cdn.redoc.ly/redoc/logo-mini-full.svg': wordmark('Redoc', 40),
  'https://cdn.redoc.ly/redoc/logo-mini.svg': wordmark('R', 10),
};

export function listOperations(doc: OpenApiDocument): OperationEntry[] {
  const entries: OperationEntry[] = [];
  for (const [pathName, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation && typeof operation === 'object') entries.push({ method, path: pathName, operation: operation as OperationObject });
    }
  }
  return entries;
}

const KEY_WORDS: Record<RateLimit['key'], string> = {
  ip: 'client IP',
  token: 'session or API key',
  account: 'account',
};

/** "10 requests per 60 seconds per client IP (policy `login`)" */
function describeLimit(limit: RateLimit, what = 'requests'): string {
  return `${limit.limit} ${what} per ${limit.window_seconds} seconds per ${KEY_WORDS[limit.key] ?? limit.key} (policy \`${limit.policy}\`)`;
}

/**
 * A Markdown table, one row per operation, read from `x-rate-limit(-failures)`. Two columns
 * only: Redoc's middle panel is narrow.
 */
export function rateLimitOverview(doc: OpenApiDocument): string {
  const rows: string[] = [];
  for (const { method, path: pathName, operation } of listOperations(doc)) {
    const limit = operation['x-rate-limit'];
    const failures = operation['x-rate-limit-failures'];
    if (!limit && !failures) continue;
    const name = operation.operationId ?? '';
    const budgets = [
      limit ? describeLimit(limit) : undefined,
      failures ? describeLimit(failures, 'failed attempts') : undefined,
    ].filter(Boolean);
    rows.push(`| **${name}** ${method.toUpperCase()} ${pathName} | ${budgets.join('; ')} |`);
  }
  if (rows.length === 0) return '';
  return [
    '## Rate limits by operation',
    '',
    'Generated from each operation\'s `x-rate-limit` (and `x-rate-limit-failures`). Operations naming the same',
    'policy share one budget per key. Over the limit the API answers `429` with `Retry-After`, `RateLimit-Policy`',
    'and `RateLimit` headers.',
    '',
    '| Operation | Requests allowed |',
    '|---|---|',
    ...rows,
  ].join('\n');
}

/** Redoc's route to an operation's section, `/<tag>/<operationId>` (lower case, spaces to dashes). */
export function operationRoute(operation: OperationObject): string | undefined {
  const tag = operation.tags?.[0];
  if (!tag || !operation.operationId) return undefined;
  const slug = (name: string): string => name.trim().toLowerCase().replace(/\s+/g, '-');
  return `/${slug(tag)}/${slug(operation.operationId)}`;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/**
 * A Markdown table, one row per operation in the contract's order: its operationId, method,
 * path and summary. Part of the prerendered HTML, so the first paint lists the operations.
 */
export function operationsOverview(doc: OpenApiDocument): string {
  const rows = listOperations(doc).map(({ method, path: pathName, operation }) => {
    const name = `**${operation.operationId ?? ''}**`;
    const route = operationRoute(operation);
    return `| ${route ? `[${name}](#${route})` : name} ${method.toUpperCase()} ${pathName} | ${cell(operation.summary ?? '')} |`;
  });
  if (rows.length === 0) return '';
  return [
    '## Operations',
    '',
    'Generated from the contract: every operation, in the order of the menu\'s groups. Follow its name for its',
    'parameters, responses and examples.',
    '',
    '| Operation | Summary |',
    '|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * A copy of the contract whose `info.description` ends with the generated overviews: the
 * operations, then their rate limits.
 */
export function withOverviews(doc: OpenApiDocument): OpenApiDocument {
  const overviews = [operationsOverview(doc), rateLimitOverview(doc)].filter(Boolean);
  if (overviews.length === 0) return doc;
  const description = [doc.info.description?.trimEnd(), ...overviews].filter(Boolean).join('\n\n');
  return { ...doc, info: { ...doc.info, description } };
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [redoclyCli, ...args],
      { cwd: projectRoot, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }, maxBuffer: 32 << 20 },
      (error, stdout, stderr) => (error ? reject(new Error(`redocly ${args[0]} failed: ${stderr || error.message}`)) : resolve(stdout)),
    );
  });
}

/**
 * Makes the built page provably offline: a CSP, no external script or stylesheet, and Redoc's
 * badge logos as data: images (REDOC_LOGOS).
 */
export function hardenPage(html: string, file: string): string {
  const external = html.match(/<(script|link)\b[^>]*\b(src|href)=["']?(https?:)?\/\//i);
  if (external) throw new Error(`${file} loads an external resource (${external[0]}): the docs must be self-contained`);
  for (const [url, image] of Object.entries(REDOC_LOGOS)) html = html.split(url).join(image);
  const cdn = html.match(/https:\/\/cdn\.redoc\.ly\/[^"'`\s]*/);
  if (cdn) throw new Error(`${file} still refers to ${cdn[0]} (blocked by the CSP): add it to REDOC_LOGOS in scripts/docs.ts`);
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
  if (!/<head>/i.test(html)) throw new Error(`${file} has no <head> to put the Content-Security-Policy in`);
  return html.replace(/<head>/i, `<head>\n  ${meta}`);
}

/** One page: Redoc into the site template, then hardened (CSP, offline). */
async function buildPage(work: string, input: string, output: string, file: SiteFile, title: string, options: string[] = []): Promise<void> {
  const template = path.join(work, `${file}.hbs`);
  writeFileSync(template, siteTemplate(file));
  await run(['build-docs', input, '--output', output, '--inlineBundle', '--title', title, '--template', template, ...options]);
  writeFileSync(output, hardenPage(readFileSync(output, 'utf8'), output));
}

export interface BuiltPage {
  source: string;
  output: string;
  bytes: number;
  /** the contract exactly as read for this build (before the overview was added) */
  doc: OpenApiDocument;
}

/** Builds every page of PAGES into `outDir` (default dist/docs). */
export async function buildDocs(outDir = path.join(projectRoot, 'dist/docs')): Promise<BuiltPage[]> {
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'quazzar-docs-'));
  try {
    const built: BuiltPage[] = [];
    for (const page of PAGES) {
      const sourcePath = path.join(projectRoot, page.source);
      if (!existsSync(sourcePath)) throw new Error(`${page.source} is missing: run \`npm run generate\` first`);
      const doc = JSON.parse(readFileSync(sourcePath, 'utf8')) as OpenApiDocument;
      const input = path.join(work, path.basename(page.source));
      writeFileSync(input, JSON.stringify(withOverviews(doc)));
      const output = path.join(outDir, page.output);
      await buildPage(work, input, output, page.output, doc.info.title);
      built.push({ source: page.source, output, bytes: statSync(output).size, doc });
    }
    if (releaseFiles().length === 0) throw new Error(`${CHANGES_PAGE.source} has no released snapshot: run \`npm run contract:release\``);
    const doc = await changesPageDocument(built[0]!.doc);
    const input = path.join(work, 'changes.json');
    writeFileSync(input, JSON.stringify(doc));
    const output = path.join(outDir, CHANGES_PAGE.output);
    await buildPage(work, input, output, CHANGES_PAGE.output, doc.info.title, ['--openapi.layout=stacked']);
    built.push({ source: CHANGES_PAGE.source, output, bytes: statSync(output).size, doc });
    return built;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** True when every page exists and is newer than every file it was built from. */
export function docsAreFresh(outDir = path.join(projectRoot, 'dist/docs')): boolean {
  return SITE.every((page) => {
    const output = path.join(outDir, page.output);
    if (!existsSync(output)) return false;
    const builtAt = statSync(output).mtimeMs;
    return pageSources(page).every((source) => existsSync(source) && builtAt > statSync(source).mtimeMs);
  });
}

async function main(argv: string[]): Promise<void> {
  const relative = (p: string): string => path.relative(projectRoot, p);
  if (argv.includes('--if-missing') && docsAreFresh()) {
    console.log('docs: dist/docs/ is newer than generated/*.json and openapi/releases/, nothing to build (run `npm run docs` to force)');
    return;
  }
  const started = performance.now();
  for (const page of await buildDocs()) {
    const what = page.output.endsWith(CHANGES_PAGE.output) ? `${releaseFiles().length} released versions` : `${listOperations(page.doc).length} operations`;
    console.log(`docs: ${page.source} → ${relative(page.output)} (${what}, ${Math.round(page.bytes / 1024)} KiB)`);
  }
  console.log(`docs: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
