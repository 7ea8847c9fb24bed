// quazzar/info-matches-extensions — the numbers a reader meets in `info.description` are the
// numbers the programs use. The server and the conformance suite read `x-rate-limit`,
// `x-rate-limit-failures`, `x-rate-limit-recipient`, `x-totp-lockout` and
// `x-request-body-limit-bytes`; the overview in `info.description` is prose. Lowering a limit in
// the extension and forgetting the overview made the docs contradict themselves (the docs site's
// generated "Rate limits by operation" said 2, the hand-written "Rate limits" table said 3), so:
//
// - every row of a Markdown table whose header has a "rate limit" and a "policy" column is
//   compared with the extension of that policy: limit, window (seconds, or "minute"/"hour") and
//   key ("client IP" → ip, "token", "account"); a row naming `METHOD /path` must be about an
//   operation of that path that declares the policy; every declared policy has a row;
// - `"policy";q=N;w=W` (the RateLimit-Policy example), "the X limit (N per minute per IP)",
//   "N wrong (TOTP) codes in a row … for M minutes" and "N bytes" are compared with the
//   extension they state.
//
// The statements (not the tables) are also checked in the tags' and the operations' descriptions
// ("5 wrong codes in a row lock TOTP checks for 15 minutes" on tag `totp`), with three more there:
// "`x-name.field` (N)" (the operation's extension, else the root's), "**Quota:** at most N"
// (`x-quota.limit`) and "**Per-recipient budget:** … at most N … per hour" (`x-rate-limit-recipient`). Each finding names the line of the text
// (counted from 1, quoted; and of its file) and the operation.
import { derefChild } from './deref.js';

const FIELDS = ['x-rate-limit', 'x-rate-limit-failures', 'x-rate-limit-recipient'];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const KEY_WORDS = [
  ['client ip', 'ip'],
  ['ip', 'ip'],
  ['token', 'token'],
  ['account', 'account'],
];

const isPositiveInteger = (value) => Number.isInteger(value) && value >= 1;

/** "3 requests per 60 seconds" → { limit: 3, window: 60 }; "5 per minute" → { 5, 60 }. */
function parseBudget(text) {
  const m = /(\d+)\b[^|]*?\bper\s+(?:(\d+)\s+seconds?|(minute)|(hour)|(day))/iu.exec(text);
  if (!m) return undefined;
  const window = m[2] ? Number(m[2]) : m[3] ? 60 : m[4] ? 3600 : 86400;
  return { limit: Number(m[1]), window };
}

function parseKey(text) {
  const lower = text.trim().toLowerCase();
  for (const [words, key] of KEY_WORDS) if (lower.startsWith(words)) return key;
  return undefined;
}

const cellsOf = (line) =>
  line
    .trim()
    .replace(/^\|/u, '')
    .replace(/\|$/u, '')
    .split(/(?<!\\)\|/u)
    .map((cell) => cell.trim());

/** The Markdown tables of a text: [{ header: string[], rows: [{ cells, line }] , line }]. */
function tablesOf(lines) {
  const tables = [];
  for (let i = 0; i + 1 < lines.length; i += 1) {
    if (!/^\s*\|/u.test(lines[i]) || !/^\s*\|(\s*:?-+:?\s*\|)+\s*$/u.test(lines[i + 1])) continue;
    const table = { header: cellsOf(lines[i]).map((c) => c.toLowerCase()), rows: [], line: i + 1 };
    let j = i + 2;
    for (; j < lines.length && /^\s*\|/u.test(lines[j]); j += 1) table.rows.push({ cells: cellsOf(lines[j]), line: j + 1 });
    tables.push(table);
    i = j - 1;
  }
  return tables;
}

/** 1-based line of a character offset. */
const lineAt = (text, offset) => text.slice(0, offset).split('\n').length;

