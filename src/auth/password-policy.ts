import { adjacencyGraphs } from '@zxcvbn-ts/language-common';
import { BREACHED_PASSWORDS, COMMON_PASSWORDS, LONGEST_BREACHED } from './common-passwords.ts';

/**
 * Why a password is refused (422 weak_password), or null when it is acceptable.
 * Length 15..128 is the schema's job; this checks what a schema cannot (SECURITY.md 1, 35):
 * the account's own e-mail, and passwords an attacker's first guesses contain — a breached
 * password (corpus in common-passwords.ts) however it is decorated, keyboard walks, sequences
 * and repetitions. The password is never trimmed or case-folded for storage; lower-casing and
 * leet here only widen the match.
 *
 * The rule: split the password into predictable pieces — at most ONE breached password (as
 * written, or in leet: @→a, 4→a, 8→b, (→c, 3→e, 6/9→g, 1→i or l, !→i, |→l, 0→o, $/5→s,
 * 7/+→t, 2→z), keyboard walks on the qwerty/qwertz layouts (3+ adjacent keys: `qwerty`,
 * `asdf`, `1qaz`), sequences (`abc`, `12345`, `987`), runs of one character (`1111`), a block
 * repeating the block before it (`iloveyouiloveyou`) and years (19xx, 20xx) — and refuse it
 * when at most 2 characters are left over. So `P@ssw0rd1234567`, `Password123456!` and
 * `football-2024-!!!` are refused, while a passphrase of several words (`correct horse
 * battery staple!`) or a breached word with real randomness added (`michael-4471-2280-93`)
 * is not: only one breached piece counts, and random characters are left over.
 */
export function weakPasswordReason(password: string, email: string): string | null {
  const lowered = password.toLowerCase();
  const mail = email.toLowerCase();
  if (lowered === mail || lowered === mail.split('@')[0]) return 'The password must not be your e-mail address.';
  if (COMMON_PASSWORDS.has(lowered) || BREACHED_PASSWORDS.has(lowered)) return TOO_COMMON;
  if (isRepetitive(lowered)) return PATTERN;
  // UTF-16 code units, so that indexes into the joined strings line up (an astral character
  // is two units that never match a word, a walk or a sequence).
  const leftover = predictableLeftover(lowered.split(''), mailWords(mail));
  if (leftover.withoutWord <= MAX_LEFTOVER) return PATTERN;
  if (leftover.withWord <= MAX_LEFTOVER) return TOO_COMMON;
  return null;
}

const TOO_COMMON = 'This password is too common (a breached password, perhaps with digits, symbols or leet added); choose a less predictable one.';
const PATTERN = 'This password is a keyboard pattern, sequence or repetition; choose a less predictable one.';

/** Characters a password may have beyond its predictable pieces and still be refused. */
const MAX_LEFTOVER = 2;
const MIN_WALK = 3;
const MIN_WORD = 4;

/** The words of the address's local part (4+ letters): guessed like a breached password. */
function mailWords(mail: string): Set<string> {
  return new Set((mail.split('@')[0] ?? '').split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= MIN_WORD));
}

/** The first MIN_WORD characters of every corpus entry. */
const BREACHED_PREFIXES: ReadonlySet<string> = new Set([...BREACHED_PASSWORDS].map((pw) => pw.slice(0, MIN_WORD)));

const LEET: Record<string, string> = {
  '@': 'a', '4': 'a', '8': 'b', '(': 'c', '3': 'e', '6': 'g', '9': 'g', '1': 'i', '!': 'i', '|': 'l',
  '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't', '2': 'z',
};

/** Keys next to each key (either shift state) on the qwerty and qwertz layouts, lower-cased. */
const ADJACENT: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const map = new Map<string, Set<string>>();
  for (const graph of [adjacencyGraphs.qwerty, adjacencyGraphs.qwertz] as Record<string, (string | null)[]>[]) {
    for (const [key, neighbours] of Object.entries(graph)) {
      const set = map.get(key.toLowerCase()) ?? new Set<string>();
      for (const n of neighbours) for (const c of n ?? '') set.add(c.toLowerCase());
      map.set(key.toLowerCase(), set);
    }
  }
  return map;
})();

