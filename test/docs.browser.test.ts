// Opens the built docs in a real browser (Debian's Chromium driven by playwright-core) and
// checks what a reader sees: every operation of the bundled contract — its summary, method,
// path, each documented status code and its rate limit — and the rate-limit overview table.
// Redoc renders lazily (an operation's section is empty until it is navigated to), so the
// test visits each operation by its hash route and reads that section's rendered text.
// The page must not reach the network: every non-file request is recorded and aborted.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocs, CHANGES_PAGE, listOperations, projectRoot, type BuiltPage, type RateLimit } from '../scripts/docs.ts';
import { releasedVersions } from '../scripts/contract-diff/bundle.ts';

// Debian's package; CHROMIUM_PATH points elsewhere (and lets the skip / CI paths be tried).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
const skipReason = haveChromium || process.env.CI ? undefined : `${CHROMIUM} is missing (apt-get install chromium); CI fails here instead`;

const PAGES = [
  { contract: 'generated/openapi.json', html: 'index.html' },
  { contract: 'generated/harness.json', html: 'harness.html' },
] as const;

/** Redoc's URL slug for a tag or an operationId (observed: lower-case, spaces to dashes). */
const slug = (name: string): string => name.trim().toLowerCase().replace(/\s+/g, '-');

/** The little of the DOM the in-page functions use: tsconfig has no "dom" lib (this is Node code). */
interface DomElement {
  innerText: string;
  textContent: string | null;
  children: { length: number };
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}
interface Dom {
  location: { hash: string };
  document: { querySelector(selector: string): DomElement | null };
}

interface RenderedSection {
  text: string;
  /** texts of the section's leaf elements: status codes render as their own buttons */
  leaves: string[];
}

async function openPage(page: Page, file: string, external: string[]): Promise<void> {
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  // The tag sections exist once Redoc has hydrated the prerendered page.
  await page.locator('[data-section-id^="/"]').first().waitFor({ state: 'attached' });
}

async function readSection(page: Page, id: string): Promise<RenderedSection> {
  // These functions run in the page, so they cannot share helpers with this module.
  await page.evaluate((hash) => {
    (globalThis as unknown as Dom).location.hash = hash;
  }, id);
  await page.waitForFunction(
    (sectionId) =>
      ((globalThis as unknown as Dom).document.querySelector(`[data-section-id="${sectionId}"]`)?.innerText.trim().length ?? 0) > 0,
    id,
    { timeout: 15_000 },
  );
  return page.evaluate((sectionId) => {
    const section = (globalThis as unknown as Dom).document.querySelector(`[data-section-id="${sectionId}"]`);
    if (!section) return { text: '', leaves: [] };
    const leaves = Array.from(section.querySelectorAll('*'))
      .filter((e) => e.children.length === 0)
      .map((e) => (e.textContent ?? '').trim());
    return { text: section.innerText, leaves };
  }, id);
}

/** The line of the rendered text that states this budget: the words and both numbers. */
function statesLimit(text: string, limit: RateLimit, words: RegExp): boolean {
  const whole = (n: number): RegExp => new RegExp(`(^|[^0-9])${n}([^0-9]|$)`);
  return text.split('\n').some((line) => words.test(line) && whole(limit.limit).test(line) && whole(limit.window_seconds).test(line));
}