export default function InfoMatchesExtensions() {
  /** policy → { limit, window_seconds, key, field, where: ['requestPasswordReset (POST /auth/...)'], endpoints: Set<'POST /path'> } */
  const policies = new Map();
  let description;
  let descriptionLocation;
  /** @type {{ name: string, description: string, location: any }[]} */
  const tags = [];
  /** @type {{ name: string, description: string, location: any, node: any }[]} */
  const operations = [];
  let root;
  let currentPath;

  function declare(operation, ctx, method) {
    const here = { node: operation, location: ctx.location };
    const endpoint = `${method.toUpperCase()} ${currentPath}`;
    const name = operation.operationId ? `${operation.operationId} (${endpoint})` : endpoint;
    for (const field of FIELDS) {
      const budget = derefChild(ctx, here, field).node;
      // A malformed budget is quazzar/rate-limit's finding.
      if (!budget || typeof budget.policy !== 'string' || !isPositiveInteger(budget.limit) || !isPositiveInteger(budget.window_seconds)) continue;
      const known = policies.get(budget.policy);
      if (known) {
        if (!known.where.includes(name)) known.where.push(name);
        known.endpoints.add(endpoint);
      } else {
        policies.set(budget.policy, { ...budget, field, where: [name], endpoints: new Set([endpoint]) });
      }
    }
  }

  function check(ctx) {
    if (typeof description === 'string' && descriptionLocation) checkText(ctx, description, descriptionLocation, 'info.description', true);
    for (const tag of tags) checkText(ctx, tag.description, tag.location, `the description of tag \`${tag.name}\``, false);
    for (const op of operations) checkText(ctx, op.description, op.location, `the description of \`${op.name}\``, false, op.node);
  }

  /** Checks one text; `tables` only for info.description (a tag's description has no budget table). */
  function checkText(ctx, description, descriptionLocation, label, withTables, operation) {
    const lines = description.split('\n');
    // Where the text starts in its file: a block scalar keeps its lines (the first two located);
    // a one-line text sits on its key's line (`description: …`).
    const body = String(descriptionLocation.source?.body ?? '').split('\n');
    const first = lines[0].trim();
    let start = body.findIndex((l, k) => l.trim() === first && (lines.length < 2 || (body[k + 1] ?? '').trim() === lines[1].trim()));
    if (start < 0 && lines.filter((l) => l.trim()).length === 1) {
      start = body.findIndex((l) => /^\s*(?:-\s+)?description:\s/u.test(l) && l.trimEnd().endsWith(first));
    }
    const file = String(descriptionLocation.source?.absoluteRef ?? '').split(/[\\/]/u).pop();
    const report = (line, message) =>
      ctx.report({
        message: `${label} line ${line}${start >= 0 && first ? ` (${file} line ${start + line})` : ''} (\`${lines[line - 1].trim()}\`): ${message}`,
        location: descriptionLocation,
      });
    const of = (p) => `\`${p.field}\` of ${p.where.join(', ')}`;
    const says = (p) => `${p.limit} per ${p.window_seconds} s per ${p.key}`;

    // 1. rate-limit tables
    for (const table of withTables ? tablesOf(lines) : []) {
      const col = (name) => table.header.findIndex((h) => h.includes(name));
      const [budgetCol, policyCol, keyCol, endpointCol] = [col('rate limit'), col('policy'), col('key'), col('endpoint')];
      if (budgetCol < 0 || policyCol < 0) continue;
      const seen = new Set();
      for (const row of table.rows) {
        const policyName = /`([^`]+)`/u.exec(row.cells[policyCol] ?? '')?.[1] ?? (row.cells[policyCol] ?? '').trim();
        seen.add(policyName);
        const policy = policies.get(policyName);
        if (!policy) {
          report(row.line, `names policy \`${policyName}\`, which no operation declares (${[...policies.keys()].map((p) => `\`${p}\``).join(', ')}).`);
          continue;
        }
        const budget = parseBudget(row.cells[budgetCol] ?? '');
        const key = keyCol >= 0 ? parseKey(row.cells[keyCol] ?? '') : policy.key;
        const wrong = [];
        if (!budget) wrong.push(`no "N … per W seconds" in \`${row.cells[budgetCol]}\``);
        else {
          if (budget.limit !== policy.limit) wrong.push(`limit ${budget.limit}, not ${policy.limit}`);
          if (budget.window !== policy.window_seconds) wrong.push(`window ${budget.window} s, not ${policy.window_seconds} s`);
        }
        if (key !== policy.key) wrong.push(`key ${key ?? `\`${row.cells[keyCol]}\``}, not ${policy.key}`);
        if (wrong.length) report(row.line, `says ${wrong.join(', ')}: ${of(policy)} is ${says(policy)}.`);
        const endpoint = /^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE)\s+(\/\S*)/u.exec(row.cells[endpointCol >= 0 ? endpointCol : 0] ?? '');
        if (endpoint) {
          const named = `${endpoint[1]} ${endpoint[2].replace(/[,.;]$/u, '')}`;
          if (!policy.endpoints.has(named)) report(row.line, `puts ${named} under policy \`${policyName}\`, but that policy is declared by ${policy.where.join(', ')}.`);
        }
      }
      for (const [name, policy] of policies) {
        if (!seen.has(name)) report(table.line, `the rate-limit table has no row for policy \`${name}\` (${of(policy)}: ${says(policy)}); add one.`);
      }
    }

    // 2. statements in the prose
    for (const m of description.matchAll(/"([a-z0-9-]+)";q=(\d+);w=(\d+)/gu)) {
      const policy = policies.get(m[1]);
      const line = lineAt(description, m.index);
      if (!policy) report(line, `\`${m[0]}\` names policy \`${m[1]}\`, which no operation declares.`);
      else if (Number(m[2]) !== policy.limit || Number(m[3]) !== policy.window_seconds) report(line, `\`${m[0]}\` contradicts ${of(policy)}: ${says(policy)}.`);
    }
    for (const m of description.matchAll(/\bthe ([a-z0-9-]+) limit \(([^)]*)\)/giu)) {
      const policy = policies.get(m[1].toLowerCase());
      const budget = parseBudget(m[2]);
      if (!policy || !budget) continue;
      const key = parseKey(m[2].replace(/^.*\bper\s+(?:\d+\s+seconds?|minute|hour|day)\s+per\s+/iu, ''));
      if (budget.limit !== policy.limit || budget.window !== policy.window_seconds || (key && key !== policy.key)) {
        report(lineAt(description, m.index), `"${m[0]}" contradicts ${of(policy)}: ${says(policy)}.`);
      }
    }
    const lockout = root?.['x-totp-lockout'];
    if (lockout && isPositiveInteger(lockout.max_failures) && isPositiveInteger(lockout.lock_seconds)) {
      for (const m of description.matchAll(/(\d+) wrong (?:TOTP )?codes in a row([^.]*?)\bfor (\d+) (minutes?|seconds?)/giu)) {
        const seconds = Number(m[3]) * (m[4].startsWith('minute') ? 60 : 1);
        if (Number(m[1]) !== lockout.max_failures || seconds !== lockout.lock_seconds) {
          report(lineAt(description, m.index), `"${m[0].replace(/\s+/gu, ' ')}" contradicts \`x-totp-lockout\` (max_failures ${lockout.max_failures}, lock_seconds ${lockout.lock_seconds}).`);
        }
      }
    }
    // "`x-recent-authentication.max_age_seconds` (600)": the operation's extension, else the root's
    for (const m of description.matchAll(/`(x-[a-z0-9-]+)\.([a-z_]+)`\s*\((\d+)\)/gu)) {
      const holder = operation?.[m[1]] ?? root?.[m[1]];
      const value = holder && typeof holder === 'object' ? holder[m[2]] : undefined;
      if (value === undefined) report(lineAt(description, m.index), `"${m[0]}": no \`${m[1]}.${m[2]}\` ${operation ? 'on this operation or ' : ''}at the root.`);
      else if (value !== Number(m[3])) report(lineAt(description, m.index), `"${m[0]}" contradicts \`${m[1]}.${m[2]}\` (${value}).`);
    }
    if (operation) {
      const quota = operation['x-quota'];
      for (const m of description.matchAll(/\*\*Quota:\*\*\s+at most (\d+)/gu)) {
        if (!quota || quota.limit !== Number(m[1])) report(lineAt(description, m.index), `"${m[0]}" contradicts \`x-quota\` (${quota ? `limit ${quota.limit}` : 'none'}).`);
      }
      const recipient = operation['x-rate-limit-recipient'];
      for (const m of description.matchAll(/\*\*Per-recipient budget:\*\*[^]*?at most (\d+)\b[^]*?\bper\s+(?:(\d+)\s+seconds?|(minute)|(hour)|(day))/gu)) {
        const window = m[2] ? Number(m[2]) : m[3] ? 60 : m[4] ? 3600 : 86400;
        if (!recipient || recipient.limit !== Number(m[1]) || recipient.window_seconds !== window) {
          report(lineAt(description, m.index), `"${m[0].replace(/\s+/gu, ' ')}" contradicts \`x-rate-limit-recipient\` (${recipient ? `${recipient.limit} per ${recipient.window_seconds} s` : 'none'}).`);
        }
      }
    }
    const bodyLimit = root?.['x-request-body-limit-bytes'];
    if (isPositiveInteger(bodyLimit)) {
      for (const m of description.matchAll(/(\d+)\**\s+bytes\b/gu)) {
        if (Number(m[1]) !== bodyLimit) report(lineAt(description, m.index), `"${m[0]}" contradicts \`x-request-body-limit-bytes\` (${bodyLimit}).`);
      }
    }
  }

  return {
    Root: {
      enter(node) {
        root = node;
      },
      leave(_node, ctx) {
        check(ctx);
      },
    },
    Tag: {
      enter(tag, ctx) {
        if (typeof tag.description === 'string') tags.push({ name: tag.name, description: tag.description, location: ctx.location.child(['description']) });
      },
    },
    Info: {
      enter(info, ctx) {
        description = info.description;
        descriptionLocation = info.description === undefined ? undefined : ctx.location.child(['description']);
      },
    },
    PathItem: {
      enter(_pathItem, ctx) {
        if (typeof ctx.key === 'string' && ctx.key.startsWith('/')) currentPath = ctx.key;
      },
    },
    Operation: {
      enter(operation, ctx) {
        if (!METHODS.includes(String(ctx.key))) return;
        declare(operation, ctx, String(ctx.key));
        if (typeof operation.description === 'string') {
          const name = operation.operationId ?? `${String(ctx.key).toUpperCase()} ${currentPath}`;
          operations.push({ name, description: operation.description, location: ctx.location.child(['description']), node: operation });
        }
      },
    },
  };
}
