export type { AuditEntry, AuditSink } from '../audit/entry.ts';
export { MemoryAuditSink } from '../audit/entry.ts';
export {
  makeRedactor,
  REDACTED,
  type Redactor,
  redact,
  redactHeaders,
  redactString,
} from '../audit/redact.ts';
export { DEFAULT_MAX_RESPONSE_BYTES } from './body.ts';
export { type ActionContextDeps, credentialScope, makeActionContext } from './context.ts';
export { classifyStatus, mapFetchFailure, mapHttpError } from './errors.ts';
export { type HttpClientOptions, makeHttpClient } from './http.ts';
export { MemoryPlatformStore, makePlatformAccess, type PlatformStore } from './platform.ts';
export type { RateLimiter, ResolvedRateLimit } from './rate-limit.ts';
export { credentialFingerprint, MemoryRateLimiter, resolveRateLimits, sleep } from './rate-limit.ts';
export { MAX_RETRY_AFTER_MS, parseRetryAfter } from './retry-after.ts';
export { assertPublicUrl, isBlockedAddress, parseAllowlist, type SsrfPolicy } from './ssrf.ts';
