// Opens the built docs in a real browser (Debian's Chromium driven by playwright-core) and
// checks what a reader sees: every operation of the bundled contract — its summary, method,
// path, each documented status code and its rate limit — and the rate-limit overview table.
// Redoc renders lazily (an operation's section is empty until it is navigated to), so the
// test visits each operation by its hash route and reads that section's rendered text.
// The page must not reach the network: every non-file request is recorded and aborted.
// Then the site as a whole (issue 20): the link bar between the pages, served at /docs as the
// reference server serves it; the Changes tables' width at 1400 and 360 px; Redoc's badge; and
// what the HTML shows before any script has run. Screenshots go to reports/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import { type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { chromiumSkipReason as skipReason, launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocs, CHANGES_PAGE, listOperations, projectRoot, type BuiltPage, type RateLimit } from '../scripts/docs.ts';
import { releasedVersions } from '../scripts/contract-diff/bundle.ts';
import { staticRoutes } from '../src/http/static-routes.ts';
import { buildTestApp } from './helpers.ts';

// Debian's package; CHROMIUM_PATH points elsewhere (and lets the skip / CI paths be tried).
// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.

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
  location: { hash: string; pathname: string };
  innerWidth: number;
  document: {
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): ArrayLike<DomElement & DomBox>;
    documentElement: { scrollWidth: number; clientWidth: number };
    body: { innerText: string };
  };
  getComputedStyle(element: DomElement): { overflowX: string };
}
interface DomBox {
  getBoundingClientRect(): { x: number; width: number };
  scrollWidth: number;
  clientWidth: number;
  closest(selector: string): (DomElement & DomBox) | null;
  getAttribute(name: string): string | null;
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

/** Serves `dir` at /docs exactly as the reference server does (its static routes), on loopback. */
async function serveDocs(dir: string): Promise<{ server: Server; origin: string }> {
  // The server's static routes need its deps (the contract, the static budget): a test app's,
  // with budgets raised so the browser's many page loads never meet the static 429.
  const t = await buildTestApp({ env: { RATE_LIMIT_MULTIPLIER: '1000' } });
  const app = new Koa();
  app.use(staticRoutes(t.deps, dir + path.sep));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Console errors the page reports: a Content-Security-Policy violation is an attempted external fetch. */
function collectConsoleErrors(page: Page, into: string[]): void {
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') into.push(message.text());
  });
}

