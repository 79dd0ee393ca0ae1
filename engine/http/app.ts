import type { Knex } from 'knex';
import Koa from 'koa';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { healthRoutes } from './health.ts';
import { errorHandler, requestId } from './middleware.ts';

export interface AppDeps {
  config: Config;
  db: Knex;
  log: Logger;
}

/** The Koa application. Middleware order is part of the contract (ARCHITECTURE.md). */
export function makeApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = deps.config.env.ATLAS_TRUST_PROXY === 'true';
  // Koa's default handler prints to stderr; the error handler below already logged it.
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(deps.log));
  const health = healthRoutes(deps.db);
  app.use(health.routes());
  return app;
}
