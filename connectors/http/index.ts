import { defineConnector } from 'atlas-engine/sdk';
import { request } from './lib/actions/request.ts';

/** Generic HTTP calls, for APIs without a dedicated connector. */
export const http = defineConnector({
  id: 'http',
  description: 'Call any HTTP API (audited and rate limited through the hub).',
  auth: { type: 'none' },
  actions: [request],
});
