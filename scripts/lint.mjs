// `npm run lint` = `redocly lint --config redocly.yaml [args]`, minus one thing: Redocly CLI 2.77
// prints a 12-line "Node.js 20 support is ending" box to stderr on every run under Node 20 (the
// project supports Node >= 20.10), and it has no flag or variable to turn it off (it is an
// unconditional logger.info in @redocly/cli/lib/index.js). This wrapper drops that box, and only
// that box: every other line of stdout and stderr passes through unchanged, and the exit status is
// Redocly's. Tested in test/lint-rules.test.ts.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BANNER_MARK = 'Node.js 20 support is ending';

/**
 * A line filter for Redocly's stderr: a box (a line with `╔` … a line with `╚`) is held back
 * until it closes, then dropped when it is the Node 20 end-of-life banner (with the blank lines
 * right before it and one right after), passed on otherwise. Feed it lines with their `\n`.
 * @param {(text: string) => void} write
 */
export function bannerFilter(write) {
  /** @type {string[]} */ let blanks = [];
  /** @type {string[] | undefined} */ let box;
  let dropNextBlank = false;
  return {
    /** @param {string} line */
    line(line) {
      if (box) {
        box.push(line);
        if (line.includes('╚')) {
          const text = box.join('');
          if (text.includes(BANNER_MARK)) dropNextBlank = true;
          else write(blanks.join('') + text);
          blanks = [];
          box = undefined;
        }
        return;
      }
      if (line.trim() === '') {
        if (dropNextBlank) dropNextBlank = false;
        else blanks.push(line);
        return;
      }
      dropNextBlank = false;
      if (line.includes('╔')) {
        box = [line];
        return;
      }
      write(blanks.join('') + line);
      blanks = [];
    },
    end() {
      write(blanks.join('') + (box ? box.join('') : ''));
      blanks = [];
      box = undefined;
    },
  };
}

/** Splits a stream into lines (keeping `\n`) for a filter. */
function pipeLines(stream, filter) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    rest += chunk;
    let at;
    while ((at = rest.indexOf('\n')) >= 0) {
      filter.line(rest.slice(0, at + 1));
      rest = rest.slice(at + 1);
    }
  });
  return new Promise((resolve) =>
    stream.on('end', () => {
      if (rest) filter.line(rest);
      filter.end();
      resolve();
    }),
  );
}

async function main(args) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js', { paths: [root] });
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  // Redocly colours only a terminal; it now writes to a pipe, so pass the terminal's colours on.
  if (process.stderr.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  const child = spawn(process.execPath, [cli, 'lint', '--config', 'redocly.yaml', ...args], { cwd: root, env, stdio: ['inherit', 'inherit', 'pipe'] });
  const done = pipeLines(child.stderr, bannerFilter((text) => process.stderr.write(text)));
  const code = await new Promise((resolve) => child.on('close', (status, signal) => resolve(signal ? 1 : (status ?? 1))));
  await done;
  return code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
