// `npm run docs`: builds the docs site into dist/docs/ from the bundled contracts —
// generated/openapi.json → index.html and generated/harness.json → harness.html — with Redoc
// (redocly build-docs --inlineBundle), so each page is one self-contained HTML file: no CDN.
// `--if-missing` (npm prestart) skips the build when the pages are newer than the contracts.
//
// Rate limits must be visible to a reader, not only in `x-rate-limit`: the operation
// descriptions state them (the contract's job, checked by quazzar/rate-limit-documented), and
// this script adds an overview table generated from the `x-rate-limit` fields of an in-memory
// copy of the contract. The numbers come from the contract, never from this file.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
interface OperationObject {
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
  { source: 'generated/openapi.json', output: 'index.html' },
  { source: 'generated/harness.json', output: 'harness.html' },
] as const;

/** The "Changes" page: CHANGELOG.md (written by `npm run contract:release`) rendered by Redoc
 * as the description of an operation-less document, so it looks like the rest of the site. */
export const CHANGES_PAGE = { source: 'CHANGELOG.md', output: 'changes.html' } as const;

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
 * Forbids every fetch but inline code, inline styles and data: images, so the page cannot
 * reach a CDN (Redoc's footer otherwise loads a logo from cdn.redoc.ly).
 */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'";

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

/** A copy of the contract whose `info.description` ends with the rate-limit overview. */
export function withRateLimitOverview(doc: OpenApiDocument): OpenApiDocument {
  const overview = rateLimitOverview(doc);
  if (!overview) return doc;
  const description = [doc.info.description?.trimEnd(), overview].filter(Boolean).join('\n\n');
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

/** Makes the built page provably offline: a CSP, and no external script or stylesheet. */
function hardenPage(html: string, file: string): string {
  const external = html.match(/<(script|link)\b[^>]*\b(src|href)=["']?(https?:)?\/\//i);
  if (external) throw new Error(`${file} loads an external resource (${external[0]}): the docs must be self-contained`);
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
  if (!/<head>/i.test(html)) throw new Error(`${file} has no <head> to put the Content-Security-Policy in`);
  return html.replace(/<head>/i, `<head>\n  ${meta}`);
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
      writeFileSync(input, JSON.stringify(withRateLimitOverview(doc)));
      const output = path.join(outDir, page.output);
      await run(['build-docs', input, '--output', output, '--inlineBundle', '--title', doc.info.title]);
      const html = hardenPage(readFileSync(output, 'utf8'), output);
      writeFileSync(output, html);
      built.push({ source: page.source, output, bytes: Buffer.byteLength(html), doc });
    }
    const changelog = path.join(projectRoot, CHANGES_PAGE.source);
    if (!existsSync(changelog)) throw new Error(`${CHANGES_PAGE.source} is missing: run \`npm run contract:release -- --changelog\``);
    const version = String(built[0]?.doc.info['version'] ?? '');
    const doc = changesDocument(readFileSync(changelog, 'utf8'), version);
    const input = path.join(work, 'changes.json');
    writeFileSync(input, JSON.stringify(doc));
    const output = path.join(outDir, CHANGES_PAGE.output);
    await run(['build-docs', input, '--output', output, '--inlineBundle', '--title', doc.info.title]);
    const html = hardenPage(readFileSync(output, 'utf8'), output);
    writeFileSync(output, html);
    built.push({ source: CHANGES_PAGE.source, output, bytes: Buffer.byteLength(html), doc });
    return built;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** True when every page exists and is newer than the contract it was built from. */
export function docsAreFresh(outDir = path.join(projectRoot, 'dist/docs')): boolean {
  return [...PAGES, CHANGES_PAGE].every((page) => {
    const output = path.join(outDir, page.output);
    const source = path.join(projectRoot, page.source);
    return existsSync(output) && existsSync(source) && statSync(output).mtimeMs > statSync(source).mtimeMs;
  });
}

async function main(argv: string[]): Promise<void> {
  const relative = (p: string): string => path.relative(projectRoot, p);
  if (argv.includes('--if-missing') && docsAreFresh()) {
    console.log('docs: dist/docs/ is newer than generated/*.json, nothing to build (run `npm run docs` to force)');
    return;
  }
  const started = performance.now();
  for (const page of await buildDocs()) {
    console.log(`docs: ${page.source} → ${relative(page.output)} (${listOperations(page.doc).length} operations, ${Math.round(page.bytes / 1024)} KiB)`);
  }
  console.log(`docs: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
