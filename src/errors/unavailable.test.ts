import { describe, expect, it } from 'vitest';
import { isUnavailable, ServiceUnavailableError, unavailableProblem, unavailableProblemFor } from './unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isUnavailable: which errors become 503 instead of 500', () => {
  it('connection-class errors of the network, PostgreSQL, knex, SQLite and the Redis store', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001', '53300', '57014', 'SQLITE_BUSY']) {
      expect(isUnavailable(withCode(code)), code).toBe(true);
    }
    expect(isUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }))).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(new Error('select 1 - Connection terminated due to connection timeout'))).toBe(true);
    expect(isUnavailable(new ServiceUnavailableError('redis away'))).toBe(true);
    expect(isUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe(true);
    expect(isUnavailable(new Error('wrapped', { cause: withCode('ECONNRESET') }))).toBe(true);
  });

  it('bugs and bad data stay 500', () => {
    for (const code of ['23505', '22P02', '42P01', '42703', 'SQLITE_CONSTRAINT_UNIQUE', 'ERR_INVALID_ARG_TYPE']) {
      expect(isUnavailable(withCode(code)), code).toBe(false);
    }
    expect(isUnavailable(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
    expect(isUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('answers 503 service_unavailable with Retry-After', () => {
    const p = unavailableProblem();
    expect(p.status).toBe(503);
    expect(p.code).toBe('service_unavailable');
    expect(Number(p.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it('the detail names the dependency: the one a ServiceUnavailableError names, else the database (issue 20)', () => {
    const redis = unavailableProblemFor(new ServiceUnavailableError('the rate-limit store (Redis) cannot be reached', withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:6379')));
    expect(redis.detail).toBe('The rate-limit store (Redis) cannot be reached right now; retry later.');
    expect(unavailableProblemFor(new Error('wrapped', { cause: new ServiceUnavailableError('the rate-limit store (Redis) cannot be reached') })).detail).toMatch(/^The rate-limit store \(Redis\)/);
    const db = unavailableProblemFor(withCode('57P01', 'terminating connection due to administrator command'));
    expect(db.detail).toBe('The database cannot be reached right now; retry later.');
    expect(db.detail).not.toContain('administrator');
  });
});
