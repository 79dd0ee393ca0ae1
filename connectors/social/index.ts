import { defineConnector } from 'atlas-engine/sdk';
import { baseSetting, LINKEDIN_VERSION, mapSocialError, NETWORKS } from './client.ts';
import { publish } from './lib/actions/publish.ts';

/**
 * Social publishing through each network's REST API with the tenant's OAuth integration
 * (OAuthProvider manifests `x`, `linkedin`, `meta`, `tiktok`).
 */
export const social = defineConnector({
  id: 'social',
  description: 'Publish posts to X, LinkedIn, Facebook Pages, Instagram and TikTok.',
  auth: { type: 'none' },
  settings: [...NETWORKS.map(baseSetting), LINKEDIN_VERSION],
  // A per-tenant, per-network guard well under every network's posting limits
  // (X: 100 posts per 15 minutes per user; Instagram: 50 API posts per 24 hours).
  rateLimits: [{ limit: 25, windowMs: 3_600_000, key: 'network:{{ network }}' }],
  mapError: mapSocialError,
  actions: [publish],
});
