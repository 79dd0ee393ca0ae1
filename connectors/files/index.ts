import { defineConnector } from 'atlas-engine/sdk';
import { put } from './lib/actions/put.ts';
import { get, list, remove, url } from './lib/actions/read.ts';

/**
 * The tenant's files (the same store as `/v1/files`): quotas, signed URLs and tenant
 * isolation as through the API. URLs given to `put` are fetched through the hub, SSRF-guarded
 * like every outbound call.
 */
export const files = defineConnector({
  id: 'files',
  description: "Store, read, list, link and delete the tenant's files.",
  auth: { type: 'none' },
  actions: [put, get, url, list, remove],
});