describe('docs site in Chromium', () => {
  let browser: Browser | undefined;
  let outDir = '';
  let served: { server: Server; origin: string } | undefined;
  /** contract path → the page built from it, with the contract exactly as the build read it */
  const built = new Map<string, BuiltPage>();

  beforeAll(async () => {
    if (skipReason) return;
    outDir = mkdtempSync(path.join(tmpdir(), 'quazzar-docs-test-'));
    for (const page of await buildDocs(outDir)) built.set(page.source, page);
    served = await serveDocs(outDir);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (served ? served.server.close(resolve) : resolve(undefined)));
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

      // The Operations table links each operation to the section just read.
      await readSection(page, '/section/operations');
      const links = await page.evaluate(() =>
        Array.from((globalThis as unknown as Dom).document.querySelectorAll('[data-section-id="/section/operations"] a')).map((a) => a.getAttribute('href')),
      );
      for (const { operation } of operations) {
        const route = `#/${slug(operation.tags?.[0] ?? '')}/${slug(operation.operationId ?? '')}`;
        if (!links.includes(route)) problems.push(`Operations table: no link to ${route}`);
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

  it('changes.html shows the changelog: every released version and each change row', async (ctx) => {
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
    // the changelog as built (what npm run contract:release writes, for this contract)
    const changelog = builtPage.doc.info.description ?? '';
    const problems: string[] = [];
    // every heading of the changelog (a version, Unreleased) is on the page
    for (const heading of changelog.matchAll(/^## (.+)$/gmu)) if (!text.includes(heading[1]!.trim())) problems.push(`heading ${heading[1]}`);
    for (const version of releasedVersions()) if (!changelog.includes(`## ${version}`)) problems.push(`the changelog has no section ${version}`);
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

  // Issue 20, item 13: the site's navigation, the Changes page's layout, the Redoc badge and the
  // first paint. Each of these failed on the build before the fix.

  /** The pages of the site and where the reference server serves them. */
  const SITE = [
    { url: '/docs', file: 'index.html', label: 'API reference' },
    { url: '/docs/harness.html', file: 'harness.html', label: 'Conformance harness' },
    { url: '/docs/changes.html', file: 'changes.html', label: 'Changes' },
  ] as const;

  it('every page, served at /docs, has a visible link to each other page, and the links navigate', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const origin = served!.origin;
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    for (const from of SITE) {
      await page.goto(`${origin}${from.url}`);
      for (const to of SITE) {
        if (to === from) continue;
        const link = page.getByRole('link', { name: to.label, exact: true }).first();
        if ((await link.count()) === 0) {
          problems.push(`${from.url}: no link "${to.label}"`);
          continue;
        }
        // resolved against the page's own address: /docs (no slash) must not lead to /changes.html
        const href = await link.evaluate((a) => (a as unknown as { href: string }).href);
        const wanted = [`${origin}/docs/${to.file}`, ...(to.file === 'index.html' ? [`${origin}/docs/`] : [])];
        if (!wanted.includes(href)) problems.push(`${from.url}: "${to.label}" leads to ${href}, not ${wanted.join(' or ')}`);
        const box = await link.boundingBox();
        if (!(await link.isVisible()) || !box || box.y < 0 || box.y + box.height > 900) problems.push(`${from.url}: "${to.label}" is not visible in the first screen`);
      }
    }
    expect(problems).toEqual([]);

    // and they navigate: /docs → Changes → back
    await page.goto(`${origin}/docs`);
    await page.getByRole('link', { name: 'Changes', exact: true }).first().click();
    await page.waitForURL(`${origin}/docs/changes.html`);
    await page.getByText('First released version of the contract').first().waitFor({ state: 'attached', timeout: 15_000 });
    await page.getByRole('link', { name: 'API reference', exact: true }).first().click();
    await page.waitForURL((url) => url.pathname === '/docs/' || url.pathname === '/docs/index.html');
    const title = built.get('generated/openapi.json')!.doc.info.title;
    await page.getByText(title).first().waitFor({ state: 'attached', timeout: 15_000 });
    await page.close();
  }, 120_000);

  it('changes.html: the tables use the full content width at 1400 px and scroll inside their box at 360 px', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const builtPage = built.get(CHANGES_PAGE.source)!;
    const problems: string[] = [];
    for (const width of [1400, 360]) {
      const page = await browser!.newPage({ viewport: { width, height: 900 } });
      await page.goto(pathToFileURL(builtPage.output).href);
      await page.getByText('First released version of the contract').first().waitFor({ state: 'attached', timeout: 15_000 });
      const layout = await page.evaluate(() => {
        const dom = globalThis as unknown as Dom;
        const main = dom.document.querySelectorAll('main')[0];
        const tables = Array.from(dom.document.querySelectorAll('table')).map((table) => {
          // the box a reader sees: the table's scroll container when it has one
          const parent = table.closest('.md-table-wrapper') ?? table;
          const scrolls = ['auto', 'scroll'].includes(dom.getComputedStyle(parent).overflowX);
          const box = parent.getBoundingClientRect();
          return { x: box.x, width: box.width, scrolls, overflows: table.scrollWidth > parent.clientWidth + 1 };
        });
        return {
          content: main?.getBoundingClientRect().width ?? 0,
          tables,
          pageScrollWidth: dom.document.documentElement.scrollWidth,
          pageWidth: dom.document.documentElement.clientWidth,
        };
      });
      if (layout.content === 0) problems.push(`${width} px: no <main> content area`);
      if (layout.tables.length === 0) problems.push(`${width} px: no table`);
      if (width === 1400) {
        // and no switch back to the three-column layout that squeezed them
        const switches = page.locator('[data-component-name="Sidebar/SidebarActions"] [data-component-name="Tooltip/Tooltip"]:has(svg):not(:has(button))');
        for (let i = 0; i < (await switches.count()); i += 1) if (await switches.nth(i).isVisible()) problems.push('1400 px: the layout switch is shown');
        for (const [i, table] of layout.tables.entries()) {
          if (table.width < 0.9 * layout.content) problems.push(`1400 px: table ${i + 1} is ${Math.round(table.width)} px wide of ${Math.round(layout.content)} px of content (< 90 %)`);
        }
      } else {
        if (layout.pageScrollWidth > layout.pageWidth) problems.push(`360 px: the page scrolls sideways (${layout.pageScrollWidth} > ${layout.pageWidth} px)`);
        for (const [i, table] of layout.tables.entries()) {
          if (table.overflows && !table.scrolls) problems.push(`360 px: table ${i + 1} is wider than its box and its box does not scroll`);
          if (table.x + table.width > layout.pageWidth + 1) problems.push(`360 px: table ${i + 1} sticks out of the page`);
        }
        if (!layout.tables.some((t) => t.overflows)) problems.push('360 px: no table is wider than the screen (the check would prove nothing)');
      }
      mkdirSync(path.join(projectRoot, 'reports'), { recursive: true });
      await page.evaluate(() => {
        (globalThis as unknown as { document: { querySelector(s: string): { scrollIntoView(): void } | null } }).document.querySelector('table')?.scrollIntoView();
      });
      await page.screenshot({ path: path.join(projectRoot, `reports/changes-${width}.png`) });
      await page.close();
    }
    expect(problems).toEqual([]);
  }, 120_000);

  for (const { file } of SITE) {
    it(`${file}: the "API docs by" badge is not empty and nothing is blocked by the page's CSP`, async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
      const consoleErrors: string[] = [];
      collectConsoleErrors(page, consoleErrors);
      await page.goto(pathToFileURL(path.join(outDir, file)).href);
      // hydrated: the search box no longer says "Loading..."
      await page.locator('[data-testid="search-trigger"]', { hasText: 'Search' }).first().waitFor({ timeout: 15_000 });
      const badges = page.locator('a[href^="https://redocly.com/redoc"]');
      for (let i = 0; i < (await badges.count()); i += 1) {
        const badge = badges.nth(i);
        // not empty: beyond its "API docs by" label, a logo that loaded (the CDN one is blocked)
        const filled = await badge
          .evaluate((a) => {
            const el = a as unknown as { innerText: string; querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> };
            const images = Array.from(el.querySelectorAll('img'));
            return new Promise<boolean>((resolve) => {
              const check = (): void => {
                if (el.innerText.replace(/API docs by/u, '').trim().length > 0 || (images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0))) resolve(true);
              };
              check();
              const timer = setInterval(() => {
                const now = Array.from(el.querySelectorAll('img'));
                images.splice(0, images.length, ...now);
                check();
              }, 100);
              setTimeout(() => {
                clearInterval(timer);
                resolve(false);
              }, 10_000);
            });
          });
        expect(filled, `${file}: badge ${i + 1} shows only "${(await badge.innerText()).trim()}"`).toBe(true);
      }
      await page.close();
      expect(consoleErrors.filter((e) => /Content Security Policy|ERR_/u.test(e))).toEqual([]);
    }, 60_000);
  }

  for (const { contract, html } of PAGES) {
    it(`${html}: the HTML as served, before any script runs, shows every operation's summary`, async (ctx) => {
      if (skipReason) return ctx.skip(skipReason);
      const builtPage = built.get(contract)!;
      const context = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${served!.origin}/docs/${html}`);
      const text = await page.evaluate(() => (globalThis as unknown as Dom).document.body.innerText);
      const missing = listOperations(builtPage.doc)
        .map(({ operation }) => operation.summary)
        .filter((summary): summary is string => !!summary && !text.includes(summary));
      expect(listOperations(builtPage.doc).length).toBeGreaterThan(0);
      expect(missing, `${html} without JavaScript shows ${text.length} characters: ${text.slice(0, 200)}`).toEqual([]);
      if (html === 'index.html') {
        await page.screenshot({ path: path.join(projectRoot, 'reports/docs-first-paint.png') });
      }
      await context.close();
    }, 60_000);
  }
});
