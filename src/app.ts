import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Context } from 'openapi-backend';
import { createApiKeysHandlers } from './api-keys/handlers.ts';
import { createAuthHandlers } from './auth/handlers.ts';
import { ShiftableClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { loadContract, type Contract } from './contract.ts';
import { connectDatabase, migrateToLatest } from './db/connect.ts';
import type { AppContext, AppDeps, AppState, Mailer } from './deps.ts';
import { problemMiddleware } from './errors/middleware.ts';
import { createHarness } from './harness/index.ts';
import { createHealthHandlers } from './health/handlers.ts';
import { requestContext } from './http/request-context.ts';
import { routeFirst } from './http/route.ts';
import { staticRoutes } from './http/static-routes.ts';
import { createLogger, errorFields } from './log.ts';
import { createMailer } from './mail/create-mailer.ts';
import { createBackend } from './openapi/backend.ts';
import { createDispatcher } from './openapi/dispatch.ts';
import { createHooks } from './openapi/hooks.ts';
import { dashboardRoutes } from './pages/dashboard.ts';
import { resetPasswordPage } from './pages/reset-password.ts';
import { createPasswordResetHandlers } from './password-reset/handlers.ts';
import { createProjectsHandlers } from './projects/handlers.ts';
import { createRateLimiter } from './rate-limit/index.ts';
import { ResponseChecker } from './response-check.ts';
import { createTotpHandlers } from './totp/handlers.ts';
import { createUserHandlers } from './users/handlers.ts';

export interface CreateAppOptions {
  config: Config;
  /** Defaults to a ShiftableClock on the system time (the harness moves it). */
  clock?: Clock;
  mailer?: Mailer;
  /** Where the docs site is served from (default dist/docs; tests point it elsewhere). */
  docsDir?: string;
  /**
   * The contract to serve and enforce; default generated/openapi.json. The conformance
   * self-test builds a 1.0.0 server from openapi/releases/1.0.0.json: what that contract does
   * not document (x-quota, x-rate-limit-recipient, recent authentication) is not enforced.
   */
  contract?: Contract;
  /** Where the built dashboard is served from (default dist/dashboard; tests build one elsewhere). */
  dashboardDir?: string;
}

export interface BuiltApp {
  app: Koa<AppState>;
  deps: AppDeps;
  close(): Promise<void>;
}

/**
 * Builds the server without listening: opens the database and migrates it, then wires
 * request context → problem+json → static routes / harness / pages → routing → body
 * parser → openapi-backend's router, hooks, validator and handlers (src/openapi/dispatch.ts).
 */
export async function createApp(opts: CreateAppOptions): Promise<BuiltApp> {
  const { config } = opts;
  const log = createLogger(config.logLevel);
  const clock = opts.clock ?? new ShiftableClock();
  const contract = opts.contract ?? loadContract(config.contractPath);
  const db = connectDatabase(config.database);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const deps: AppDeps = {
    config,
    db,
    clock,
    log,
    mailer: opts.mailer ?? createMailer(config, log),
    limiter: createRateLimiter(config, db, clock, log),
    contract,
    keys: { jwtSecret: new TextEncoder().encode(config.jwtSecret), dataKey: config.dataEncryptionKey },
    faults: { databaseUnavailableUntil: null },
  };

  const handlers = {
    ...createAuthHandlers(deps),
    ...createUserHandlers(deps),
    ...createHealthHandlers(deps),
    ...createTotpHandlers(deps),
    ...createPasswordResetHandlers(deps),
    ...createApiKeysHandlers(deps),
    ...createProjectsHandlers(deps),
  };
  const isValid = (kind: 'session' | 'api_key') => (_c: Context, ctx: AppContext): boolean =>
    ctx.state.credential?.kind === 'valid' && ctx.state.credential.principal.kind === kind;
  const api = createBackend(contract.document as never, { ...createHooks(deps), ...handlers }, {
    session: isValid('session'),
    apiKey: isValid('api_key'),
  });
  await api.init();

  const app = new Koa<AppState>();
  // Only errors that escape problemMiddleware (a bug) reach Koa's handler: log them.
  app.on('error', (err: unknown) => log.error('unhandled error outside the problem middleware', errorFields(err)));
  app.use(requestContext(deps));
  app.use(problemMiddleware(log, config.validateResponses ? new ResponseChecker(contract) : undefined));
  app.use(staticRoutes(deps, opts.docsDir));
  app.use(createHarness(deps));
  app.use(outsideContract(resetPasswordPage(deps)));
  app.use(dashboardRoutes(deps, opts.dashboardDir));
  app.use(routeFirst(api, contract.bodyLimitBytes));
  app.use(koaBody({
    json: true,
    urlencoded: false,
    text: false,
    multipart: false,
    jsonStrict: true,
    jsonLimit: contract.bodyLimitBytes,
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] as never,
  }));
  const dispatch = createDispatcher(api);
  app.use(async (ctx) => {
    await dispatch({ method: ctx.method, path: ctx.path, headers: ctx.headers as Record<string, string>, query: ctx.query as Record<string, string>, body: ctx.request.body }, ctx);
  });

  return {
    app,
    deps,
    async close() {
      await deps.mailer.close();
      await db.destroy();
    },
  };
}

/** Marks answers of a non-contract middleware so the response checker leaves them alone. */
function outsideContract(mw: Koa.Middleware): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    let passedOn = false;
    await mw(ctx, async () => {
      passedOn = true;
      await next();
    });
    if (!passedOn) ctx.state.servedByContract = false;
  };
}