const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** +1 / −1 when b follows a in a sequence (digits wrap 9→0), else 0. */
function step(a: string, b: string): number {
  if (isDigit(a) && isDigit(b)) {
    const d = (Number(b) - Number(a) + 10) % 10;
    return d === 1 ? 1 : d === 9 ? -1 : 0;
  }
  const d = (b.codePointAt(0) ?? 0) - (a.codePointAt(0) ?? 0);
  return d === 1 || d === -1 ? d : 0;
}

/**
 * The fewest characters left over when the password is covered by predictable pieces: without
 * any breached word (`withoutWord`) and with at most one (`withWord`); any count above
 * MAX_LEFTOVER may be reported as Infinity. Dynamic programming over positions, O(n ·
 * LONGEST_BREACHED) set lookups plus O(n²) block comparisons at most (n ≤ 256 code units), and
 * a random password stops after its third unpredictable character.
 */
function predictableLeftover(chars: string[], extraWords: ReadonlySet<string>): { withoutWord: number; withWord: number } {
  const n = chars.length;
  const plain = chars.join('');
  // Leet readings of the same length (one character for one), so positions line up.
  const readings = [...new Set([plain, chars.map((c) => LEET[c] ?? c).join(''), chars.map((c) => (c === '1' ? 'l' : LEET[c] ?? c)).join('')])];
  // Where a word may start: its first MIN_WORD characters begin some entry (most positions of
  // a random password do not, and are then not searched further).
  const startsWord = (from: number): boolean =>
    readings.some((r) => BREACHED_PREFIXES.has(r.slice(from, from + MIN_WORD))) ||
    [...extraWords].some((w) => readings.some((r) => r.startsWith(w, from)));
  const isWord = (from: number, to: number): boolean =>
    readings.some((r) => {
      const piece = r.slice(from, to);
      return BREACHED_PASSWORDS.has(piece) || extraWords.has(piece);
    });

  // Longest walk / sequence / run starting at each position.
  const walk = new Array<number>(n).fill(1);
  const seq = new Array<number>(n).fill(1);
  const run = new Array<number>(n).fill(1);
  for (let i = n - 2; i >= 0; i--) {
    const a = chars[i]!;
    const b = chars[i + 1]!;
    if (ADJACENT.get(a)?.has(b)) walk[i] = walk[i + 1]! + 1;
    if (a === b) run[i] = run[i + 1]! + 1;
    const s = step(a, b);
    if (s !== 0) seq[i] = i + 2 < n && step(b, chars[i + 2]!) === s ? seq[i + 1]! + 1 : 2;
  }

  // best[d][i]: fewest leftover characters covering chars[0..i) with d breached words used.
  const best = [new Array<number>(n + 1).fill(Infinity), new Array<number>(n + 1).fill(Infinity)];
  best[0]![0] = 0;
  for (let i = 0; i < n; i++) {
    for (const d of [0, 1]) {
      const here = best[d]![i]!;
      // Only "at most MAX_LEFTOVER" matters: a prefix with more left over is not followed.
      if (here > MAX_LEFTOVER) continue;
      const reach = (to: number, words: number): void => {
        if (here < best[words]![to]!) best[words]![to] = here;
      };
      if (here + 1 < best[d]![i + 1]!) best[d]![i + 1] = here + 1;
      for (const len of [walk[i]!, seq[i]!, run[i]!]) for (let to = i + MIN_WALK; to <= i + len; to++) reach(to, d);
      // A block repeating the block just before it.
      for (let len = MIN_WALK; len <= i && i + len <= n; len++) {
        if (chars[i] === chars[i - len] && plain.slice(i, i + len) === plain.slice(i - len, i)) reach(i + len, d);
      }
      // A year.
      if (i + 4 <= n && /^(19|20)\d\d$/u.test(plain.slice(i, i + 4))) reach(i + 4, d);
      if (d === 0 && startsWord(i)) for (let to = i + MIN_WORD; to <= Math.min(n, i + LONGEST_BREACHED); to++) if (isWord(i, to)) reach(to, 1);
    }
  }
  return { withoutWord: best[0]![n]!, withWord: Math.min(best[0]![n]!, best[1]![n]!) };
}

/** "abcabcabcabcabc", "xy12xy12xy12xy12": the whole password is one unit of ≤ 4 characters repeated. */
function isRepetitive(pw: string): boolean {
  const chars = [...pw];
  for (let unit = 1; unit <= 4; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}
