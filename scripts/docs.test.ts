// Unit tests of scripts/docs.ts that need no browser: the rate-limit overview is read from the
// contract (never hard-coded), and `--if-missing` decides freshness by modification times.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGES_PAGE, changesDocument, docsAreFresh, listOperations, PAGES, projectRoot, rateLimitOverview, withOverviews, type OpenApiDocument } from './docs.ts';

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
    utimesSync(path.join(dir, CHANGES_PAGE.output), past, past); // older than CHANGELOG.md
    expect(docsAreFresh(dir)).toBe(false);
  });
});

describe('Changes page', () => {
  it('is CHANGELOG.md as the description of an operation-less document', () => {
    const changelog = readFileSync(path.join(projectRoot, CHANGES_PAGE.source), 'utf8');
    const doc = changesDocument(changelog, '1.0.0');
    expect(doc.paths).toEqual({});
    expect(doc.info.version).toBe('1.0.0');
    expect(doc.info.description).not.toMatch(/^# /u);
    expect(doc.info.description).toContain('## 1.0.0');
  });
});
