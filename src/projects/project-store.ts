import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface ProjectRecord {
  id: string;
  name: string;
  createdAt: number;
}

const toRecord = (r: { id: string; name: string; created_at: unknown }): ProjectRecord => ({
  id: r.id, name: r.name, createdAt: Number(r.created_at),
});

/** The owner's projects, oldest first; with `onlyIds`, just those (an API key's scope). */
export async function listOwnedProjects(db: Knex, ownerId: string, onlyIds?: string[]): Promise<ProjectRecord[]> {
  if (onlyIds?.length === 0) return [];
  const q = db('projects').where({ owner_id: ownerId });
  if (onlyIds !== undefined) q.whereIn('id', onlyIds);
  const rows = await q.orderBy([{ column: 'created_at' }, { column: 'id' }]).select('id', 'name', 'created_at');
  return rows.map(toRecord);
}

export async function insertProject(db: Knex | Knex.Transaction, ownerId: string, name: string, now: number): Promise<ProjectRecord> {
  const record = { id: randomUUID(), name, createdAt: now };
  await db('projects').insert({ id: record.id, owner_id: ownerId, name, created_at: now });
  return record;
}

/** Undefined when absent or owned by someone else: the caller answers 404 either way. */
export async function findOwnedProject(db: Knex, ownerId: string, projectId: string): Promise<ProjectRecord | undefined> {
  const row = await db('projects').where({ id: projectId, owner_id: ownerId }).first('id', 'name', 'created_at');
  return row ? toRecord(row) : undefined;
}
