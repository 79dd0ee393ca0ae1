/**
 * The OAuth hub: tenants connect provider accounts once (authorization code + PKCE), and
 * connectors get a valid token through `ctx.accessToken(provider)` from then on; platform
 * apps use client credentials. See README "Connecting accounts (OAuth)".
 */
export { makeAppTokens } from './app-tokens.ts';
export { type OAuthDeps, REFRESH_MARGIN_MS, redirectUriFor } from './deps.ts';
export { OAuthError, type OAuthFailureKind } from './errors.ts';
export {
  type AuthorizationStart,
  type BrowserBinding,
  bindingCookieName,
  type CallbackFailure,
  type CallbackResult,
  type CallbackSuccess,
  completeAuthorization,
  startAuthorization,
} from './flow.ts';
export { integrationsOf, type Revocation, removeIntegration } from './integrations.ts';
export {
  type ConnectLink,
  type ConnectLinkRequest,
  LINK_TTL_MS,
  MAX_LINK_TTL_MS,
  mintConnectLink,
  type OpenedLink,
  openConnectLink,
} from './links.ts';
export { expandEndpoint, resolveProvider } from './provider.ts';
export { STATE_TTL_MS } from './states.ts';
export type { IntegrationStatus, IntegrationView } from './store.ts';
export { makeTokenSource } from './tokens.ts';
