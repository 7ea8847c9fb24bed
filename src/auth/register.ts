import { randomUUID } from 'node:crypto';
import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandler } from '../deps.ts';
import { isUniqueViolation } from '../db/connect.ts';
import { Problem } from '../errors/problem.ts';
import { findUserByEmail, insertUser } from '../users/repository.ts';
import { toRegisterResponse } from '../users/mappers.ts';
import { hashPassword } from './passwords.ts';
import { weakPasswordReason } from './password-policy.ts';

type RegisterBody = operations['register']['requestBody']['content']['application/json'];
type RegisterResponse = operations['register']['responses'][201]['content']['application/json'];

export function weakPasswordProblem(reason: string, pointer: string): Problem {
  return new Problem(422, 'weak_password', reason, { errors: [{ pointer, detail: reason }] });
}

function emailTaken(): Problem {
  return new Problem(409, 'email_taken', 'An account with this e-mail address already exists.');
}

export function createRegisterHandler(deps: AppDeps): OperationHandler {
  return async (c, ctx) => {
    const body = c.request.requestBody as RegisterBody;
    const reason = weakPasswordReason(body.password, body.email);
    if (reason !== null) throw weakPasswordProblem(reason, '/password');
    // Cheap early answer; the unique index below is what makes concurrent registrations safe.
    if ((await findUserByEmail(deps.db, body.email)) !== undefined) throw emailTaken();

    const passwordHash = await hashPassword(body.password, deps.config.scryptLogN);
    try {
      const user = await insertUser(deps.db, {
        id: randomUUID(),
        email: body.email,
        password_hash: passwordHash,
        full_name: body.full_name,
        company_name: body.company_name ?? null,
        now: deps.clock.now(),
      });
      const response: RegisterResponse = toRegisterResponse(user);
      ctx.status = 201;
      ctx.body = response;
    } catch (err) {
      if (isUniqueViolation(err)) throw emailTaken();
      throw err;
    }
  };
}
