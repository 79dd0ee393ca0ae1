export { AtlasError } from '../errors.ts';
export { JsonLimitError, MAX_JSON_DEPTH, parseJson } from '../json/limits.ts';
export { defineAction, defineConnector } from './define.ts';
export { parseDuration } from './duration.ts';
export { ConnectorError } from './errors.ts';
export type * from './kb.ts';
export {
  assignedMailboxes,
  type Credential,
  credential,
  credentialMissing,
  mailAddress,
  platformMailbox,
} from './platform.ts';
export { raceSignal } from './race.ts';
export {
  type ActionEntry,
  type ConnectorRegistry,
  makeConnectorRegistry,
  type SchemaCheck,
  splitUses,
} from './registry.ts';
export {
  expectArray,
  expectNumber,
  expectRecord,
  expectString,
  isRecord,
  type JsonRecord,
  optionalString,
} from './response.ts';
export { describeErrors, type SchemaIssue } from './schema-errors.ts';
export { closest, didYouMean } from './suggest.ts';
export type * from './types.ts';
export { JOB_TYPES } from './types.ts';
export { SDK_VERSION } from './version.ts';
