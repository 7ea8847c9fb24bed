// Unit tests of scripts/docs.ts that need no browser: the rate-limit overview is read from the
// contract (never hard-coded), and `--if-missing` decides freshness by modification times.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGES_PAGE, changesDocument, changesPageDocument, docsAreFresh, hardenPage, listOperations, operationRoute, operationsOverview, PAGES, pageSources, projectRoot, rateLimitOverview, REDOC_LOGOS, SITE, siteTemplate, withOverviews, type OpenApiDocument } from './docs.ts';
import { releasedVersions, RELEASES_DIR } from './contract-diff/bundle.ts';
import { renderReleased } from './contract-diff/release.ts';

const contract = (): OpenApiDocument =>
  JSON.parse(readFileSync(path.join(projectRoot, 'generated/openapi.json'), 'utf8')) as OpenApiDocument;

describe('rate-limit overview', () => {
  it('has one row per operation, with the numbers of its x-rate-limit', () => {
    const doc = contract();
    const operations = listOperations(doc);
    const rows = rateLimitOverview(doc).split('\n').filter((line) => line.startsWith('| **'));
    expect(rows).toHaveLength(operations.filter((o) => o.operation['x-rate-limit']).length);
    for (const { method, path: pathName, operation } of operations) {
      const limit = operation['x-rate-limit'];
      if (!limit) continue;
      const row = rows.find((r) => r.startsWith(`| **${operation.operationId}** ${method.toUpperCase()} ${pathName} |`));
      expect(row, operation.operationId).toContain(`${limit.limit} requests per ${limit.window_seconds} seconds`);
      expect(row).toContain(`(policy \`${limit.policy}\`)`);
    }
  });

  it('follows the contract: a changed limit shows up in the table', () => {
    const doc = contract();
    const first = listOperations(doc).find((o) => o.operation['x-rate-limit']);
    if (!first?.operation['x-rate-limit']) throw new Error('the contract has no x-rate-limit');
    first.operation['x-rate-limit'] = { ...first.operation['x-rate-limit'], limit: 9876, window_seconds: 4321 };
    expect(rateLimitOverview(doc)).toContain(`**${first.operation.operationId}**`);
    expect(rateLimitOverview(doc)).toContain('9876 requests per 4321 seconds');
  });

  it('shows failure budgets (x-rate-limit-failures) as failed attempts', () => {
    const doc = contract();
    const withFailures = listOperations(doc).filter((o) => o.operation['x-rate-limit-failures']);
    expect(withFailures.length).toBeGreaterThan(0); // login's per-account budget (docs/DECISIONS.md §5)
    for (const { operation } of withFailures) {
      const failures = operation['x-rate-limit-failures']!;
      expect(rateLimitOverview(doc)).toContain(`${failures.limit} failed attempts per ${failures.window_seconds} seconds`);
    }
  });

  it('appends to info.description of a copy and leaves the contract untouched', () => {
    const doc = contract();
    const before = JSON.stringify(doc);
    const copy = withOverviews(doc);
    expect(JSON.stringify(doc)).toBe(before);
    expect(copy.info.description?.startsWith(doc.info.description?.trimEnd() ?? '')).toBe(true);
    expect(copy.info.description).toContain('## Rate limits by operation');
  });
});

describe('--if-missing freshness', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is fresh only when every page exists and is newer than its contract', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'quazzar-docs-fresh-'));
    expect(docsAreFresh(dir)).toBe(false);
    const future = new Date(Date.now() + 3_600_000);
    for (const page of [...PAGES, CHANGES_PAGE]) {
      writeFileSync(path.join(dir, page.output), '<html></html>');
      utimesSync(path.join(dir, page.output), future, future);
    }
    expect(docsAreFresh(dir)).toBe(true);
    const past = new Date(0);
    utimesSync(path.join(dir, PAGES[1].output), past, past);
    expect(docsAreFresh(dir)).toBe(false);
    utimesSync(path.join(dir, PAGES[1].output), future, future);
    utimesSync(path.join(dir, CHANGES_PAGE.output), past, past); // older than the contract and the snapshots
    expect(docsAreFresh(dir)).toBe(false);
  });

  it('rebuilds the Changes page when the contract or any released snapshot changes', () => {
    expect(releasedVersions().length).toBeGreaterThan(0);
    const sources = pageSources(CHANGES_PAGE).map((file) => path.relative(projectRoot, file));
    expect(sources).toContain('generated/openapi.json');
    for (const version of releasedVersions()) expect(sources).toContain(path.relative(projectRoot, path.join(RELEASES_DIR, `${version}.json`)));
  });
});