describe('docs site in Chromium', () => {
  let browser: Browser | undefined;
  let outDir = '';
  /** contract path → the page built from it, with the contract exactly as the build read it */
  const built = new Map<string, BuiltPage>();

  beforeAll(async () => {
    if (skipReason) return;
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    outDir = mkdtempSync(path.join(tmpdir(), 'quazzar-docs-test-'));
    for (const page of await buildDocs(outDir)) built.set(page.source, page);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  for (const { contract, html } of PAGES) {
    it(`${html} shows every operation of ${contract} with its status codes and rate limit`, async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      const builtPage = built.get(contract);
      if (!builtPage) throw new Error(`scripts/docs.ts did not build ${contract}`);
      const operations = listOperations(builtPage.doc);
      expect(operations.length).toBeGreaterThan(0);

      const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      const external: string[] = [];
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      expect(path.basename(builtPage.output)).toBe(html);
      await openPage(page, builtPage.output, external);

      const problems: string[] = [];
      for (const { method, path: pathName, operation } of operations) {
        const name = operation.operationId ?? `${method} ${pathName}`;
        const tag = operation.tags?.[0];
        if (!operation.operationId || !tag) {
          problems.push(`${name}: no operationId or tag, cannot find its section`);
          continue;
        }
        const section = await readSection(page, `/${slug(tag)}/${slug(operation.operationId)}`);
        const missing: string[] = [];
        if (operation.summary && !section.text.includes(operation.summary)) missing.push(`summary "${operation.summary}"`);
        if (!section.leaves.includes(method.toUpperCase())) missing.push(`method ${method.toUpperCase()}`);
        if (!section.leaves.includes(pathName)) missing.push(`path ${pathName}`);
        for (const status of Object.keys(operation.responses ?? {})) {
          if (!section.leaves.includes(status)) missing.push(`status ${status}`);
        }
        const limit = operation['x-rate-limit'];
        if (!limit) missing.push('x-rate-limit in the contract');
        else if (!statesLimit(section.text, limit, /rate limit/i)) missing.push(`"Rate limit" with ${limit.limit} / ${limit.window_seconds}`);
        const failures = operation['x-rate-limit-failures'];
        if (failures && !statesLimit(section.text, failures, /limit/i)) missing.push(`the failure limit ${failures.limit} / ${failures.window_seconds}`);
        if (missing.length > 0) problems.push(`${name}: missing ${missing.join(', ')}`);
      }

      // The overview table that scripts/docs.ts generates from x-rate-limit, one row per budget.
      const overview = await readSection(page, '/section/rate-limits-by-operation');
      for (const { operation } of operations) {
        const limit = operation['x-rate-limit'];
        if (!operation.operationId || !limit) continue;
        const row = overview.text.split('\n').find((line) => line.trim().startsWith(`${operation.operationId} `));
        const words = `${limit.limit} requests per ${limit.window_seconds} seconds`;
        if (!row || !row.includes(words)) {
          problems.push(`overview table: no row "${operation.operationId} … ${words}"`);
        }
      }

      if (html === 'index.html') {
        mkdirSync(path.join(projectRoot, 'reports'), { recursive: true });
        await page.evaluate(() => {
          (globalThis as unknown as Dom).location.hash = '/';
        });
        await page.screenshot({ path: path.join(projectRoot, 'reports/docs.png'), fullPage: true });
      }
      await page.close();

      expect(problems).toEqual([]);
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    }, 120_000);
  }

  it('changes.html shows CHANGELOG.md: every released version and each change row', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const builtPage = built.get(CHANGES_PAGE.source);
    if (!builtPage) throw new Error('scripts/docs.ts did not build the Changes page');
    expect(path.basename(builtPage.output)).toBe(CHANGES_PAGE.output);
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(builtPage.output).href);
    await page.getByText('First released version of the contract').first().waitFor({ state: 'attached', timeout: 15_000 });
    const text = await page.locator('body').innerText();
    const changelog = readFileSync(path.join(projectRoot, CHANGES_PAGE.source), 'utf8');
    const problems: string[] = [];
    // every heading of the changelog (a version, Unreleased) is on the page
    for (const heading of changelog.matchAll(/^## (.+)$/gmu)) if (!text.includes(heading[1]!.trim())) problems.push(`heading ${heading[1]}`);
    for (const version of releasedVersions()) if (!changelog.includes(`## ${version}`)) problems.push(`CHANGELOG.md has no section ${version}`);
    // every change row's words are rendered (the table cells, without Markdown backticks)
    for (const row of changelog.matchAll(/^\| (request|response|document) \| [^|]* \| ([^|]+) \|/gmu)) {
      const words = row[2]!.replace(/`/gu, '').trim().slice(0, 40);
      if (!text.includes(words)) problems.push(`change "${words}"`);
    }
    if (!/First released version of the contract/u.test(text)) problems.push('the first release');
    await page.screenshot({ path: path.join(projectRoot, 'reports/changes.png') });
    await page.close();
    expect(problems).toEqual([]);
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  }, 120_000);
});
