import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../framework/types.ts';
import { htmlReport } from './html.ts';
import { jsonReport } from './json.ts';
import { junitXml } from './junit.ts';

/** Writes junit.xml, report.json and report.html into `dir`; returns their paths. */
export async function writeReports(result: RunResult, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['junit.xml', junitXml(result)],
    ['report.json', jsonReport(result)],
    ['report.html', htmlReport(result)],
  ];
  for (const [name, content] of files) await writeFile(join(dir, name), content, 'utf8');
  return files.map(([name]) => join(dir, name));
}
