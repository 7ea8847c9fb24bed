import type { CheckDef, CheckResult, Contract, ContractOperation, Exchange, Outcome, RunResult } from './types.ts';

// Feature profiles: what a deployment may implement step by step. They are derived from the
// contract's operation tags (a new tag becomes a profile of its own), plus `harness`, the
// optional test harness. A documented operation that answers the GLOBAL 404 (`not_found` on an
// operation that documents no 404) is "not implemented": it is reported once, and every check
// that calls it — or calls an operation of the same profile that cannot tell its own 404 from
// the global one — is SKIPPED with that reason instead of failing.

export interface Profile {
  name: string;
  title: string;
  /** Contract tags whose operations make up the profile. */
  tags: string[];
}

/** The named groups; tags not listed become a profile of their own. */
const GROUPS: Profile[] = [
  { name: 'core', title: 'core (seed page: register, login, sessions, profile, health)', tags: ['auth', 'users', 'meta'] },
  { name: 'totp', title: 'TOTP second factor', tags: ['totp'] },
  { name: 'password-reset', title: 'password reset by e-mail', tags: ['password-reset'] },
  { name: 'api-keys', title: 'API keys and projects', tags: ['api-keys', 'projects'] },
];
export const HARNESS_PROFILE: Profile = { name: 'harness', title: 'conformance harness (clock, activation, budget resets)', tags: [] };

/** Check areas that exercise one feature profile; every other area is core. */
const AREA_PROFILE: Record<string, string> = { totp: 'totp', 'password-reset': 'password-reset', 'api-keys': 'api-keys' };

export function profilesOf(contract: Contract): Profile[] {
  const tags = [...new Set(contract.operations.flatMap((op) => op.tags))];
  const known = new Set(GROUPS.flatMap((g) => g.tags));
  const extra = tags.filter((t) => !known.has(t)).map((t) => ({ name: t, title: t, tags: [t] }));
  return [...GROUPS, ...extra, HARNESS_PROFILE];
}

export function profileOfOperation(op: ContractOperation): string {
  const tag = op.tags[0];
  return GROUPS.find((g) => op.tags.some((t) => g.tags.includes(t)))?.name ?? tag ?? 'core';
}

/** The feature profile a check belongs to (`--profile`), plus `harness` when it needs it. */
export function checkProfiles(check: Pick<CheckDef, 'area' | 'needs'>): string[] {
  const feature = AREA_PROFILE[check.area] ?? 'core';
  return check.needs?.includes('harness') ? [feature, 'harness'] : [feature];
}

/** Thrown by the client: the check calls an operation the deployment does not implement. */
export class NotImplemented extends Error {
  constructor(
    readonly operationId: string,
    readonly profile: string,
  ) {
    super(`not implemented: ${operationId} (profile ${profile}) answers the global 404`);
  }
}

export interface NotImplementedEntry {
  operationId: string;
  profile: string;
  /** The exchange that showed it first. */
  exchangeId: number;
}

/** What the run learnt about the deployment's profiles. */
export class Implementation {
  private readonly missing = new Map<string, NotImplementedEntry>();

  /** True when this answer shows the operation is not there at all. */
  static isGlobal404(op: ContractOperation, ex: Pick<Exchange, 'status' | 'body'>): boolean {
    return ex.status === 404 && !op.statuses.includes(404) && ex.body?.code === 'not_found';
  }

  /** Before a call: the operation, or (for one that documents its own 404) its profile, is known absent. */
  known(op: ContractOperation, bySibling = false): NotImplemented | undefined {
    const profile = profileOfOperation(op);
    if (this.missing.has(op.operationId)) return new NotImplemented(op.operationId, profile);
    if (op.statuses.includes(404) || bySibling) {
      const sibling = [...this.missing.values()].find((m) => m.profile === profile);
      if (sibling) return new NotImplemented(op.operationId, profile);
    }
    return undefined;
  }

  /** Another operation of `op`'s profile was found absent. */
  siblingMissing(op: ContractOperation): boolean {
    const profile = profileOfOperation(op);
    return [...this.missing.values()].some((m) => m.profile === profile);
  }

