// `npm run conformance:requirements`: turns the project's security requirements
// (docs/SECURITY.md, part of the repository since issue 17) into conformance/requirements/security.json,
// which ships with the suite (package.json "files", `npm run pack:conformance`), so that a check
// title citing "(SEC 12)" means something to an implementer who only installed the package.
// `--check` only says whether the checked-in file is stale (exit 1), writing nothing.
// `--source FILE` reads another copy of SECURITY.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SecurityCatalogue, SecurityRequirement } from '../conformance/requirements/security.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The project's security requirements, in the repository (a fresh clone is complete). */
export const SECURITY_SOURCE = resolve(ROOT, 'docs', 'SECURITY.md');
export const SECURITY_OUTPUT = resolve(ROOT, 'conformance', 'requirements', 'security.json');

const TITLE_MAX = 100;

/**
 * SECURITY.md's numbered items, in order: `N. text` under a `## Section` heading, continuation
 * lines indented. Numbers must run 1, 2, 3… (a gap or a repeat is an error, not a silent skip).
 */
export function parseSecurityMarkdown(markdown: string): SecurityCatalogue {
  const lines = markdown.replace(/\r\n?/gu, '\n').split('\n');
  const requirements: SecurityRequirement[] = [];
  const deviations: string[] = [];
  const intro: string[] = [];
  let section: string | undefined;
  let current: { list: 'req' | 'dev'; parts: string[] } | undefined;
  const flush = (): void => {
    if (!current) return;
    const text = current.parts.join(' ').replace(/\s+/gu, ' ').trim();
    if (current.list === 'dev') deviations.push(text);
    else requirements[requirements.length - 1]!.text = text;
    current = undefined;
  };
  for (const line of lines) {
    const heading = /^##\s+(.+?)\s*$/u.exec(line);
    if (heading) {
      flush();
      section = heading[1]!;
      continue;
    }
    if (/^#\s/u.test(line)) continue;
    const item = /^(\d+)\.\s+(.*)$/u.exec(line);
    if (item && section !== undefined && !/deviation/iu.test(section)) {
      flush();
      const number = Number(item[1]);
      if (number !== requirements.length + 1) throw new Error(`SECURITY.md: item ${number} follows item ${requirements.length} (numbers must run 1, 2, 3…)`);
      requirements.push({ id: `SEC ${number}`, number, section, title: '', text: '' });
      current = { list: 'req', parts: [item[2]!] };
      continue;
    }
    const bullet = /^-\s+(.*)$/u.exec(line);
    if (bullet && section !== undefined && /deviation/iu.test(section)) {
      flush();
      current = { list: 'dev', parts: [bullet[1]!] };
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (current && /^\s+\S/u.test(line)) current.parts.push(line.trim());
    else if (section === undefined) intro.push(line.trim());
  }
  flush();
  if (requirements.length === 0) throw new Error('SECURITY.md: no numbered requirement found');
  for (const r of requirements) r.title = `${r.section}: ${shortTitle(r.text)}`;
  return { source: 'SECURITY.md', intro: intro.join(' ').replace(/\s+/gu, ' ').trim(), requirements, deviations };
}

/** The first clause of the text (up to `;` or a sentence end), at most TITLE_MAX characters. */
function shortTitle(text: string): string {
  const clause = text.split(/;\s|\.\s/u)[0]!.replace(/\.$/u, '');
  return clause.length <= TITLE_MAX ? clause : `${clause.slice(0, TITLE_MAX - 1).replace(/\s+\S*$/u, '')}…`;
}

export function renderCatalogue(catalogue: SecurityCatalogue): string {
  return `${JSON.stringify(catalogue, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { source: { type: 'string' }, check: { type: 'boolean', default: false } } });
  const source = resolve(values.source ?? SECURITY_SOURCE);
  if (!existsSync(source)) {
    console.error(`${source} does not exist: pass --source PATH/TO/SECURITY.md`);
    process.exit(2);
  }
  const rendered = renderCatalogue(parseSecurityMarkdown(readFileSync(source, 'utf8')));
  const current = existsSync(SECURITY_OUTPUT) ? readFileSync(SECURITY_OUTPUT, 'utf8') : '';
  const out = relative(process.cwd(), SECURITY_OUTPUT);
  if (values.check) {
    if (current !== rendered) {
      console.error(`${out} is stale against ${source}: run npm run conformance:requirements`);
      process.exit(1);
    }
    console.log(`${out} is up to date with ${source}`);
  } else {
    writeFileSync(SECURITY_OUTPUT, rendered);
    console.log(`wrote ${out} (${JSON.parse(rendered).requirements.length} requirements) from ${source}`);
  }
}
