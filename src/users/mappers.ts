import type { components } from '../../generated/api.d.ts';
import type { ProfileRow, UserRow } from './repository.ts';

type Schemas = components['schemas'];

export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** The `User` schema (GET/PATCH /users/me). */
export function toUser(u: ProfileRow): Schemas['User'] {
  return {
    id: u.id,
    email: u.email,
    full_name: u.full_name,
    company_name: u.company_name,
    phone: u.phone,
    is_active: u.is_active,
    totp_enabled: u.totp_enabled,
    created_at: isoTime(u.created_at),
  };
}

/** The `UserSummary` schema (the login response's `user`). */
export function toSummary(u: UserRow): Schemas['UserSummary'] {
  return { id: u.id, email: u.email, full_name: u.full_name, is_active: u.is_active, totp_enabled: u.totp_enabled };
}

/** The `RegisterResponse` schema: exactly the seed's fields. */
export function toRegisterResponse(u: UserRow): Schemas['RegisterResponse'] {
  return { id: u.id, email: u.email, full_name: u.full_name, is_active: u.is_active, created_at: isoTime(u.created_at) };
}
