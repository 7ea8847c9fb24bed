import type { Context } from 'openapi-backend';
import type Koa from 'koa';
import type { Knex } from 'knex';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Credential } from './auth/credential.ts';
import type { Contract } from './contract.ts';
import type { Logger } from './log.ts';
import type { RateLimiter } from './rate-limit/limiter.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Implemented in src/mail/ (SMTP, outbox, memory); declared here so every domain can depend on it. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

/** Everything a handler may use; built once per app by createApp(). */
export interface AppDeps {
  config: Config;
  db: Knex;
  clock: Clock;
  log: Logger;
  mailer: Mailer;
  limiter: RateLimiter;
  contract: Contract;
  keys: { jwtSecret: Uint8Array; dataKey: Buffer };
  /** Faults the conformance harness injects (`POST /__harness/faults/database`); none otherwise. */
  faults: Faults;
}

export interface Faults {
  /** Until when (clock ms) the health probe treats the database as unreachable; null: no fault. */
  databaseUnavailableUntil: number | null;
}

/** Who made the request: set on `ctx.state.principal` by the security handlers. */
export type Principal =
  | { kind: 'session'; userId: string; sessionId: string }
  | { kind: 'api_key'; userId: string; apiKeyId: string; projectIds: string[] };

export interface AppState {
  principal?: Principal;
  /** Client address, after TRUST_PROXY handling. */
  clientIp: string;
  /** The contract operation the request was routed to (unset for unknown paths). */
  operationId?: string;
  /** What the Authorization header carried, resolved once for secured operations. */
  credential?: Credential;
  /** false for answers outside the contract (docs, /openapi.json, harness, pages): not checked against it. */
  servedByContract?: boolean;
}

export type AppContext = Koa.ParameterizedContext<AppState>;

/** Handlers set ctx.status / ctx.body, read ctx.state.principal and throw Problem for errors. */
export type OperationHandler = (c: Context, ctx: AppContext) => Promise<void>;

export type OperationHandlers = Record<string, OperationHandler>;
