/** What the API's routes are given: the database, the runtime and the manifest catalogue. */
import type { Knex } from 'knex';
import type { Config } from '../../config.ts';
import type { ConnectorRegistry } from '../../connector-sdk/index.ts';
import type { FeedStatus } from '../../feed/index.ts';
import type { FeedWake } from '../../feed/wake.ts';
import type { FileService } from '../../files/service.ts';
import type { Logger } from '../../log.ts';
import type { Catalogue } from '../../manifest/catalogue.ts';
import type { PluginInfo } from '../../plugins/types.ts';
import type { Runtime } from '../../runtime/index.ts';
import type { makeSecretStore } from '../../secrets/store.ts';
import type { TenantStatusCache } from '../../tenants/status.ts';

export interface RouteDeps {
  config: Config;
  db: Knex;
  log: Logger;
  runtime: Runtime;
  catalogue: Catalogue;
  tenants: TenantStatusCache;
  /** The tenant secrets store; without it the API has no `/v1/secrets` routes. */
  secrets?: TenantSecrets;
  /** File storage; without it the API has no `/v1/files` routes. */
  files?: FileService;
  /** The change feed of this process (engine/feed); absent or off: `/v1/events` answers 503. */
  feed?: FeedStatus;
  /** Wakes the feed's streams when their tenant's events are recorded; without it they poll. */
  feedWake?: FeedWake;
  /** The connectors this engine runs; without it the API has no `/v1/connectors` routes. */
  connectors?: ConnectorRegistry;
  /** Where each plugin connector came from (`ATLAS_CONNECTORS`). */
  plugins?: readonly PluginInfo[];
  /** The development sign-in's signing secret: set only on loopback with the development secret. */
  devSignIn?: { secret: string };
}

export type TenantSecrets = ReturnType<typeof makeSecretStore>;