  record(op: ContractOperation, exchangeId: number): NotImplemented {
    const profile = profileOfOperation(op);
    if (!this.missing.has(op.operationId)) this.missing.set(op.operationId, { operationId: op.operationId, profile, exchangeId });
    return new NotImplemented(op.operationId, profile);
  }

  entries(): NotImplementedEntry[] {
    return [...this.missing.values()];
  }
}

export type ProfileRow = { profile: string; title: string; implemented: boolean; missing: string[]; /** Checks of any profile skipped because this one is absent. */ blocked: string[] } & Record<Outcome | 'notImplemented', number>;

/** The profile × outcome table of a run. */
export function profileTable(contract: Contract, checks: CheckResult[], notImplemented: NotImplementedEntry[], harness: boolean): ProfileRow[] {
  return profilesOf(contract).map((p) => {
    const mine = checks.filter((c) => checkProfiles(c).includes(p.name));
    const missing = notImplemented.filter((n) => n.profile === p.name).map((n) => n.operationId);
    const notImpl = mine.filter((c) => c.outcome === 'skip' && c.reason?.startsWith('not implemented')).length;
    const count = (o: Outcome): number => mine.filter((c) => c.outcome === o).length;
    return {
      profile: p.name,
      title: p.title,
      implemented: p.name === 'harness' ? harness : missing.length === 0,
      missing,
      blocked: checks.filter((c) => c.outcome === 'skip' && c.reason?.startsWith('not implemented') && c.reason.includes(`(profile ${p.name})`)).map((c) => c.id),
      pass: count('pass'),
      fail: count('fail'),
      warn: count('warn'),
      partial: count('partial'),
      skip: count('skip') - notImpl,
      notImplemented: notImpl,
    };
  });
}

/** Console lines: the "not implemented" findings once, then the table. */
export function profileLines(rows: ProfileRow[]): string[] {
  const lines: string[] = [];
  for (const r of rows.filter((row) => row.missing.length)) {
    lines.push(`NOT IMPLEMENTED: ${r.title} — ${r.missing.join(', ')} answer${r.missing.length === 1 ? 's' : ''} the global 404; ${r.blocked.length} check(s) that need it skipped (${r.blocked.join(', ')})`);
  }
  lines.push('Profiles:');
  lines.push(`  ${'profile'.padEnd(16)} ${'pass'.padStart(4)} ${'fail'.padStart(4)} ${'warn'.padStart(4)} ${'part'.padStart(4)} ${'skip'.padStart(4)} ${'n/i'.padStart(4)}  state`);
  for (const r of rows) {
    // A profile no check of this run exercised (a subset, a missing capability) was not
    // tested: nothing shows it is implemented.
    const tested = r.pass + r.fail + r.warn + r.partial > 0;
    const state = r.profile === 'harness' ? (r.implemented ? 'offered' : 'not offered') : !r.implemented ? 'NOT IMPLEMENTED' : tested ? 'implemented' : 'not tested';
    lines.push(`  ${r.profile.padEnd(16)} ${String(r.pass).padStart(4)} ${String(r.fail).padStart(4)} ${String(r.warn).padStart(4)} ${String(r.partial).padStart(4)} ${String(r.skip).padStart(4)} ${String(r.notImplemented).padStart(4)}  ${state}`);
  }
  return lines;
}

/** `--profile`: the checks of these feature profiles (and `harness`: the checks needing it). */
export function selectProfiles(checks: CheckDef[], profiles: string[] | undefined): CheckDef[] {
  if (!profiles?.length) return checks;
  const wanted = new Set(profiles.map((p) => p.toLowerCase()));
  return checks.filter((c) => checkProfiles(c).some((p) => wanted.has(p)));
}

export type RunProfiles = Pick<RunResult, 'runId'> & { profiles: ProfileRow[]; notImplemented: NotImplementedEntry[] };

/**
 * For checks that walk every operation: a call to an operation the deployment does not
 * implement is noted and answers undefined (the check goes on with the other operations)
 * instead of ending the whole check as skipped.
 */
export async function unlessAbsent<T>(ctx: { note(message: string): void }, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof NotImplemented)) throw error;
    ctx.note(`${error.message}: not judged here`);
    return undefined;
  }
}