describe('operations overview', () => {
  it('has one row per operation with its operationId, method, path and summary, read from the contract', () => {
    const doc = contract();
    const first = listOperations(doc)[0]!;
    first.operation.summary = 'A summary | with a pipe, changed by a designer';
    const table = operationsOverview(doc);
    const rows = table.split('\n').filter((line) => line.startsWith('| [**'));
    expect(rows).toHaveLength(listOperations(doc).length);
    for (const { method, path: pathName, operation } of listOperations(doc)) {
      const summary = (operation.summary ?? '').replace(/\|/g, '\\|');
      expect(rows).toContain(`| [**${operation.operationId}**](#${operationRoute(operation)}) ${method.toUpperCase()} ${pathName} | ${summary} |`);
    }
    expect(withOverviews(doc).info.description).toContain('## Operations');
  });
});

describe('site template', () => {
  it('links every page to every other, marks the current one, and leaves Redoc its placeholders', () => {
    for (const current of SITE) {
      const template = siteTemplate(current.output);
      for (const page of SITE) {
        const link = new RegExp(`<a href="${page.output.replace('.', '\\.')}"( aria-current="page")?>${page.label}</a>`);
        expect(template).toMatch(link);
        expect(template.match(link)?.[1] !== undefined).toBe(page.output === current.output);
      }
      for (const placeholder of ['{{title}}', '{{{redocHead}}}', '{{{redocHTML}}}']) expect(template).toContain(placeholder);
    }
  });
});

describe('hardenPage', () => {
  const page = (body: string): string => `<!DOCTYPE html><html><head><title>t</title></head><body>${body}</body></html>`;

  it('adds the CSP and replaces Redoc\'s CDN logos by data: images', () => {
    const urls = Object.keys(REDOC_LOGOS);
    const html = hardenPage(page(`<script>src:e?"${urls[0]}":"${urls[1]}"</script>`), 'x.html');
    expect(html).toContain('http-equiv="Content-Security-Policy"');
    expect(html).not.toContain('cdn.redoc.ly');
    for (const url of urls) expect(html).toContain(`"${REDOC_LOGOS[url]}"`);
    expect(Object.values(REDOC_LOGOS).every((image) => image.startsWith('data:image/svg+xml,') && !/["'<\\]/.test(image))).toBe(true);
  });

  it('refuses a page that still names another cdn.redoc.ly address, or loads an external script', () => {
    expect(() => hardenPage(page('<script>const logo = "https://cdn.redoc.ly/redoc/new-logo.svg";</script>'), 'x.html')).toThrow(/new-logo\.svg.*REDOC_LOGOS/);
    expect(() => hardenPage(page('<script src="https://cdn.example.com/x.js"></script>'), 'x.html')).toThrow(/external resource/);
  });
});

describe('Changes page', () => {
  it('is the changelog npm run contract:release writes, for the contract being published, Unreleased changes included', async () => {
    const doc = contract();
    const published = await changesPageDocument(doc);
    expect(published.paths).toEqual({});
    expect(published.info.version).toBe(doc.info['version']);
    expect(published.info.description).toContain(renderReleased().trim());
    expect(published.info.description).not.toMatch(/^## Unreleased/mu);
    // a designer's edit shows up at once, before any release
    const first = listOperations(doc)[0]!;
    first.operation.summary = `${first.operation.summary ?? ''} (edited)`;
    expect((await changesPageDocument(doc)).info.description).toMatch(/^## Unreleased/mu);
  });

  it('is CHANGELOG.md as the description of an operation-less document', () => {
    const changelog = readFileSync(path.join(projectRoot, 'CHANGELOG.md'), 'utf8');
    const doc = changesDocument(changelog, '1.0.0');
    expect(doc.paths).toEqual({});
    expect(doc.info.version).toBe('1.0.0');
    expect(doc.info.description).not.toMatch(/^# /u);
    expect(doc.info.description).toContain('## 1.0.0');
  });
});
